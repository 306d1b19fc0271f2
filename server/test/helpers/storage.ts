import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { PutMeta, StorageDriver } from '../../src/storage/storage-driver.js';

/** What put() needs to know of `bytes`. */
export const metaOf = (bytes: Buffer): PutMeta => ({ size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') });

/** Stores what the file at `path` holds (small test files only: read whole). */
export async function putBytes(storage: StorageDriver, key: string, bytes: Buffer | string): Promise<void> {
  const data = Buffer.isBuffer(bytes) ? bytes : await readFile(bytes);
  await storage.put(key, data, metaOf(data));
}
