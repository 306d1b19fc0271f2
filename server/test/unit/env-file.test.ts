/** `.env` beside the environment (src/config/env-file.ts), read from a real file. */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/config.js';
import { withEnvFile } from '../../src/config/env-file.js';
import { tempDir } from '../helpers/temp-dir.js';

async function envFile(text: string): Promise<string> {
  const path = join(await tempDir(), '.env');
  await writeFile(path, text);
  return path;
}

describe('.env', () => {
  it('supplies the variables the environment does not set, in Node’s format', async () => {
    const path = await envFile('# a comment\nPUBLIC_URL="https://img.example.test"\nexport MAX_FILES=7\nPORT=8080\n');
    const config = loadConfig(withEnvFile({ PORT: '9090' }, path));
    expect(config).toMatchObject({ publicUrl: 'https://img.example.test', maxFiles: 7, port: 9090 });
  });

  it('lets a variable set in the environment win, and fills one set empty', async () => {
    const path = await envFile('REGISTRATION=closed\nLOG_LEVEL=debug\n');
    expect(withEnvFile({ REGISTRATION: 'open', LOG_LEVEL: ' ' }, path)).toMatchObject({ REGISTRATION: 'open', LOG_LEVEL: 'debug' });
  });

  it('is optional, and a bad value in it is reported like any other', async () => {
    const env = { PORT: '3001' };
    expect(withEnvFile(env, join(await tempDir(), '.env'))).toBe(env);
    const bad = await envFile('REGISTRATION=maybe\n');
    expect(() => loadConfig(withEnvFile({}, bad))).toThrowError(/^REGISTRATION=maybe is not valid/);
  });

  it('names the file when it cannot be read', async () => {
    const directory = await tempDir(); // exists, but is no file
    expect(() => withEnvFile({}, directory)).toThrowError(ConfigError);
    expect(() => withEnvFile({}, directory)).toThrowError(`${directory} could not be read: EISDIR`);
  });
});
