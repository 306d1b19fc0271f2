import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { LocalStorage } from './local-storage.js';
import type { StorageDriver } from './storage-driver.js';

/** An object as a file on local disk, for tools that read from a path (sharp). */
export interface LocalFile {
  /** Read it; never modify, move or delete it. */
  path: string;
  /** Call once done with `path`, whether the work succeeded or not. */
  release(): Promise<void>;
}

/**
 * The object under `key` as a file on local disk. sharp decodes from a path without holding
 * the whole input in memory, which it does with a stream. Outside the driver interface, as
 * only thumbnails need it: the local driver's own file is given at once (no copy, no look
 * first: a missing object, or one deleted meanwhile, fails when read) with nothing to
 * release; any other driver's object is downloaded into `tempDir` (rejecting with
 * ObjectNotFoundError when missing), and release() deletes that copy.
 */
export async function openLocal(storage: StorageDriver, key: string, tempDir: string): Promise<LocalFile> {
  if (storage instanceof LocalStorage) return { path: storage.localPath(key), release: () => Promise.resolve() };
  const path = join(tempDir, `${randomBytes(9).toString('base64url')}.source`);
  const release = () => rm(path, { force: true });
  try {
    await pipeline(await storage.get(key), createWriteStream(path, { flags: 'wx' }));
  } catch (error) {
    await release();
    throw error;
  }
  return { path, release };
}
