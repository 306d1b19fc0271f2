import { parse, usageError } from '../args.js';
import { connect } from '../client.js';
import { forEachId } from '../errors.js';
import { formatDate, table } from '../format.js';

const HELP = `Usage: discord-images keys list [--json]
       discord-images keys create <name> [--json]
       discord-images keys revoke <id...>

API keys of your account. create prints the new key on stdout: it is shown only
this once. revoke ends a key at once (ids are in keys list).

Options:
  --json   list: the key objects as a JSON array; create: {"key": {...}, "token": "di_..."}
`;

export async function run(args: string[]): Promise<number> {
  const parsed = parse(args, { json: { type: 'boolean' } }, HELP);
  if (!parsed) return 0;
  const [action, ...rest] = parsed.positionals;
  if (action === undefined) throw usageError('keys needs list, create or revoke: see --help');
  switch (action) {
    case 'list': {
      if (rest.length > 0) throw usageError('keys list takes no arguments');
      const { di } = await connect();
      const keys = await di.keys.list();
      if (parsed.values.json) process.stdout.write(`${JSON.stringify(keys, null, 2)}\n`);
      else
        process.stdout.write(
          table(
            ['ID', 'NAME', 'KEY', 'CREATED (UTC)', 'LAST USED'],
            keys.map((k) => [k.id, k.name, `${k.hint}`, formatDate(k.created_at), k.last_used_at ? formatDate(k.last_used_at) : 'never']),
          ),
        );
      return 0;
    }
    case 'create': {
      if (rest.length !== 1) throw usageError('keys create needs one name, e.g. discord-images keys create "laptop"');
      const { di } = await connect();
      const created = await di.keys.create(rest[0]!);
      if (parsed.values.json) process.stdout.write(`${JSON.stringify(created, null, 2)}\n`);
      else {
        process.stdout.write(`${created.token}\n`);
        if (process.stderr.isTTY)
          process.stderr.write(`Key ${created.key.id} (${created.key.name}) created: copy it now, it is not shown again.\n`);
      }
      return 0;
    }
    case 'revoke': {
      if (rest.length === 0) throw usageError('keys revoke needs at least one key id (see discord-images keys list)');
      const { di } = await connect();
      return forEachId(rest, (id) => di.keys.revoke(id));
    }
    default:
      throw usageError(`unknown keys action ${action}: see --help`);
  }
}
