/**
 * What only the local driver does, beside the suite both drivers share (storage-driver.test.ts):
 * syncing what must be durable, copying across file systems, racing mkdirs, and its tmp/.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, existsSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, open, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { sweepTemp, uploadTempDir } from '../../src/storage/data-dir.js';
import { LocalStorage } from '../../src/storage/local-storage.js';
import { tempDir } from '../helpers/temp-dir.js';

const root = await tempDir('di-local-storage-');

/** A storage of its own, and its directories. */
async function freshStorage(): Promise<{ storage: LocalStorage; tmp: string; files: string }> {
  const dir = join(root, randomBytes(6).toString('hex'));
  return { storage: await LocalStorage.create(dir), tmp: uploadTempDir(dir), files: join(dir, 'files') };
}

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
const keyFor = (bytes: Buffer) => `${sha256(bytes).slice(0, 2)}/${sha256(bytes).slice(2, 4)}/${sha256(bytes)}`;
const meta = (bytes: Buffer) => ({ size: bytes.length, sha256: sha256(bytes) });

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/** Counts fsyncs: every one the driver makes goes through a FileHandle. */
async function spyOnSync() {
  const probe = await open(root, 'r');
  const prototype = Object.getPrototypeOf(probe) as { sync: () => Promise<void> };
  await probe.close();
  return vi.spyOn(prototype, 'sync');
}

describe('local storage driver', () => {
  const bytes = randomBytes(100_003);

  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('syncs a durable put (the file and its new directories), and nothing when it need not be durable', async () => {
    const { storage, tmp } = await freshStorage();
    const sync = await spyOnSync();
    // A whole temp file, as uploads give it (linked into place), and a buffer (staged first).
    const source = join(tmp, 'upload');
    await writeFile(source, bytes);
    await storage.put(keyFor(bytes), createReadStream(source), meta(bytes));
    // The file, then files/ab/cd, then the parents of the two directories mkdir made (files/ab, files).
    expect(sync).toHaveBeenCalledTimes(4);
    sync.mockClear();
    const thumb = randomBytes(5000);
    await storage.put('thumbs/ab/x.webp', thumb, { ...meta(thumb), durable: false });
    const other = randomBytes(5000);
    const otherSource = join(tmp, 'other');
    await writeFile(otherSource, other);
    await storage.put('thumbs/ab/y.webp', createReadStream(otherSource), { ...meta(other), durable: false });
    expect(sync).not.toHaveBeenCalled();
    expect((await readAll(await storage.get('thumbs/ab/x.webp'))).equals(thumb)).toBe(true);
    expect((await readAll(await storage.get('thumbs/ab/y.webp'))).equals(other)).toBe(true);
  });

  // /dev/shm is usually a tmpfs, so a link from there to the test dir fails with EXDEV.
  const otherDevice = existsSync('/dev/shm') && statSync('/dev/shm').dev !== statSync(root).dev;

  it.skipIf(!otherDevice)('copies a source from another file system, synced, and leaves the source to the caller', async () => {
    const { storage, files } = await freshStorage();
    const elsewhere = await mkdtemp('/dev/shm/di-test-');
    try {
      const source = join(elsewhere, 'upload');
      await writeFile(source, bytes);
      const key = keyFor(bytes);
      const sync = await spyOnSync();
      await storage.put(key, createReadStream(source), meta(bytes));
      expect(sync).toHaveBeenCalled();
      expect(existsSync(source)).toBe(true);
      expect((await readAll(await storage.get(key))).equals(bytes)).toBe(true);
      // The partial copy was linked into place, not left beside it.
      expect(await readdir(join(files, key, '..'))).toEqual([sha256(bytes)]);
    } finally {
      await rm(elsewhere, { recursive: true, force: true });
    }
  });

  it('places 50 concurrent puts of different keys intact', async () => {
    const { storage, tmp } = await freshStorage();
    // Half share one new directory, so their mkdir calls race each other.
    const objects = Array.from({ length: 50 }, (_, i) => {
      const data = randomBytes(1000 + i * 997);
      return { key: i % 2 === 0 ? `race/dir/${i}` : keyFor(data), data };
    });
    await Promise.all(objects.map((o) => storage.put(o.key, o.data, meta(o.data))));
    for (const o of objects) expect((await readAll(await storage.get(o.key))).equals(o.data)).toBe(true);
    expect(await readdir(tmp)).toEqual([]);
  });

  it('leaves nothing in tmp/ when placing fails after the bytes were staged', async () => {
    const { storage, tmp } = await freshStorage();
    const key = `thumbs/${randomBytes(8).toString('hex')}.webp`;
    await storage.put(key, bytes, meta(bytes));
    // A key below an object cannot be placed: the directory it needs is a file.
    await expect(storage.put(`${key}/below`, bytes, meta(bytes))).rejects.toMatchObject({
      code: expect.stringMatching(/^(ENOTDIR|EEXIST)$/),
    });
    expect(await readdir(tmp)).toEqual([]);
  });

  it('sweepTemp() removes what tmp/ holds, all of it or only what is older than given, and no object', async () => {
    const { storage, tmp } = await freshStorage();
    const key = keyFor(bytes);
    await storage.put(key, bytes, meta(bytes));
    await writeFile(join(tmp, 'half-written-upload'), randomBytes(100));
    await mkdir(join(tmp, 'nested', 'deeper'), { recursive: true });
    await writeFile(join(tmp, 'nested', 'deeper', 'part'), 'x');
    const longAgo = new Date(Date.now() - 3_600_000);
    await utimes(join(tmp, 'half-written-upload'), longAgo, longAgo);
    await utimes(join(tmp, 'nested'), longAgo, longAgo);
    await writeFile(join(tmp, 'in-flight-upload'), randomBytes(100));

    expect(await sweepTemp(tmp, Date.now() - 60_000)).toBe(2);
    expect(await readdir(tmp)).toEqual(['in-flight-upload']);
    expect(await sweepTemp(tmp)).toBe(1);
    expect(await readdir(tmp)).toEqual([]);
    expect(await storage.head(key)).toEqual({ size: bytes.length });
  });

  it('check() passes on a writable root, leaving nothing behind, and throws when tmp/ cannot be written', async () => {
    const { storage, tmp } = await freshStorage();
    await expect(storage.check()).resolves.toBeUndefined();
    expect(await readdir(tmp)).toEqual([]);
    // Tests run as root, which ignores permission bits: put a file where tmp/ should be.
    await rm(tmp, { recursive: true });
    await writeFile(tmp, 'not a directory');
    await expect(storage.check()).rejects.toMatchObject({ code: 'ENOTDIR' });
  });
});
