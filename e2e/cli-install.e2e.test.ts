import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { png } from '../server/test/helpers/fixtures.js';
import { tempDir } from '../server/test/helpers/temp-dir.js';
import { assertCliBuilt, cli } from './helpers/cli.js';
import { register, ROOT, type RunningServer, startServer } from './helpers/server.js';
import { listUploads } from './helpers/uploads.js';

const run = promisify(execFile);
const VERSION = (JSON.parse(await readFile(join(ROOT, 'packages', 'cli', 'package.json'), 'utf8')) as { version: string }).version;

describe('installing the discord-images command', () => {
  let server: RunningServer;

  beforeAll(async () => {
    assertCliBuilt();
    server = await startServer({ DATA_DIR: await tempDir() });
  });
  afterAll(async () => {
    await server.stop('SIGKILL');
  });

  it('npx discord-images runs it from the repository after npm install', async () => {
    const { stdout } = await run('npx', ['--no-install', 'discord-images', '--version'], { cwd: ROOT });
    expect(stdout).toBe(`${VERSION}\n`);
  });

  it('installs globally from its tarball with nothing else, uploads, and says admin needs the server', async () => {
    const work = await tempDir();
    const { stdout: packed } = await run('npm', ['pack', join(ROOT, 'packages', 'cli'), '--pack-destination', work, '--json'], {
      cwd: work,
    });
    const tarball = join(work, (JSON.parse(packed) as { filename: string }[])[0]!.filename);
    const prefix = join(work, 'prefix');
    // --offline: the tarball must carry everything it runs (no registry is asked for the SDK).
    await run('npm', ['install', '-g', tarball, '--prefix', prefix, '--offline', '--no-audit', '--no-fund'], { cwd: work });
    const installed = join(prefix, 'bin', 'discord-images');
    const configHome = await tempDir();
    const options = { command: [installed], cwd: work, configHome };

    expect(await cli(['--version'], options)).toMatchObject({ code: 0, stdout: `${VERSION}\n` });
    const token = await register(server.url);
    await writeFile(join(work, 'shot.png'), await png());
    const uploaded = await cli(['upload', 'shot.png'], {
      ...options,
      env: { DISCORD_IMAGES_URL: server.url, DISCORD_IMAGES_TOKEN: token },
    });
    expect(uploaded.code, uploaded.stderr).toBe(0);
    expect(uploaded.stdout).toBe(`${(await listUploads(server.url, token))[0]!.url}\n`);

    const admin = await cli(['admin', 'list-users'], options);
    expect(admin.code).toBe(1);
    expect(admin.stderr).toBe(
      'discord-images: the server package (@discord-images/server) is not installed here: admin works on the database of a server installation, so run it on the server, in its directory (after npm install)\n',
    );
  });
});
