/**
 * The entry: reads the command name and loads only that command's module (and, through it,
 * the SDK), so `--version` and `--help` cost little more than starting Node.
 */
import { CliError, reportFailure } from './errors.js';

declare const CLI_VERSION: string;

export interface Command {
  /** Runs the command with the arguments after its name; resolves to the exit code. */
  run(args: string[]): Promise<number>;
}

const COMMANDS: Record<string, { summary: string; load: () => Promise<Command> }> = {
  login: { summary: 'store the server URL and API key', load: () => import('./commands/login.js') },
  upload: { summary: 'upload images, print their links', load: () => import('./commands/upload.js') },
  list: { summary: 'list your uploads', load: () => import('./commands/list.js') },
  delete: { summary: 'delete uploads by id', load: () => import('./commands/delete.js') },
  keys: { summary: 'list, create or revoke API keys', load: () => import('./commands/keys.js') },
  invites: { summary: 'list, create or revoke invite codes (admin)', load: () => import('./commands/invites.js') },
  sharex: { summary: 'print a ShareX custom uploader (.sxcu)', load: () => import('./commands/sharex.js') },
  open: { summary: "open an upload's share page in the browser", load: () => import('./commands/open.js') },
  admin: { summary: "manage accounts in the server's database", load: () => import('./commands/admin.js') },
};

const HELP = `Usage: discord-images <command> [options]

Commands:
${Object.entries(COMMANDS)
  .map(([name, { summary }]) => `  ${name.padEnd(8)} ${summary}`)
  .join('\n')}

Options:
  -h, --help     show help (also after a command: discord-images upload --help)
  -v, --version  print the version

The server and key come from DISCORD_IMAGES_URL and DISCORD_IMAGES_TOKEN, else from
$XDG_CONFIG_HOME/discord-images/config.json (~/.config/discord-images/), written by login.
`;

async function main(args: string[]): Promise<number> {
  const [name, ...rest] = args;
  if (name === '--version' || name === '-v') {
    process.stdout.write(`${CLI_VERSION}\n`);
    return 0;
  }
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(HELP);
    return name === undefined ? 2 : 0;
  }
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!command) throw new CliError(`unknown command ${name}: see discord-images --help`, { exitCode: 2 });
  return (await command.load()).run(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.exitCode = reportFailure(error);
  },
);
