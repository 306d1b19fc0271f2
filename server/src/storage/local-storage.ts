import { randomBytes } from 'node:crypto';
import { copyFile, link, mkdir, open, opendir, readdir, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import type { ByteRange, ListedObject, LocalFile, PutOptions, StorageDriver, StoredObject } from './storage-driver.js';

/** 64 KiB reads: a quarter of the syscalls of the 16 KiB default when streaming images. */
const READ_CHUNK_BYTES = 64 * 1024;

/**
 * Objects live as plain files under `<root>/files/<key>`; uploads in progress under
 * `<root>/tmp`. Both sit under one root so that placing a finished upload is a link and a
 * rename, with no bytes copied.
 *
 * Several processes may share a root (cluster workers), so only the process that starts them
 * all clears tmp/ (sweepTemp() in main.ts, before serving).
 */
export class LocalStorage implements StorageDriver {
  readonly tempDir: string;
  private readonly filesDir: string;

  /** Creates no directories; use `LocalStorage.create()` unless they already exist. */
  constructor(rootDir: string) {
    const root = resolve(rootDir);
    this.filesDir = join(root, 'files');
    this.tempDir = join(root, 'tmp');
  }

  /** Makes `files/` and `tmp/`. */
  static async create(rootDir: string): Promise<LocalStorage> {
    const storage = new LocalStorage(rootDir);
    await mkdir(storage.filesDir, { recursive: true });
    await mkdir(storage.tempDir, { recursive: true });
    return storage;
  }

  /**
   * Links `sourcePath` into place. The order makes it crash-safe: the data reaches the disk
   * before the rename can, and the rename itself is made durable by syncing the directory.
   * A hard link renamed over the target, rather than the source itself, leaves the source to
   * the caller at the cost of one more directory entry. Not durable: only the rename, which
   * still never shows a partial object to a running reader.
   */
  async putFile(key: string, sourcePath: string, { durable = true }: PutOptions = {}): Promise<void> {
    const target = this.pathOf(key);
    const dir = dirname(target);
    if (durable) await fsync(sourcePath);
    // mkdir returns the first directory it had to create; each new directory's entry in
    // its own parent must be synced too, or a crash could lose the whole new subtree.
    const firstCreated = await mkdir(dir, { recursive: true });
    // In tmp/: if the process dies before the rename, the start-up sweep removes it.
    const staged = join(this.tempDir, `${randomBytes(9).toString('base64url')}.link`);
    try {
      await link(sourcePath, staged);
      await rename(staged, target);
    } catch (error) {
      await rm(staged, { force: true });
      if (errorCode(error) !== 'EXDEV') throw error;
      await copyIntoPlace(sourcePath, target);
    }
    if (durable) for (const synced of dirsToSync(dir, firstCreated)) await fsync(synced);
  }

  async putBuffer(key: string, data: Buffer, options?: PutOptions): Promise<void> {
    const temp = join(this.tempDir, `${randomBytes(9).toString('base64url')}.put`);
    try {
      // A bad key is refused before anything is written.
      this.pathOf(key);
      await writeFile(temp, data);
      await this.putFile(key, temp, options);
    } finally {
      await rm(temp, { force: true });
    }
  }

  async get(key: string, range?: ByteRange): Promise<Readable> {
    const path = this.pathOf(key);
    if (range && !isValidRange(range)) {
      throw new RangeError(`Invalid byte range ${range.start}-${range.end}`);
    }
    // Opening first turns a missing file into a rejection here, rather than an 'error'
    // event after the caller has already started a response.
    const handle = await open(path, 'r').catch((error: unknown) => {
      throw errorCode(error) === 'ENOTDIR' ? notFound(key) : error;
    });
    // The stream owns the handle from here on and closes it on end, error or destroy.
    return handle.createReadStream({
      highWaterMark: READ_CHUNK_BYTES,
      start: range?.start,
      end: range?.end,
    });
  }

  /**
   * The stored file itself: nothing to copy, nothing to release, and no look at the disk
   * first (a thumbnail's first request waits for this): a missing object fails when read.
   */
  async openLocal(key: string): Promise<LocalFile> {
    return { path: this.pathOf(key), release: () => Promise.resolve() };
  }

  async stat(key: string): Promise<StoredObject | undefined> {
    try {
      const info = await stat(this.pathOf(key));
      return info.isFile() ? { size: info.size } : undefined;
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
  }

  async delete(key: string): Promise<void> {
    try {
      await unlink(this.pathOf(key));
    } catch (error) {
      if (!isMissing(error)) throw error;
    }
  }

  async *list(): AsyncIterable<ListedObject> {
    yield* listFiles(this.filesDir, '');
  }

  async sweepTemp(before = Infinity): Promise<number> {
    let removed = 0;
    await Promise.all(
      (await readdir(this.tempDir)).map(async (name) => {
        const path = join(this.tempDir, name);
        const { mtimeMs } = await stat(path).catch(() => ({ mtimeMs: Infinity }));
        if (before !== Infinity && mtimeMs >= before) return;
        await rm(path, { recursive: true, force: true });
        removed += 1;
      }),
    );
    return removed;
  }

  async check(): Promise<void> {
    const probe = join(this.tempDir, `.check-${randomBytes(6).toString('hex')}`);
    await writeFile(probe, 'ok');
    await unlink(probe);
  }

  /** Keys come from services, so a bad one is a bug: fail loudly rather than escape the root. */
  private pathOf(key: string): string {
    const badPart = (part: string) => part === '' || part === '.' || part === '..';
    if (key.includes('\\') || key.includes('\0') || key.split('/').some(badPart)) {
      throw new Error(`Invalid storage key: ${JSON.stringify(key)}`);
    }
    return join(this.filesDir, key);
  }
}

/** Every file under `dir`, keyed by its path below the files directory; what vanishes meanwhile is skipped. */
async function* listFiles(dir: string, prefix: string): AsyncIterable<ListedObject> {
  const entries = await opendir(dir).catch((error: unknown) => {
    if (isMissing(error)) return undefined;
    throw error;
  });
  if (!entries) return;
  for await (const entry of entries) {
    const key = prefix === '' ? entry.name : `${prefix}/${entry.name}`;
    if (entry.isDirectory()) yield* listFiles(join(dir, entry.name), key);
    else if (entry.isFile()) {
      const info = await stat(join(dir, entry.name)).catch((error: unknown) => {
        if (isMissing(error)) return undefined;
        throw error;
      });
      if (info) yield { key, size: info.size, modifiedAt: info.mtimeMs };
    }
  }
}

/** Inclusive and in order; the end may run past the object, which just ends the stream early. */
function isValidRange({ start, end }: ByteRange): boolean {
  return Number.isSafeInteger(start) && Number.isSafeInteger(end) && 0 <= start && start <= end;
}

/** Cross-device fallback: copy beside the target, make it durable, then rename over it. */
async function copyIntoPlace(sourcePath: string, target: string): Promise<void> {
  const partial = join(dirname(target), `.${basename(target)}.${randomBytes(6).toString('hex')}.partial`);
  try {
    await copyFile(sourcePath, partial);
    await fsync(partial);
    await rename(partial, target);
  } catch (error) {
    await rm(partial, { force: true });
    throw error;
  }
}

/** `dir` itself, plus the parent of every directory that mkdir just created. */
function dirsToSync(dir: string, firstCreated: string | undefined): string[] {
  const dirs = [dir];
  if (firstCreated === undefined) return dirs;
  for (let current = dir; dirname(current) !== current; current = dirname(current)) {
    dirs.push(dirname(current));
    if (current === firstCreated) break;
  }
  return dirs;
}

/** Works for files and directories alike: Linux allows fsync on a read-only descriptor. */
async function fsync(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function errorCode(error: unknown): unknown {
  return error instanceof Error ? (error as NodeJS.ErrnoException).code : undefined;
}

/** ENOTDIR: a path component is a file, so the object cannot exist either. */
function isMissing(error: unknown): boolean {
  const code = errorCode(error);
  return code === 'ENOENT' || code === 'ENOTDIR';
}

function notFound(key: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`No such object: ${key}`), { code: 'ENOENT' });
}
