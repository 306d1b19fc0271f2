import { parse, usageError } from '../args.js';
import { connect } from '../client.js';
import { configPath, normalizeUrl, readConfigFile, writeConfigFile } from '../config.js';
import { ask, askHidden } from '../prompt.js';

const HELP = `Usage: discord-images login [--url <server>] [--token <key>]

Checks the server URL and API key (GET /api/me) and stores them in
${configPath()} (mode 0600). On a terminal it asks for what
the options do not give; otherwise both options are needed.
DISCORD_IMAGES_URL and DISCORD_IMAGES_TOKEN, when set, win over the stored values.

Options:
  --url <server>   the server's address, e.g. https://img.example.com
  --token <key>    an API key (di_...): the one registration gave you, or discord-images keys create
`;

export async function run(args: string[]): Promise<number> {
  const parsed = parse(args, { url: { type: 'string' }, token: { type: 'string' } }, HELP);
  if (!parsed) return 0;
  if (parsed.positionals.length > 0) throw usageError(`login takes no arguments (got ${parsed.positionals.join(' ')}): see --help`);
  let { url, token } = parsed.values;
  if (url === undefined || token === undefined) {
    if (!process.stdin.isTTY)
      throw usageError('login needs --url and --token when stdin is not a terminal (or set DISCORD_IMAGES_URL and DISCORD_IMAGES_TOKEN)');
    const stored = await readConfigFile();
    url ??= await ask('Server URL', stored.url ?? 'http://localhost:3000');
    token ??= await askHidden('API key (di_...)');
  }
  const settings = { url: normalizeUrl(url), token: token.trim() };
  const { di } = await connect(settings);
  const me = await di.me();
  await writeConfigFile(settings);
  process.stderr.write(`Signed in to ${settings.url} as ${me.username}; saved to ${configPath()}\n`);
  return 0;
}
