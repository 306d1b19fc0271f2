import type { Upload } from '@discord-images/sdk';
import { parse, usageError } from '../args.js';
import { connect } from '../client.js';
import { formatBytes, formatDate, table } from '../format.js';

const HELP = `Usage: discord-images list [--limit N] [--search TEXT] [--json]

Lists your uploads, newest first, following every page.

Options:
  --limit N        at most N uploads (default: all)
  --search TEXT    only uploads whose name contains TEXT, in any case (1-100 characters)
  --json           the upload objects as one JSON array
`;

export async function run(args: string[]): Promise<number> {
  const parsed = parse(args, { limit: { type: 'string' }, search: { type: 'string' }, json: { type: 'boolean' } }, HELP);
  if (!parsed) return 0;
  if (parsed.positionals.length > 0) throw usageError(`list takes no arguments (got ${parsed.positionals.join(' ')}): see --help`);
  const limit = parsed.values.limit === undefined ? Infinity : Number(parsed.values.limit);
  if (!(Number.isInteger(limit) || limit === Infinity) || limit < 1)
    throw usageError(`--limit ${parsed.values.limit}: expected a whole number from 1`);
  const q = parsed.values.search;
  if (q !== undefined && (q.length < 1 || q.length > 100)) throw usageError('--search: expected 1 to 100 characters');
  const { di } = await connect();
  const uploads: Upload[] = [];
  if (limit > 0) {
    // Pages of at most 100 (the server's maximum), fewer when fewer are wanted.
    for await (const upload of di.uploads.list({ limit: Math.min(limit, 100), q })) {
      uploads.push(upload);
      if (uploads.length >= limit) break;
    }
  }
  if (parsed.values.json) {
    process.stdout.write(`${JSON.stringify(uploads, null, 2)}\n`);
    return 0;
  }
  if (uploads.length === 0) {
    process.stderr.write(q === undefined ? 'No uploads yet.\n' : `No upload's name contains ${JSON.stringify(q)}.\n`);
    return 0;
  }
  const rows = uploads.map((u) => [u.id, formatDate(u.created_at), formatBytes(u.size), `${u.width}x${u.height}`, u.name, u.url]);
  process.stdout.write(table(['ID', 'CREATED (UTC)', 'SIZE', 'PIXELS', 'NAME', 'URL'], rows));
  return 0;
}
