import { createHash, randomBytes } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { LocalStorage } from '../../src/storage/local-storage.js';
import { tempDir } from '../helpers/temp-dir.js';

const root = await tempDir('di-local-storage-');
const storage = await LocalStorage.create(join(root, 'shared'));

/** A storage of its own, for tests that look at the whole of tmp/ or files/. */
const freshStorage = () => LocalStorage.create(join(root, `own-${randomBytes(6).toString('hex')}`));

/** Content-addressed key, shaped the way the upload service makes them. */
function keyFor(bytes: Buffer): string {
  const hex = createHash('sha256').update(bytes).digest('hex');
  return `${hex.slice(0, 2)}/${hex.slice(2, 4)}/${hex}`;
}

/** A finished upload waiting in tempDir, as the upload service leaves it. */
async function tempFile(store: LocalStorage, bytes: Buffer): Promise<string> {
  const path = join(store.tempDir, `upload-${randomBytes(6).toString('hex')}`);
  await writeFile(path, bytes);
  return path;
}

/** Places bytes and removes the source, as the upload service does. */
async function put(store: LocalStorage, bytes: Buffer, key = keyFor(bytes)): Promise<string> {
  const source = await tempFile(store, bytes);
  await store.putFile(key, source);
  await rm(source);
  return key;
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

describe('LocalStorage', () => {
  // Several read chunks long, and not a multiple of the chunk size.
  const bytes = randomBytes(200_003);

  it('gives back the bytes it was given, in large read chunks', async () => {
    const key = await put(storage, bytes);
    const stream = await storage.get(key);
    expect(stream.readableHighWaterMark).toBeGreaterThanOrEqual(64 * 1024);
    expect((await readAll(stream)).equals(bytes)).toBe(true);
  });

  it.each([
    ['first byte', 0, 0],
    ['middle', 70_000, 140_000],
    ['last byte', bytes.length - 1, bytes.length - 1],
    ['whole object', 0, bytes.length - 1],
  ])('reads an exact inclusive range: %s', async (_name, start, end) => {
    const key = await put(storage, bytes);
    const got = await readAll(await storage.get(key, { start, end }));
    expect(got.equals(bytes.subarray(start, end + 1))).toBe(true);
  });

  it('ends a range that runs past the object at its last byte', async () => {
    const key = await put(storage, bytes);
    const got = await readAll(await storage.get(key, { start: 10, end: bytes.length + 100 }));
    expect(got.equals(bytes.subarray(10))).toBe(true);
  });

  it('throws on a range that is out of order or negative', async () => {
    const key = await put(storage, bytes);
    await expect(storage.get(key, { start: 5, end: 4 })).rejects.toThrow(RangeError);
    await expect(storage.get(key, { start: -1, end: 4 })).rejects.toThrow(RangeError);
  });

  it('rejects get of a missing object with ENOENT, before any stream exists', async () => {
    await expect(storage.get('no/such/object')).rejects.toMatchObject({ code: 'ENOENT' });
    // A path component that is a file gives ENOTDIR from the OS; callers still see ENOENT.
    const key = await put(storage, randomBytes(10));
    await expect(storage.get(`${key}/below`)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('stats the size of an object, and undefined for a missing one', async () => {
    const key = await put(storage, bytes);
    expect(await storage.stat(key)).toEqual({ size: bytes.length });
    expect(await storage.stat('no/such/object')).toBeUndefined();
    expect(await storage.stat(`${key}/below`)).toBeUndefined();
  });

  it('openLocal() gives the stored file itself, with nothing to copy or release', async () => {
    const store = await freshStorage();
    const key = await put(store, bytes);
    const local = await store.openLocal(key);
    expect(local.path).toBe(join(store.tempDir, '..', 'files', key));
    expect((await readFile(local.path)).equals(bytes)).toBe(true);
    expect(await readdir(store.tempDir)).toEqual([]);
    await local.release();
    // Releasing the local driver's file must not touch the object.
    expect(await store.stat(key)).toEqual({ size: bytes.length });
  });

  it('openLocal() does not look first: a missing object fails with ENOENT when read', async () => {
    const missing = await storage.openLocal('no/such/object');
    await expect(readFile(missing.path)).rejects.toMatchObject({ code: 'ENOENT' });
    const key = await put(storage, randomBytes(10));
    const deleted = await storage.openLocal(key);
    await storage.delete(key);
    await expect(readFile(deleted.path)).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(storage.openLocal('../escape')).rejects.toThrow('Invalid storage key');
  });

  it('deletes an object, and deleting a missing one is not an error', async () => {
    const key = await put(storage, randomBytes(100));
    await storage.delete(key);
    expect(await storage.stat(key)).toBeUndefined();
    await expect(storage.get(key)).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(storage.delete(key)).resolves.toBeUndefined();
    await expect(storage.delete('never/was/here')).resolves.toBeUndefined();
  });

  it('overwrites an existing key', async () => {
    const key = `thumbs/${randomBytes(8).toString('hex')}.webp`;
    await put(storage, Buffer.from('first version'), key);
    const second = Buffer.from('second, longer version');
    await put(storage, second, key);
    expect((await readAll(await storage.get(key))).equals(second)).toBe(true);
    expect(await storage.stat(key)).toEqual({ size: second.length });
  });

  it('places an object without syncing when it need not be durable', async () => {
    const store = await freshStorage();
    const source = await tempFile(store, bytes);
    const key = `thumbs/${randomBytes(8).toString('hex')}.webp`;
    await store.putFile(key, source, { durable: false });
    expect((await readAll(await store.get(key))).equals(bytes)).toBe(true);
  });

  it('leaves the source to the caller, and nothing else in tmp/', async () => {
    const store = await freshStorage();
    const source = await tempFile(store, bytes);
    await store.putFile(keyFor(bytes), source);
    expect(await readFile(source)).toEqual(bytes);
    expect(await readdir(store.tempDir)).toEqual([source.split('/').at(-1)]);
    // The object is a file of its own: removing the source does not take it away.
    await rm(source);
    expect((await readAll(await store.get(keyFor(bytes)))).equals(bytes)).toBe(true);
  });

  it('stores a buffer through a temp file, leaving nothing in tmp/, even when placing fails', async () => {
    const store = await freshStorage();
    const key = `thumbs/${randomBytes(8).toString('hex')}.webp`;
    await store.putBuffer(key, bytes, { durable: false });
    expect((await readAll(await store.get(key))).equals(bytes)).toBe(true);
    await store.putBuffer(key, Buffer.from('again'));
    expect((await readAll(await store.get(key))).toString()).toBe('again');
    // A key below an object cannot be placed: the directory it needs is a file.
    await expect(store.putBuffer(`${key}/below`, bytes)).rejects.toMatchObject({ code: expect.stringMatching(/^(ENOTDIR|EEXIST)$/) });
    expect(await readdir(store.tempDir)).toEqual([]);
  });

  it('places 50 concurrent puts of different keys intact', async () => {
    const store = await freshStorage();
    // Half share one new directory, so their mkdir calls race each other.
    const objects = Array.from({ length: 50 }, (_, i) => ({
      key: i % 2 === 0 ? `race/dir/${i}` : keyFor(Buffer.from(`object ${i}`)),
      bytes: randomBytes(1000 + i * 997),
    }));
    await Promise.all(objects.map((o) => put(store, o.bytes, o.key)));
    for (const o of objects) {
      expect((await readAll(await store.get(o.key))).equals(o.bytes)).toBe(true);
    }
    expect(await readdir(store.tempDir)).toEqual([]);
  });

  it.each(['', '../escape', 'ab/../../escape', 'ab/..', './ab', 'ab//cd', 'ab/', '/etc/passwd', 'ab\\cd', '..\\escape', 'ab/cd\0.png'])(
    'rejects the hostile key %j in every method',
    async (key) => {
      const source = await tempFile(storage, Buffer.from('x'));
      await expect(storage.putFile(key, source)).rejects.toThrow(/Invalid storage key/);
      await expect(storage.putBuffer(key, Buffer.from('x'))).rejects.toThrow(/Invalid storage key/);
      await expect(storage.get(key)).rejects.toThrow(/Invalid storage key/);
      await expect(storage.stat(key)).rejects.toThrow(/Invalid storage key/);
      await expect(storage.delete(key)).rejects.toThrow(/Invalid storage key/);
      // Rejected before anything moved.
      expect(existsSync(source)).toBe(true);
      await rm(source);
    },
  );

  it('sweepTemp() removes what tmp/ holds, all of it or only what is older than given', async () => {
    const dir = join(root, `crashed-${randomBytes(6).toString('hex')}`);
    const store = await LocalStorage.create(dir);
    const key = await put(store, bytes);
    await writeFile(join(store.tempDir, 'half-written-upload'), randomBytes(100));
    await mkdir(join(store.tempDir, 'nested', 'deeper'), { recursive: true });
    await writeFile(join(store.tempDir, 'nested', 'deeper', 'part'), 'x');
    const longAgo = new Date(Date.now() - 3_600_000);
    await utimes(join(store.tempDir, 'half-written-upload'), longAgo, longAgo);
    await utimes(join(store.tempDir, 'nested'), longAgo, longAgo);
    await writeFile(join(store.tempDir, 'in-flight-upload'), randomBytes(100));

    expect(await store.sweepTemp(Date.now() - 60_000)).toBe(2);
    expect(await readdir(store.tempDir)).toEqual(['in-flight-upload']);
    expect(await store.sweepTemp()).toBe(1);
    expect(await readdir(store.tempDir)).toEqual([]);
    expect(await store.stat(key)).toEqual({ size: bytes.length });
  });

  it('lists every stored object with its size and time of writing, and nothing of tmp/', async () => {
    const store = await freshStorage();
    const keys = [await put(store, bytes), await put(store, Buffer.from('thumb'), 'thumbs/ab/x.webp')];
    await writeFile(join(store.tempDir, 'in-flight-upload'), 'x');
    const before = Date.now();
    await put(store, Buffer.from('later'), 'thumbs/ab/y.webp');
    const listed = [];
    for await (const object of store.list()) listed.push(object);
    expect(listed.map((object) => object.key).sort()).toEqual([...keys, 'thumbs/ab/y.webp'].sort());
    expect(listed.find((object) => object.key === keys[0])?.size).toBe(bytes.length);
    expect(listed.find((object) => object.key === 'thumbs/ab/y.webp')?.modifiedAt).toBeGreaterThanOrEqual(before - 1000);
  });

  it('check() passes on a writable root and leaves nothing behind', async () => {
    const store = await freshStorage();
    await expect(store.check()).resolves.toBeUndefined();
    expect(await readdir(store.tempDir)).toEqual([]);
  });

  it('check() throws when tmp/ cannot be written', async () => {
    // Tests run as root, which ignores permission bits: put a file where tmp/ should be.
    const store = await freshStorage();
    await rm(store.tempDir, { recursive: true });
    await writeFile(store.tempDir, 'not a directory');
    await expect(store.check()).rejects.toMatchObject({ code: 'ENOTDIR' });
  });

  // /dev/shm is usually a tmpfs, so a rename from there to the test dir fails with EXDEV.
  const otherDevice = existsSync('/dev/shm') && statSync('/dev/shm').dev !== statSync(root).dev;

  it.skipIf(!otherDevice)('copies a source from another file system', async () => {
    const store = await freshStorage();
    const elsewhere = await mkdtemp('/dev/shm/di-test-');
    try {
      const source = join(elsewhere, 'upload');
      await writeFile(source, bytes);
      const key = keyFor(bytes);
      await store.putFile(key, source);
      expect(existsSync(source)).toBe(true);
      expect((await readAll(await store.get(key))).equals(bytes)).toBe(true);
      // The partial copy was renamed into place, not left beside it.
      expect(await readdir(join(store.tempDir, '..', 'files', key, '..'))).toEqual([key.split('/')[2]]);
    } finally {
      await rm(elsewhere, { recursive: true, force: true });
    }
  });
});
