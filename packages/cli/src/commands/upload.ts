import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Upload } from '@discord-images/sdk';
import { parse, usageError } from '../args.js';
import { connect } from '../client.js';
import { CliError, INTERRUPTED, reportFailure } from '../errors.js';
import { ProgressBars } from '../progress.js';

const HELP = `Usage: discord-images upload <file|glob|->... [options]

Uploads images and prints each share link on its own line, in the order given:
  discord-images upload shot.png | xclip -selection clipboard
  grim - | discord-images upload -            (- reads one image from stdin)
  discord-images upload 'shots/*.png' --raw   (globs are expanded here too)

All files go in one request, so an upload is all or nothing: when one file is
refused (not an image, too large...), nothing is stored and the file is named on
stderr. The server's MAX_FILES (20 by default) bounds the files per command.
Ctrl+C stops the upload and leaves nothing on the server.

Options:
  --raw                 print the raw image URLs instead of the share pages
  --json                print the upload objects as a JSON array
  --title <text>        embed title for these uploads (placeholders such as {file.name} work)
  --description <text>  embed description
  --site-name <text>    embed site name (the small line above the title)
  --author <text>       embed author
  --author-url <url>    link of the embed author
  --color <#rrggbb|auto> embed colour
`;

const EMBED_OPTIONS = ['title', 'description', 'site-name', 'author', 'author-url', 'color'] as const;

interface Input {
  /** As the user named it, for messages. */
  label: string;
  /** A path, or stdin's bytes. */
  data: string | Buffer;
  name: string;
  size: number;
}

const hasGlob = (pattern: string) => /[*?[\]{}!]/.test(pattern);

/** Every argument as files, in order; a problem with any of them stops everything before a byte is sent. */
async function resolveInputs(args: string[]): Promise<Input[]> {
  const inputs: Input[] = [];
  const problems: CliError[] = [];
  let stdinUsed = false;
  for (const arg of args) {
    if (arg === '-') {
      if (stdinUsed) {
        problems.push(new CliError('stdin can be read only once', { file: '-', exitCode: 2 }));
        continue;
      }
      stdinUsed = true;
      const input = await readStdin();
      if (input instanceof CliError) problems.push(input);
      else inputs.push(input);
      continue;
    }
    const info = await stat(arg).catch(() => undefined);
    if (info?.isDirectory()) {
      problems.push(new CliError('is a directory, not an image (use a glob such as dir/*.png)', { file: arg }));
      continue;
    }
    if (info?.isFile()) {
      inputs.push({ label: arg, data: arg, name: basename(arg), size: info.size });
      continue;
    }
    if (!hasGlob(arg)) {
      problems.push(new CliError('no such file', { file: arg }));
      continue;
    }
    const { glob } = await import('tinyglobby');
    const matches = (await glob(arg, { onlyFiles: true, expandDirectories: false, absolute: false })).sort();
    if (matches.length === 0) problems.push(new CliError('no file matches this pattern', { file: arg }));
    for (const path of matches) inputs.push({ label: path, data: path, name: basename(path), size: (await stat(path)).size });
  }
  if (problems.length > 0) {
    for (const problem of problems.slice(0, -1)) reportFailure(problem);
    throw problems.at(-1)!;
  }
  return inputs;
}

async function readStdin(): Promise<Input | CliError> {
  if (process.stdin.isTTY)
    return new CliError('stdin is a terminal: pipe an image in, e.g. grim - | discord-images upload -', { file: '-', exitCode: 2 });
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  const data = Buffer.concat(chunks);
  if (data.length === 0) return new CliError('stdin is empty: nothing to upload', { file: '-' });
  return { label: '-', data, name: 'stdin', size: data.length };
}

export async function run(args: string[]): Promise<number> {
  const parsed = parse(
    args,
    {
      raw: { type: 'boolean' },
      json: { type: 'boolean' },
      ...Object.fromEntries(EMBED_OPTIONS.map((name) => [name, { type: 'string' as const }])),
    },
    HELP,
  );
  if (!parsed) return 0;
  if (parsed.positionals.length === 0) throw usageError('upload needs at least one file, glob or - (stdin): see --help');
  if (parsed.values.raw && parsed.values.json) throw usageError('--raw and --json do not go together');
  const values = parsed.values as Record<string, string | boolean | undefined>;
  const embed = Object.fromEntries(
    EMBED_OPTIONS.filter((name) => typeof values[name] === 'string').map((name) => [name.replace('-', '_'), values[name] as string]),
  );

  const { di } = await connect();
  const inputs = await resolveInputs(parsed.positionals);
  const bars = process.stderr.isTTY ? new ProgressBars(inputs.map(({ name, size }) => ({ name, size }))) : undefined;

  // Ctrl+C: while bytes are still going out, aborting the request leaves the server nothing
  // to store. Once all were sent the server may be storing them already, so the command
  // waits for its answer and deletes what it stored. A second Ctrl+C leaves at once.
  const abort = new AbortController();
  let progress = { loaded: 0, total: 1 };
  let interrupted = false;
  const onSigint = () => {
    if (interrupted) process.exit(INTERRUPTED);
    interrupted = true;
    process.stderr.write('\ndiscord-images: interrupted, the upload is cancelled (Ctrl+C again to leave at once)\n');
    if (progress.loaded < progress.total) abort.abort();
  };
  process.on('SIGINT', onSigint);

  let files: Upload[];
  try {
    files = await di.upload(
      inputs.map(({ data, name }) => ({ data, name })),
      {
        signal: abort.signal,
        embed: Object.keys(embed).length > 0 ? embed : undefined,
        onProgress: (event) => {
          // A total is always known here (paths and stdin's bytes have sizes).
          progress = { loaded: event.loaded, total: event.total ?? Infinity };
          bars?.update(progress.loaded, progress.total);
        },
      },
    );
  } catch (error) {
    if (interrupted) return INTERRUPTED;
    // The server names a refused part files[<index>]; the line names the file as the user gave it.
    const index = /files\[(\d+)\]/.exec((error as Error).message ?? '')?.[1];
    const file = index === undefined ? (inputs.length === 1 ? inputs[0]!.label : undefined) : inputs[Number(index)]?.label;
    return reportFailure(error, file);
  } finally {
    process.off('SIGINT', onSigint);
  }
  if (interrupted) {
    await Promise.all(files.map((file) => di.uploads.delete(file.id)));
    return INTERRUPTED;
  }
  if (parsed.values.json) process.stdout.write(`${JSON.stringify(files, null, 2)}\n`);
  else process.stdout.write(files.map((file) => `${parsed.values.raw ? file.raw_url : file.url}\n`).join(''));
  return 0;
}
