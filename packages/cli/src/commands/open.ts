import { spawn } from 'node:child_process';
import { parse, usageError } from '../args.js';
import { connect } from '../client.js';
import { CliError } from '../errors.js';

const HELP = `Usage: discord-images open <id>

Opens the upload's share page in your browser: $BROWSER when set (a command; %s
stands for the URL), else xdg-open (Linux) or open (macOS). Prints the URL too.
`;

/** The command that opens a URL here: $BROWSER (its first entry, as a shell command), else the system's opener. */
function opener(url: string): { command: string; args: string[] } {
  const browser = process.env.BROWSER?.split(':')[0]?.trim();
  // The URL goes in as "$1", never into the command text, so nothing in it is run by the shell.
  if (browser)
    return { command: 'sh', args: ['-c', browser.includes('%s') ? browser.replaceAll('%s', '"$1"') : `${browser} "$1"`, 'sh', url] };
  if (process.platform === 'darwin') return { command: 'open', args: [url] };
  if (process.platform === 'win32') return { command: 'cmd', args: ['/c', 'start', '""', url] };
  return { command: 'xdg-open', args: [url] };
}

export async function run(args: string[]): Promise<number> {
  const parsed = parse(args, {}, HELP);
  if (!parsed) return 0;
  if (parsed.positionals.length !== 1) throw usageError('open needs one upload id: see --help');
  const { di } = await connect();
  const upload = await di.uploads.get(parsed.positionals[0]!);
  process.stdout.write(`${upload.url}\n`);
  const { command, args: commandArgs } = opener(upload.url);
  const child = spawn(command, commandArgs, { stdio: 'ignore', detached: true });
  // Started is enough: a browser may keep running long after, and the command must not wait for it.
  await new Promise<void>((resolve, reject) => {
    child.once('error', (error) => reject(new CliError(`could not start ${command} to open the page (${error.message}): set BROWSER`)));
    child.once('spawn', () => resolve());
  });
  child.unref();
  return 0;
}
