import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../server/test/helpers/temp-dir.js';
import { assertCliBuilt, cli, type CliOptions } from './helpers/cli.js';
import { register, type RunningServer, startServer } from './helpers/server.js';

interface Invite {
  id: string;
  code: string;
  max_uses: number;
  uses: number;
  expires_at: string | null;
  created_by: string;
}

const DAY_MS = 24 * 3600 * 1000;

/** Signs up at the server with an invite code; answers the status. */
const signUp = async (url: string, invite: string) =>
  (
    await fetch(`${url}/api/auth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: `u${Math.random().toString(36).slice(2, 10)}`, password: 'correct horse battery', invite }),
    })
  ).status;

describe('discord-images invites against a server with REGISTRATION=invite', () => {
  let server: RunningServer;
  let admin: CliOptions;

  beforeAll(async () => {
    assertCliBuilt();
    server = await startServer({ DATA_DIR: await tempDir(), REGISTRATION: 'invite' });
    // The first account needs no invite, and is the admin.
    admin = {
      configHome: await tempDir(),
      env: { DISCORD_IMAGES_URL: server.url, DISCORD_IMAGES_TOKEN: await register(server.url, 'root') },
    };
  }, 120_000);
  afterAll(async () => {
    await server?.stop('SIGKILL');
  });

  const list = async (): Promise<Invite[]> => {
    const listed = await cli(['invites', 'list', '--json'], admin);
    expect(listed.code, listed.stderr).toBe(0);
    return JSON.parse(listed.stdout) as Invite[];
  };

  it('create prints a single-use code for 7 days that signs one person up; list shows its use', async () => {
    const created = await cli(['invites', 'create'], admin);
    expect(created.code, created.stderr).toBe(0);
    const code = created.stdout.trim();
    expect(code).toMatch(/^[0-9A-Za-z]{24}$/);
    const invite = (await list()).find((listed) => listed.code === code)!;
    expect(invite).toMatchObject({ max_uses: 1, uses: 0, created_by: 'root' });
    expect(Date.parse(invite.expires_at!) - Date.now()).toBeGreaterThan(7 * DAY_MS - 60_000);

    expect(await signUp(server.url, code)).toBe(201);
    expect(await signUp(server.url, code)).toBe(403);
    const table = await cli(['invites', 'list'], admin);
    expect(table.stdout.split('\n')[0]).toMatch(/^ID\s+CODE\s+USES\s+EXPIRES \(UTC\)\s+CREATED \(UTC\)\s+BY$/);
    expect(table.stdout).toMatch(new RegExp(`^${invite.id}\\s+${code}\\s+1/1\\s+\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d\\s.*\\sroot$`, 'm'));
  });

  it('create takes --uses and --expires-days (a number or never), and refuses bad values with exit 2', async () => {
    const created = await cli(['invites', 'create', '--uses', '3', '--expires-days', 'never', '--json'], admin);
    expect(created.code, created.stderr).toBe(0);
    expect(JSON.parse(created.stdout)).toMatchObject({ max_uses: 3, uses: 0, expires_at: null });
    const month = JSON.parse((await cli(['invites', 'create', '--expires-days', '30', '--json'], admin)).stdout) as Invite;
    expect(Date.parse(month.expires_at!) - Date.now()).toBeGreaterThan(30 * DAY_MS - 60_000);
    expect((await cli(['invites', 'list'], admin)).stdout).toMatch(new RegExp(`^${JSON.parse(created.stdout).id}\\s.*\\snever\\s`, 'm'));

    for (const args of [
      ['--uses', '0'],
      ['--uses', '10001'],
      ['--uses', 'two'],
      ['--expires-days', '366'],
      ['--expires-days', 'soon'],
    ]) {
      const bad = await cli(['invites', 'create', ...args], admin);
      expect(bad.code, args.join(' ')).toBe(2);
      expect(bad.stderr).toMatch(/expected a whole number from 1 to/);
    }
    expect((await cli(['invites', 'list', '--uses', '2'], admin)).code).toBe(2);
    expect((await cli(['invites'], admin)).code).toBe(2);
  });

  it('revoke ends codes at once; an unknown id is named and exits 1', async () => {
    const code = (await cli(['invites', 'create', '--uses', '5'], admin)).stdout.trim();
    const { id } = (await list()).find((listed) => listed.code === code)!;
    const revoked = await cli(['invites', 'revoke', id], admin);
    expect(revoked).toMatchObject({ code: 0, stderr: '' });
    expect(await signUp(server.url, code)).toBe(403);
    expect((await list()).some((listed) => listed.id === id)).toBe(false);

    const again = await cli(['invites', 'revoke', id], admin);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(new RegExp(`^discord-images: ${id}: INVITE_NOT_FOUND \\(404\\): .+\\n$`));
  });

  it("needs an admin's key: a user's gets FORBIDDEN", async () => {
    const code = (await cli(['invites', 'create'], admin)).stdout.trim();
    const response = await fetch(`${server.url}/api/auth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'plainuser', password: 'correct horse battery', invite: code }),
    });
    const { token } = (await response.json()) as { token: string };
    const user = { configHome: await tempDir(), env: { DISCORD_IMAGES_URL: server.url, DISCORD_IMAGES_TOKEN: token } };
    const refused = await cli(['invites', 'list'], user);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^discord-images: FORBIDDEN \(403\): Only an admin can manage invites\.\n$/);
  });
});
