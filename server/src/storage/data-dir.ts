import { chmod, mkdir, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * The server's files are its user's alone: DATA_DIR holds the database, and the database the
 * key that signs every deletion link (and password hashes, and session and API key hashes).
 * main.ts sets this umask first, so everything created afterwards (the SQLite file and its
 * -wal/-shm, stored files, thumbnails, temp files) is 0600, and directories 0700.
 */
export const PRIVATE_UMASK = 0o077;

/** The SQLite file and the files SQLite keeps beside it (db/database.ts names it). */
const DATABASE_FILES = ['discord-images.db', 'discord-images.db-wal', 'discord-images.db-shm'];

/**
 * Creates DATA_DIR as 0700, or tightens one an earlier version (or a default umask) left
 * readable by others: the directory to 0700, which alone keeps everyone else from reaching
 * anything inside, and the database files to 0600. Stored files are not walked (that would
 * cost every start a pass over every upload); the directory already locks them away.
 * Returns one line per change, for the caller to warn with.
 */
export async function makeDataDirPrivate(dataDir: string): Promise<string[]> {
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const changes: string[] = [];
  const tighten = async (path: string, mode: number) => {
    const current = await stat(path).catch(() => undefined);
    if (!current || (current.mode & 0o077) === 0) return;
    const was = `${path} was readable by other users (mode ${(current.mode & 0o777).toString(8)})`;
    // Not ours to change (another owner): say so, and serve anyway, as the operator chose that.
    const failed = await chmod(path, mode).catch((error: NodeJS.ErrnoException) => error.code ?? 'failed');
    changes.push(
      failed ? `${was} and could not be changed (${failed}): make it ${mode.toString(8)}` : `${was}; changed to ${mode.toString(8)}`,
    );
  };
  await tighten(dataDir, 0o700);
  for (const name of DATABASE_FILES) await tighten(join(dataDir, name), 0o600);
  return changes;
}

/**
 * Uploads in progress, and downloads of remote objects for sharp: always on local disk,
 * whatever STORAGE is. Beside the local driver's files/ (LocalStorage), so placing an
 * upload there is a hard link on the same file system.
 */
export function uploadTempDir(dataDir: string): string {
  return join(dataDir, 'tmp');
}

/**
 * Removes the entries of `dir` last modified before `before` (ms since the epoch), or all of
 * them when it is not given: only when nothing can be in flight, at start before serving.
 * Several processes may share DATA_DIR (cluster workers), so only the one that starts them
 * all clears it. Returns how many it removed.
 */
export async function sweepTemp(dir: string, before = Infinity): Promise<number> {
  let removed = 0;
  await Promise.all(
    (await readdir(dir).catch(() => [])).map(async (name) => {
      const path = join(dir, name);
      const { mtimeMs } = await stat(path).catch(() => ({ mtimeMs: Infinity }));
      if (before !== Infinity && mtimeMs >= before) return;
      await rm(path, { recursive: true, force: true });
      removed += 1;
    }),
  );
  return removed;
}
