import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS, freshPostgresDatabase } from '../server/test/helpers/database.js';
import { tempDir } from '../server/test/helpers/temp-dir.js';
import { assertCliBuilt, cli } from './helpers/cli.js';
import { type RunningServer, startServer } from './helpers/server.js';

const signIn = async (url: string, username: string, password: string) =>
  (
    await fetch(`${url}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username, password }),
    })
  ).status;

describe.each(DIALECTS)('discord-images admin on %s', (dialect) => {
  let env: Record<string, string>;
  let configHome: string;
  let server: RunningServer;

  beforeAll(async () => {
    assertCliBuilt();
    configHome = await tempDir();
    env = { DATA_DIR: await tempDir(), ...(dialect === 'postgres' ? { DATABASE_URL: await freshPostgresDatabase('cli_admin') } : {}) };
    // Accounts made by the command before the server ever ran: it migrates the database itself.
    const created = await cli(['admin', 'create-user', 'Root', '--password', 'first password'], { configHome, env });
    expect(created.code, created.stderr).toBe(0);
    expect(created.stderr).toMatch(/^Created admin root \(\w+\)\n$/);
    server = await startServer({ ...env, REGISTRATION: 'closed' });
  });
  afterAll(async () => {
    await server?.stop('SIGKILL');
  });

  const admin = (args: string[], input?: string) => cli(['admin', ...args], { configHome, env, input });

  it('creates users the server then signs in, even with registration closed', async () => {
    expect(await signIn(server.url, 'root', 'first password')).toBe(200);
    const made = await admin(['create-user', 'carol'], 'carol password\n');
    expect(made.code, made.stderr).toBe(0);
    expect(made.stderr).toMatch(/^Created user carol /);
    expect(await signIn(server.url, 'carol', 'carol password')).toBe(200);

    const taken = await admin(['create-user', 'CAROL', '--password', 'whatever1']);
    expect(taken.code).toBe(1);
    expect(taken.stderr).toBe('discord-images: USERNAME_TAKEN: The username carol is taken.\n');
    const short = await admin(['create-user', 'dave', '--password', 'short']);
    expect(short.code).toBe(1);
    expect(short.stderr).toMatch(/^discord-images: VALIDATION_FAILED: The password must be 8 to 1024 characters long\.\n$/);
  });

  it('resets a password: the old one stops working, the new one works', async () => {
    await admin(['create-user', 'erin', '--password', 'old password']);
    const reset = await admin(['reset-password', 'erin'], 'new password\n');
    expect(reset.code, reset.stderr).toBe(0);
    expect(await signIn(server.url, 'erin', 'old password')).toBe(401);
    expect(await signIn(server.url, 'erin', 'new password')).toBe(200);
    const nobody = await admin(['reset-password', 'nobody'], 'new password\n');
    expect(nobody.code).toBe(1);
    expect(nobody.stderr).toBe('discord-images: NOT_FOUND: There is no user named nobody.\n');
  });

  it('sets roles, never demoting the last admin, and lists users', async () => {
    await admin(['create-user', 'frank', '--password', 'frank password']);
    const last = await admin(['set-role', 'root', 'user']);
    expect(last.code).toBe(1);
    expect(last.stderr).toBe('discord-images: FORBIDDEN: root is the only admin: make another user admin first.\n');
    expect((await admin(['set-role', 'frank', 'admin'])).code).toBe(0);
    const gina = await admin(['create-user', 'gina', '--admin', '--password', 'gina password']);
    expect(gina.stderr).toMatch(/^Created admin gina /);

    const listed = await admin(['list-users', '--json']);
    expect(listed.code, listed.stderr).toBe(0);
    const users = JSON.parse(listed.stdout) as { username: string; role: string; usage: { files: number } }[];
    expect(users.find((u) => u.username === 'frank')).toMatchObject({ role: 'admin', usage: { files: 0 } });
    expect(users.find((u) => u.username === 'gina')).toMatchObject({ role: 'admin' });
    expect(users[0]).toMatchObject({ username: 'root', role: 'admin' });

    const table = await admin(['list-users']);
    expect(table.stdout).toMatch(/^ID\s+USERNAME\s+ROLE\s+CREATED \(UTC\)\s+FILES\s+STORED\s+ACCESS\n/);
    expect(table.stdout).toMatch(/\s+frank\s+admin\s+.*\senabled\n/);
    expect((await admin(['set-role', 'frank', 'user'])).code).toBe(0);
    expect((await admin(['set-role', 'frank', 'owner'])).code).toBe(2);
  });

  it('disables an account (sign-in then answers 403) and enables it again', async () => {
    await admin(['create-user', 'hank', '--password', 'hank password']);
    const disabled = await admin(['disable', 'HANK']);
    expect(disabled.code, disabled.stderr).toBe(0);
    expect(disabled.stderr).toBe('hank is disabled: sign-in, keys and sessions answer 403 until enabled again\n');
    expect(await signIn(server.url, 'hank', 'hank password')).toBe(403);
    const listed = JSON.parse((await admin(['list-users', '--json'])).stdout) as { username: string; disabled: boolean }[];
    expect(listed.find((u) => u.username === 'hank')).toMatchObject({ disabled: true });
    expect((await admin(['list-users'])).stdout).toMatch(/\s+hank\s+user\s+.*\sdisabled\n/);

    expect((await admin(['enable', 'hank'])).stderr).toBe('hank is enabled\n');
    expect(await signIn(server.url, 'hank', 'hank password')).toBe(200);
    expect((await admin(['disable', 'nobody'])).stderr).toBe('discord-images: NOT_FOUND: There is no user named nobody.\n');
    expect((await admin(['enable'])).code).toBe(2);
  });

  it('says what is wrong with the configuration', async () => {
    const bad = await cli(['admin', 'list-users'], { configHome, env: { ...env, DATABASE_URL: 'mysql://nope' } });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toBe(
      'discord-images: invalid server configuration: DATABASE_URL=mysql://nope is not valid: expected a postgres:// or postgresql:// URL\n',
    );
  });
});
