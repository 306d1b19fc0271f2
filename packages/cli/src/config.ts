import { chmod, mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { CliError } from './errors.js';

/** Where the command reaches the server, and with which key. */
export interface Settings {
  /** The server's address, without a trailing slash. */
  url: string;
  /** An API key (`di_…`). */
  token: string;
}

/** `$XDG_CONFIG_HOME/discord-images/config.json`, @default `~/.config/discord-images/config.json` */
export function configPath(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CONFIG_HOME?.trim() ? env.XDG_CONFIG_HOME : join(homedir(), '.config');
  return join(base, 'discord-images', 'config.json');
}

/** The stored settings, or an empty object when there is no file. Warns when others may read it. */
export async function readConfigFile(path = configPath()): Promise<Partial<Settings>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new CliError(`${path} could not be read: ${(error as Error).message}`);
  }
  const { mode } = await stat(path);
  if ((mode & 0o077) !== 0)
    process.stderr.write(
      `discord-images: warning: ${path} holds your API key and others can access it (mode ${(mode & 0o777).toString(8)}): run chmod 600 ${path}\n`,
    );
  try {
    const parsed = JSON.parse(text) as Partial<Settings>;
    return {
      url: typeof parsed.url === 'string' ? parsed.url : undefined,
      token: typeof parsed.token === 'string' ? parsed.token : undefined,
    };
  } catch {
    throw new CliError(`${path} is not valid JSON: run discord-images login again`);
  }
}

/** DISCORD_IMAGES_URL and DISCORD_IMAGES_TOKEN over the config file, each on its own. */
export async function loadSettings(env: NodeJS.ProcessEnv = process.env): Promise<Settings> {
  const fromEnv = { url: env.DISCORD_IMAGES_URL?.trim() || undefined, token: env.DISCORD_IMAGES_TOKEN?.trim() || undefined };
  const stored = fromEnv.url && fromEnv.token ? {} : await readConfigFile(configPath(env));
  const url = fromEnv.url ?? stored.url;
  const token = fromEnv.token ?? stored.token;
  if (!url || !token)
    throw new CliError(
      `no ${!url ? 'server URL' : 'API key'} configured: run discord-images login, or set DISCORD_IMAGES_URL and DISCORD_IMAGES_TOKEN`,
    );
  return { url: normalizeUrl(url), token };
}

export function normalizeUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new CliError(`${url} is not a URL: expected something like https://img.example.com`, { exitCode: 2 });
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
    throw new CliError(`${url} is not an http:// or https:// URL`, { exitCode: 2 });
  return parsed.href.replace(/\/+$/, '');
}

/** Writes the file readable by its owner only (0600, in a 0700 directory), replacing it whole. */
export async function writeConfigFile(settings: Settings, path = configPath()): Promise<void> {
  const dir = dirname(path);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
  const temp = `${path}.${process.pid}.tmp`;
  await writeFile(temp, `${JSON.stringify(settings, null, 2)}\n`, { mode: 0o600 });
  await chmod(temp, 0o600);
  await rename(temp, path);
}
