import { sharexUploader } from '@discord-images/sdk';
import { parse, usageError } from '../args.js';
import { connect } from '../client.js';

const HELP = `Usage: discord-images sharex [--new-key [--name <name>]] > server.sxcu

Prints a ShareX custom uploader (.sxcu, as in docs/sharex.md) for the configured
server and key. Double-click the saved file to import it into ShareX.

Options:
  --new-key       put a new API key in it (made for ShareX alone, so it can be revoked alone)
  --name <name>   the new key's name (default "ShareX")
`;

export async function run(args: string[]): Promise<number> {
  const parsed = parse(args, { 'new-key': { type: 'boolean' }, name: { type: 'string' } }, HELP);
  if (!parsed) return 0;
  if (parsed.positionals.length > 0) throw usageError(`sharex takes no arguments (got ${parsed.positionals.join(' ')}): see --help`);
  if (parsed.values.name !== undefined && !parsed.values['new-key']) throw usageError('--name goes with --new-key');
  const { di, settings } = await connect();
  let token = settings.token;
  if (parsed.values['new-key']) token = (await di.keys.create(parsed.values.name ?? 'ShareX')).token;
  else await di.me(); // a key the server refuses would make a config that cannot upload
  const sxcu = sharexUploader({ baseUrl: settings.url, token });
  process.stdout.write(`${JSON.stringify(sxcu, null, 2)}\n`);
  return 0;
}
