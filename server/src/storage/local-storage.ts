import { createHash, randomBytes } from 'node:crypto';
import { copyFile, link, mkdir, open, opendir, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { createWriteStream, ReadStream } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { uploadTempDir } from './data-dir.js';
import {
  type ByteRange,
  type ListedObject,
  ObjectNotFoundError,
  type PutMeta,
  type StorageDriver,
  type StoredObject,
} from './storage-driver.js';
import { checkedKey, checkedRange, mismatch } from './driver-checks.js';

/** 64 KiB reads: a quarter of the syscalls of the 16 KiB default when streaming images. */
const READ_CHUNK_BYTES = 64 * 1024;

/**
 * Objects live as plain files under `<root>/files/<key>`. What it writes from a stream or a
 * buffer is staged in `<root>/tmp`, the uploads' temp directory (data-dir.ts): one file
 * system, so placing is a hard link with no bytes copied, and the start-up sweep of tmp/
 * removes what a crash left.
 */
export class LocalStorage implements StorageDriver {
  private readonly filesDir: string;
  private readonly stagingDir: string;

  /** Creates no directories; use `LocalStorage.create()` unless they already exist. */
  constructor(rootDir: string) {
    const root = resolve(rootDir);
    this.filesDir = join(root, 'files');
    this.stagingDir = uploadTempDir(root);
  }

  /** Makes `files/` and `tmp/`. */
  static async create(rootDir: string): Promise<LocalStorage> {
    const storage = new LocalStorage(rootDir);
    await mkdir(storage.filesDir, { recursive: true });
    await mkdir(storage.stagingDir, { recursive: true });
    return storage;
  }

  /**
   * A stream of a whole local file (fs.createReadStream(path), unread) is not read: that
   * file is hard-linked into place, as uploads are, sparing a copy of every upload.
   */
  async put(key: string, body: Readable | Buffer, meta: PutMeta): Promise<void> {
    const target = this.pathOf(key);
    const source = wholeFileOf(body);
    if (source !== undefined) {
      (body as Readable).destroy();
      const { size } = await stat(source);
      if (size !== meta.size) throw mismatch(key, `${size} bytes, not the ${meta.size} described`);
      return this.place(source, target, meta.durable ?? true);
    }
    const staged = join(this.stagingDir, `${randomBytes(9).toString('base64url')}.put`);
    try {
      await writeChecked(key, body, staged, meta);
      await this.place(staged, target, meta.durable ?? true);
    } finally {
      await rm(staged, { force: true });
    }
  }

  /**
   * Links `source` into place. The order makes it crash-safe: the data reaches the disk
   * before the link can, and the link itself is made durable by syncing the directory.
   * link() never replaces an existing file, which keeps content-addressed objects unchanged.
   */
  private async place(source: string, target: string, durable: boolean): Promise<void> {
    const dir = dirname(target);
    if (durable) await fsync(source);
    // mkdir returns the first directory it had to create; each new directory's entry in
    // its own parent must be synced too, or a crash could lose the whole new subtree.
    const firstCreated = await mkdir(dir, { recursive: true });
    try {
      await link(source, target);
    } catch (error) {
      const code = errorCode(error);
      if (code === 'EEXIST') return;
      if (code !== 'EXDEV') throw error;
      await copyIntoPlace(source, target);
    }
    if (durable) for (const synced of dirsToSync(dir, firstCreated)) await fsync(synced);
  }

  async get(key: string, range?: ByteRange): Promise<Readable> {
    const path = this.pathOf(key);
    if (range) checkedRange(range);
    // Opening first turns a missing file into a rejection here, rather than an 'error'
    // event after the caller has already started a response.
    const handle = await open(path, 'r').catch((error: unknown) => {
      throw isMissing(error) ? new ObjectNotFoundError(key) : error;
    });
    // The stream owns the handle from here on and closes it on end, error or destroy.
    return handle.createReadStream({
      highWaterMark: READ_CHUNK_BYTES,
      start: range?.start,
      end: range?.end,
    });
  }

  /** The stored file itself, for readers that need a path (sharp); it may be gone by the time it is read. */
  localPath(key: string): string {
    return this.pathOf(key);
  }

  async head(key: string): Promise<StoredObject | undefined> {
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

  async check(): Promise<void> {
    const probe = join(this.stagingDir, `.check-${randomBytes(6).toString('hex')}`);
    await writeFile(probe, 'ok');
    await unlink(probe);
  }

  publicUrl(): undefined {
    return undefined;
  }

  private pathOf(key: string): string {
    return join(this.filesDir, checkedKey(key));
  }
}

/** The path of a stream that would read a whole local file from its start, untouched so far. */
function wholeFileOf(body: Readable | Buffer): string | undefined {
  if (!(body instanceof ReadStream) || typeof body.path !== 'string') return undefined;
  const { start, end } = body as ReadStream & { start?: number; end?: number };
  const whole = (start === undefined || start === 0) && (end === undefined || end === Infinity);
  return whole && body.bytesRead === 0 ? body.path : undefined;
}

/** Writes `body` to `path`, rejecting when its length or hash differ from `meta`. */
async function writeChecked(key: string, body: Readable | Buffer, path: string, meta: PutMeta): Promise<void> {
  const hash = createHash('sha256');
  let size = 0;
  if (Buffer.isBuffer(body)) {
    hash.update(body);
    size = body.length;
    await writeFile(path, body, { flag: 'wx' });
  } else {
    await pipeline(
      body,
      async function* (chunks: AsyncIterable<Buffer>) {
        for await (const chunk of chunks) {
          hash.update(chunk);
          size += chunk.length;
          yield chunk;
        }
      },
      createWriteStream(path, { flags: 'wx' }),
    );
  }
  if (size !== meta.size) throw mismatch(key, `${size} bytes, not the ${meta.size} described`);
  if (hash.digest('hex') !== meta.sha256) throw mismatch(key, 'bytes of another sha256 than described');
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
    else if (entry.isFile() && !entry.name.endsWith('.partial')) {
      const info = await stat(join(dir, entry.name)).catch((error: unknown) => {
        if (isMissing(error)) return undefined;
        throw error;
      });
      if (info) yield { key, size: info.size, modifiedAt: info.mtimeMs };
    }
  }
}

/** Cross-device fallback: copy beside the target, make it durable, then link it into place. */
async function copyIntoPlace(sourcePath: string, target: string): Promise<void> {
  const partial = join(dirname(target), `.${basename(target)}.${randomBytes(6).toString('hex')}.partial`);
  try {
    await copyFile(sourcePath, partial);
    await fsync(partial);
    await link(partial, target).catch((error: unknown) => {
      if (errorCode(error) !== 'EEXIST') throw error;
    });
  } finally {
    await rm(partial, { force: true });
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
