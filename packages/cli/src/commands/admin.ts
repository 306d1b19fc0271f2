import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type * as AdminModule from '../../../../server/src/admin.js';
import { parse, usageError } from '../args.js';
import { CliError } from '../errors.js';
import { formatBytes, formatDate, table } from '../format.js';
import { askHidden, readStdinText } from '../prompt.js';

const HELP = `Usage: discord-images admin <action> [options]

Works on the server's database directly, for when nobody can sign in. Run it on the
server, where the server is installed (its directory or the repository root), with the
server's configuration: DATABASE_URL, DATA_DIR (and the rest), from the environment or
from .env in the working directory, as the server reads them.

Actions:
  list-users [--json]                          every account, with its usage
  create-user <username> [--admin]             a new account (the first one is admin anyway)
  reset-password <username>                    a new password; ends the user's sessions
  set-role <username> <admin|user>             make or unmake an admin (never the last one)
  disable <username>                           refuse the account's sign-in, keys and sessions
  enable <username>                            let a disabled account back in

The password of create-user and reset-password is asked on a terminal (not echoed),
else read from stdin (one line), else given with --password (visible to other users
of the machine in the process list: avoid on shared machines).

Options:
  --admin               create-user: make the account an admin
  --password <secret>   the password, instead of asking
  --json                list-users: the accounts as a JSON array
`;

/**
 * The server's admin entry (server/dist/admin.js), found from the working directory first
 * (a server installation), then from this command's own location (the repository it was
 * installed in). The server's build script runs first: it rebuilds only when a source changed.
 */
async function loadServerAdmin(): Promise<typeof AdminModule> {
  let serverDir: string | undefined;
  for (const from of [join(process.cwd(), 'noop.js'), import.meta.url]) {
    try {
      serverDir = dirname(createRequire(from).resolve('@discord-images/server/package.json'));
      break;
    } catch {
      // not found from here
    }
  }
  if (!serverDir)
    throw new CliError(
      'the server package (@discord-images/server) is not installed here: admin works on the database of a server installation, so run it on the server, in its directory (after npm install)',
    );
  if (existsSync(join(serverDir, 'build.js'))) await import(pathToFileURL(join(serverDir, 'build.js')).href);
  const entry = join(serverDir, 'dist', 'admin.js');
  if (!existsSync(entry)) throw new CliError(`${entry} is missing: build the server (npm run build) first`);
  return (await import(pathToFileURL(entry).href)) as typeof AdminModule;
}

async function password(given: string | undefined, purpose: string): Promise<string> {
  if (given !== undefined) return given;
  if (process.stdin.isTTY) {
    const first = await askHidden(purpose);
    const again = await askHidden('The same again');
    if (first !== again) throw new CliError('the two passwords differ; nothing was changed', { exitCode: 2 });
    return first;
  }
  return readStdinText();
}

export async function run(args: string[]): Promise<number> {
  const parsed = parse(args, { admin: { type: 'boolean' }, password: { type: 'string' }, json: { type: 'boolean' } }, HELP);
  if (!parsed) return 0;
  const [action, ...rest] = parsed.positionals;
  const arity = (count: number, usage: string) => {
    if (rest.length !== count) throw usageError(`usage: discord-images admin ${action} ${usage}`);
  };
  if (action === undefined) throw usageError('admin needs an action: see discord-images admin --help');
  switch (action) {
    case 'list-users': {
      arity(0, '[--json]');
      const { withAdmin } = await loadServerAdmin();
      const users = await withAdmin((admin) => admin.listUsers());
      if (parsed.values.json) process.stdout.write(`${JSON.stringify(users, null, 2)}\n`);
      else
        process.stdout.write(
          table(
            ['ID', 'USERNAME', 'ROLE', 'CREATED (UTC)', 'FILES', 'STORED', 'ACCESS'],
            users.map((u) => [
              u.id,
              u.username,
              u.role,
              formatDate(u.created_at),
              String(u.usage.files),
              formatBytes(u.usage.bytes),
              u.disabled ? 'disabled' : 'enabled',
            ]),
          ),
        );
      return 0;
    }
    case 'create-user': {
      arity(1, '<username> [--admin]');
      const secret = await password(parsed.values.password, `Password for ${rest[0]}`);
      const { withAdmin } = await loadServerAdmin();
      const user = await withAdmin((admin) => admin.createUser(rest[0]!, secret, parsed.values.admin ? 'admin' : 'user'));
      process.stderr.write(`Created ${user.role} ${user.username} (${user.id})\n`);
      return 0;
    }
    case 'reset-password': {
      arity(1, '<username>');
      const secret = await password(parsed.values.password, `New password for ${rest[0]}`);
      const { withAdmin } = await loadServerAdmin();
      const user = await withAdmin((admin) => admin.resetPassword(rest[0]!, secret));
      process.stderr.write(`Password of ${user.username} changed; their sessions are ended (API keys still work)\n`);
      return 0;
    }
    case 'set-role': {
      arity(2, '<username> <admin|user>');
      const role = rest[1];
      if (role !== 'admin' && role !== 'user') throw usageError(`role ${role}: expected admin or user`);
      const { withAdmin } = await loadServerAdmin();
      const user = await withAdmin((admin) => admin.setRole(rest[0]!, role));
      process.stderr.write(`${user.username} is now ${user.role}\n`);
      return 0;
    }
    case 'disable':
    case 'enable': {
      arity(1, '<username>');
      const { withAdmin } = await loadServerAdmin();
      const user = await withAdmin((admin) => admin.setDisabled(rest[0]!, action === 'disable'));
      process.stderr.write(
        user.disabled
          ? `${user.username} is disabled: sign-in, keys and sessions answer 403 until enabled again\n`
          : `${user.username} is enabled\n`,
      );
      return 0;
    }
    default:
      throw usageError(`unknown admin action ${action}: see --help`);
  }
}
