import { readFileSync } from 'node:fs';
import { parseEnv } from 'node:util';
import { ConfigError, type Env } from './config.js';

/**
 * The variables the configuration is read from: the environment over a `.env` file, if one
 * exists at `path` (Node's own format, as `node --env-file` reads it). A variable set in the
 * environment wins; an empty one counts as unset, as everywhere in the configuration, so the
 * file fills it. Nothing is written to `process.env`: cluster workers read the same file.
 */
export function withEnvFile(env: Env = process.env, path = '.env'): Env {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return env;
    throw new ConfigError(`${path} could not be read: ${(error as Error).message}`);
  }
  const set = Object.entries(env).filter(([, value]) => value !== undefined && value.trim() !== '');
  return { ...parseEnv(text), ...Object.fromEntries(set) };
}
