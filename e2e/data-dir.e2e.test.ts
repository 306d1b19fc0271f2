/**
 * DATA_DIR holds the database, and the database the key that signs every deletion link: the
 * real server (as npm start runs it) keeps all of it to its own user, and tightens a data
 * directory an earlier version left readable by others. Modes are read with fs.stat.
 */
import { chmod, mkdir, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { migrate, openDatabase } from '../server/src/db/database.js';
import { tempDir } from '../server/test/helpers/temp-dir.js';
import { register, type RunningServer, startServer, until } from './helpers/server.js';
import { pngImage, upload } from './helpers/uploads.js';

/** Each test starts the real server, which takes tens of seconds on a loaded machine. */
const START_BUDGET_MS = 120_000;

const modeOf = async (path: string) => ((await stat(path)).mode & 0o777).toString(8);

/** Every file and directory under `dir`, with its mode. */
async function modesUnder(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    const path = join(entry.parentPath, entry.name);
    out[path.slice(dir.length + 1)] = await modeOf(path);
  }
  return out;
}

describe('the data directory is private to the server', () => {
  let server: RunningServer | undefined;
  afterEach(async () => {
    await server?.stop('SIGKILL');
    server = undefined;
  });

  it(
    'a new DATA_DIR: the directory 0700, and the database (with -wal and -shm), stored files and thumbnails 0600',
    async () => {
      const dataDir = join(await tempDir(), 'data');
      server = await startServer({ DATA_DIR: dataDir });
      const token = await register(server.url);
      const [file] = await upload(server.url, token, [{ file: 'shot.png', bytes: await pngImage(64, 48, [30, 30, 30], [200, 40, 40]) }]);
      expect((await fetch(file!.thumbnail_url)).status).toBe(200);
      // The thumbnail is stored after it is served, through a temp file in tmp/ renamed into
      // place: walking the tree meanwhile would meet a file that is gone by the time of its stat.
      const storedFiles = async () =>
        (await readdir(join(dataDir, 'files'), { recursive: true, withFileTypes: true })).filter((entry) => entry.isFile()).length;
      await until(
        async () => (await readdir(join(dataDir, 'tmp'))).length === 0 && (await storedFiles()) >= 2,
        15_000,
        'the thumbnail stored',
      );

      expect(await modeOf(dataDir)).toBe('700');
      const modes = await modesUnder(dataDir);
      expect(Object.keys(modes)).toEqual(
        expect.arrayContaining(['discord-images.db', 'discord-images.db-wal', 'discord-images.db-shm', 'files', 'tmp']),
      );
      expect(Object.keys(modes).length).toBeGreaterThan(6); // the stored file, the thumbnail and their directories too
      for (const [path, mode] of Object.entries(modes)) {
        const isDir = (await stat(join(dataDir, path))).isDirectory();
        expect(mode, path).toBe(isDir ? '700' : '600');
      }
    },
    START_BUDGET_MS,
  );

  it(
    'an existing world-readable DATA_DIR and database are tightened at start, with a warning',
    async () => {
      const dataDir = join(await tempDir(), 'data');
      await mkdir(dataDir);
      // As an earlier version left them: a database made under the usual umask of 022.
      const database = openDatabase({ databaseUrl: undefined, dataDir });
      await migrate(database);
      await database.close();
      await chmod(dataDir, 0o755);
      await chmod(join(dataDir, 'discord-images.db'), 0o644);

      server = await startServer({ DATA_DIR: dataDir });
      expect(await modeOf(dataDir)).toBe('700');
      expect(await modeOf(join(dataDir, 'discord-images.db'))).toBe('600');
      expect(server.output()).toContain(`warning: ${dataDir} was readable by other users (mode 755); changed to 700`);
      expect(server.output()).toContain(
        `warning: ${join(dataDir, 'discord-images.db')} was readable by other users (mode 644); changed to 600`,
      );
      // SQLite's own files, made after the start, are private too.
      await register(server.url);
      expect(await modeOf(join(dataDir, 'discord-images.db-wal'))).toBe('600');
    },
    START_BUDGET_MS,
  );
});
