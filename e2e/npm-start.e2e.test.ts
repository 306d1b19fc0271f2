/**
 * `npm start` as a newcomer meets it, in a copy of the repository: the copy has a dist/ of its
 * own, so the build can be watched (and a source changed) without touching the working tree
 * that other tests run from. The copy shares the real node_modules through a symlink.
 */
import { execFile } from 'node:child_process';
import { cp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify, stripVTControlCharacters } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../server/test/helpers/temp-dir.js';
import { ROOT, type RunningServer, startServer, until } from './helpers/server.js';

const run = promisify(execFile);

/** What the start script needs: the root and server manifests, the lockfile, the build script and sources. */
const COPIED = [
  'package.json',
  'package-lock.json',
  'server/package.json',
  'server/build.js',
  'server/bundle.js',
  'scripts/build-stamp.js',
  'server/src',
];

describe('npm start', () => {
  let copy: string;
  /** When the build last wrote main.js: unchanged means nothing was built. */
  const built = async () => (await stat(join(copy, 'server/dist/main.js'))).mtimeMs;

  /**
   * `npm start` in the copy, waiting until the banner is out (it follows the listen). With
   * `terminal`, its output is a pseudo-terminal's (util-linux `script`), as when a person runs it.
   */
  async function npmStart(env: Record<string, string>, terminal = false): Promise<RunningServer> {
    const command = `cd '${copy}' && exec npm start --silent`;
    const server = await startServer(
      { DATA_DIR: await tempDir(), ...env },
      terminal ? ['script', '--quiet', '--return', '--command', command, '/dev/null'] : ['sh', '-c', command],
    );
    await until(() => server.output().includes('Discord Images is ready'), 15_000, 'the banner');
    return server;
  }

  beforeAll(async () => {
    copy = await tempDir();
    for (const path of COPIED) await cp(join(ROOT, path), join(copy, path), { recursive: true });
    await symlink(join(ROOT, 'node_modules'), join(copy, 'node_modules'));
    // The first, full build (about a second): what every later start skips.
    await run('npm', ['run', 'build', '--silent'], { cwd: copy, timeout: 300_000 });
  }, 330_000);

  it('says where it listens, the links it hands out and the next step, and warns about localhost links', async () => {
    const before = await built();
    // PUBLIC_URL empty = unset: links default to http://localhost:<PORT>, on every interface.
    const server = await npmStart({ HOST: '0.0.0.0', PUBLIC_URL: '' });
    try {
      const output = server.output();
      expect(output).toContain(`Listening on  http://0.0.0.0:${server.port} (every network interface)`);
      expect(output).toContain(`Links use     http://localhost:${server.port} (PUBLIC_URL)`);
      expect(output).toContain(`curl -X POST http://localhost:${server.port}/api/auth/register`);
      expect(output).toMatch(
        /^Warning: PUBLIC_URL is http:\/\/localhost:\d+, a loopback address, but the server listens on every network interface/m,
      );
      expect(await built()).toEqual(before); // nothing changed since the build: not compiled again
    } finally {
      await server.stop('SIGKILL');
    }
  }, 120_000);

  it('reads .env, where the environment wins, and warns of nothing when the links are public', async () => {
    await writeFile(join(copy, '.env'), 'PUBLIC_URL=https://img.example.test\nHOST=0.0.0.0\n');
    // HOST=127.0.0.1 comes from the environment (startServer); PUBLIC_URL is left to the file.
    const server = await npmStart({ PUBLIC_URL: '' });
    try {
      const output = server.output();
      expect(output).toContain(`Listening on  http://127.0.0.1:${server.port}\n`);
      expect(output).toContain('Links use     https://img.example.test (PUBLIC_URL)');
      expect(output).not.toContain('Warning');
    } finally {
      await server.stop('SIGKILL');
      await rm(join(copy, '.env'));
    }
  }, 120_000);

  it('writes JSON lines to a pipe, and lines for a person (pino-pretty, from the bundle) to a terminal', async () => {
    for (const terminal of [false, true]) {
      const server = await npmStart({ LOG_LEVEL: 'info' }, terminal);
      try {
        const answer = await fetch(`${server.url}/healthz`);
        const id = answer.headers.get('x-request-id')!;
        const lines = () =>
          server
            .output()
            .split(/\r?\n/)
            .filter((line) => line.includes(id));
        await until(() => lines().length === 2, 15_000, 'the request log');
        if (terminal) {
          // "[08:12:43.285] INFO: request completed {"reqId":"...", ...}", coloured where the terminal has colours.
          for (const line of lines())
            expect(stripVTControlCharacters(line)).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] .*INFO.*: .*(incoming request|request completed)/);
        } else {
          for (const line of lines()) expect(JSON.parse(line)).toMatchObject({ level: 30, reqId: id });
        }
      } finally {
        await server.stop('SIGKILL');
      }
    }
  }, 120_000);

  // Leaves the copy changed and built, which the other tests do not mind, in any order.
  it('compiles again when a source changed, and runs what changed', async () => {
    const source = join(copy, 'server/src/startup-banner.ts');
    await writeFile(source, (await readFile(source, 'utf8')).replace('Discord Images is ready.', 'Discord Images is ready (changed).'));
    const server = await npmStart({});
    try {
      expect(server.output()).toContain('Discord Images is ready (changed).');
    } finally {
      await server.stop('SIGKILL');
    }
  }, 120_000);
});
