import { parse, usageError } from '../args.js';
import { connect } from '../client.js';
import { forEachId } from '../errors.js';

const HELP = `Usage: discord-images delete <id...>

Deletes your uploads by id (the last part of their links; see discord-images list).
Each id that cannot be deleted gets a line on stderr, and the exit code is then 1.
`;

export async function run(args: string[]): Promise<number> {
  const parsed = parse(args, {}, HELP);
  if (!parsed) return 0;
  if (parsed.positionals.length === 0) throw usageError('delete needs at least one upload id: see --help');
  const { di } = await connect();
  return forEachId(parsed.positionals, (id) => di.uploads.delete(id));
}
