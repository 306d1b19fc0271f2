/**
 * Runs the real built `discord-images` command (packages/cli/bin, which loads dist/) as a
 * user's shell would: its own process, a clean environment, a config directory of its own.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './server.js';

export const CLI_BIN = join(ROOT, 'packages', 'cli', 'bin', 'discord-images.js');
const CLI_DIR = join(ROOT, 'packages', 'cli');

/**
 * The tests run what `npm install` built (the root prepare script). Building here would race
 * between test files running at once; a build older than a source is refused instead.
 */
export function assertCliBuilt(): void {
  const built = join(CLI_DIR, 'dist', 'cli.js');
  let builtAt: number;
  try {
    builtAt = statSync(built).mtimeMs;
  } catch {
    throw new Error(`${built} is missing: run npm install (or npm run build -w @discord-images/cli)`);
  }
  const newest = (dir: string): number =>
    Math.max(
      0,
      ...readdirSync(dir, { withFileTypes: true }).map((entry) =>
        entry.isDirectory() ? newest(join(dir, entry.name)) : statSync(join(dir, entry.name)).mtimeMs,
      ),
    );
  if (newest(join(CLI_DIR, 'src')) > builtAt)
    throw new Error(`${built} is older than packages/cli/src: run npm run build -w @discord-images/cli`);
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  /** Added to a clean environment (PATH, HOME and XDG_CONFIG_HOME only). */
  env?: Record<string, string | undefined>;
  /** Written to stdin, then closed; stdin is empty (closed at once) when undefined. */
  input?: Buffer | string;
  cwd?: string;
  /** The configuration directory's parent (XDG_CONFIG_HOME). */
  configHome: string;
  /** Another way to run the command (an installed copy); @default node packages/cli/bin/discord-images.js */
  command?: string[];
}

export function startCli(args: string[], options: CliOptions): { child: ChildProcess; done: Promise<CliResult> } {
  const [command, ...prefix] = options.command ?? [process.execPath, CLI_BIN];
  const child = spawn(command!, [...prefix, ...args], {
    cwd: options.cwd ?? ROOT,
    env: { PATH: process.env.PATH, HOME: options.configHome, XDG_CONFIG_HOME: options.configHome, ...options.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdin.on('error', () => {}); // a command that exits before reading all of it
  child.stdin.end(options.input);
  const done = once(child, 'close').then(([code, signal]) => ({
    code: code as number | null,
    signal: signal as NodeJS.Signals | null,
    stdout,
    stderr,
  }));
  return { child, done };
}

export function cli(args: string[], options: CliOptions): Promise<CliResult> {
  return startCli(args, options).done;
}
