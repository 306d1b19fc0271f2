import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { GetObjectCommand, ListMultipartUploadsCommand } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { LocalStorage } from '../../src/storage/local-storage.js';
import { openLocal } from '../../src/storage/local-file.js';
import { S3Storage, PART_BYTES } from '../../src/storage/s3-storage.js';
import { ObjectNotFoundError, type StorageDriver } from '../../src/storage/storage-driver.js';
import { startMoto } from '../helpers/moto.js';
import { atFileEnd } from '../helpers/cleanup.js';
import { tempDir } from '../helpers/temp-dir.js';

const moto = await startMoto();
const root = await tempDir('di-storage-driver-');

interface Subject {
  driver: StorageDriver;
  /** Multipart uploads begun and never completed or aborted (always none on local disk). */
  pendingUploads: () => Promise<number>;
  /** What the driver staged and left behind on local disk. */
  leftovers: () => Promise<string[]>;
}

const drivers: Record<string, () => Promise<Subject>> = {
  local: async () => {
    const dir = join(root, randomBytes(6).toString('hex'));
    const driver = await LocalStorage.create(dir);
    return { driver, pendingUploads: () => Promise.resolve(0), leftovers: () => readdir(join(dir, 'tmp')) };
  },
  s3: async () => {
    const config = await moto.bucket();
    // A prefix, so every test also checks that keys are kept within it.
    const driver = S3Storage.fromConfig({ ...config, prefix: 'images/' });
    const pendingUploads = async () =>
      (await moto.client.send(new ListMultipartUploadsCommand({ Bucket: config.bucket }))).Uploads?.length ?? 0;
    return { driver, pendingUploads, leftovers: () => Promise.resolve([]) };
  },
};

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
const keyFor = (bytes: Buffer) => `${sha256(bytes).slice(0, 2)}/${sha256(bytes).slice(2, 4)}/${sha256(bytes)}`;
const meta = (bytes: Buffer) => ({ size: bytes.length, sha256: sha256(bytes) });

/** A stream of `bytes` in uneven chunks, as a network or a file gives them. */
function streamOf(bytes: Buffer, chunk = 65_537): Readable {
  return Readable.from(
    (function* () {
      for (let at = 0; at < bytes.length; at += chunk) yield bytes.subarray(at, at + chunk);
    })(),
  );
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

async function put(driver: StorageDriver, bytes: Buffer, key = keyFor(bytes)): Promise<string> {
  await driver.put(key, streamOf(bytes), meta(bytes));
  return key;
}

describe.each(Object.keys(drivers))('%s storage driver', (name) => {
  const subject = drivers[name]!;
  // Several read chunks long, and not a multiple of any chunk size.
  const bytes = randomBytes(200_003);

  it('gives back the bytes of a stream it stored, and their size', async () => {
    const { driver } = await subject();
    const key = await put(driver, bytes);
    expect((await readAll(await driver.get(key))).equals(bytes)).toBe(true);
    expect(await driver.head(key)).toEqual({ size: bytes.length });
  });

  it('stores a buffer', async () => {
    const { driver } = await subject();
    const small = randomBytes(1000);
    await driver.put('thumbs/a.webp', small, meta(small));
    expect((await readAll(await driver.get('thumbs/a.webp'))).equals(small)).toBe(true);
  });

  it.each([
    ['first byte', 0, 0],
    ['middle', 70_000, 140_000],
    ['last byte', bytes.length - 1, bytes.length - 1],
    ['whole object', 0, bytes.length - 1],
    // bytes=-1000, resolved against the known size as the routes do
    ['suffix of 1000 bytes', bytes.length - 1000, bytes.length - 1],
  ])('reads an exact inclusive range: %s', async (_name, start, end) => {
    const { driver } = await subject();
    const key = await put(driver, bytes);
    const got = await readAll(await driver.get(key, { start, end }));
    expect(got.equals(bytes.subarray(start, end + 1))).toBe(true);
  });

  it('ends a range that runs past the object at its last byte', async () => {
    const { driver } = await subject();
    const key = await put(driver, bytes);
    const got = await readAll(await driver.get(key, { start: 10, end: bytes.length + 100 }));
    expect(got.equals(bytes.subarray(10))).toBe(true);
  });

  it('throws on a range that is out of order or negative', async () => {
    const { driver } = await subject();
    const key = await put(driver, bytes);
    await expect(driver.get(key, { start: 5, end: 4 })).rejects.toThrow(RangeError);
    await expect(driver.get(key, { start: -1, end: 4 })).rejects.toThrow(RangeError);
  });

  it('rejects get of a missing object with ObjectNotFoundError, before any stream exists, and heads it as undefined', async () => {
    const { driver } = await subject();
    await expect(driver.get('no/such/object')).rejects.toBeInstanceOf(ObjectNotFoundError);
    await expect(driver.get('no/such/object', { start: 0, end: 1 })).rejects.toMatchObject({ key: 'no/such/object' });
    expect(await driver.head('no/such/object')).toBeUndefined();
    // Below an object: a path whose directory is a file, on local disk.
    const key = await put(driver, randomBytes(10));
    await expect(driver.get(`${key}/below`)).rejects.toBeInstanceOf(ObjectNotFoundError);
    expect(await driver.head(`${key}/below`)).toBeUndefined();
  });

  it('deletes an object, and deleting a missing one is not an error', async () => {
    const { driver } = await subject();
    const key = await put(driver, randomBytes(100));
    await driver.delete(key);
    expect(await driver.head(key)).toBeUndefined();
    await expect(driver.get(key)).rejects.toBeInstanceOf(ObjectNotFoundError);
    await expect(driver.delete(key)).resolves.toBeUndefined();
    await expect(driver.delete('never/was/here')).resolves.toBeUndefined();
  });

  it('never overwrites a key: a second put leaves the first bytes', async () => {
    const { driver } = await subject();
    const first = Buffer.from('first version');
    const second = Buffer.from('second, longer version');
    await driver.put('thumbs/x.webp', first, meta(first));
    await driver.put('thumbs/x.webp', streamOf(second), meta(second));
    expect((await readAll(await driver.get('thumbs/x.webp'))).toString()).toBe('first version');
    // Once deleted, the key can be stored again (a damaged thumbnail is replaced this way).
    await driver.delete('thumbs/x.webp');
    await driver.put('thumbs/x.webp', second, meta(second));
    expect((await readAll(await driver.get('thumbs/x.webp'))).toString()).toBe('second, longer version');
  });

  it('closes the file of a stream it is given, also when the key exists already', async () => {
    // An upload of bytes already stored (the same image again) must not keep its temp file open.
    const { driver } = await subject();
    const path = join(root, `${randomBytes(6).toString('hex')}.upload`);
    await writeFile(path, bytes);
    const key = keyFor(bytes);
    for (const time of ['first', 'again']) {
      const stream = createReadStream(path);
      await driver.put(key, stream, meta(bytes));
      await expect.poll(() => stream.closed, { timeout: 1_000, message: `put ${time}` }).toBe(true);
    }
  });

  it('two puts of one key racing each other both resolve, and store it once, whole', async () => {
    const { driver } = await subject();
    const key = keyFor(bytes);
    await Promise.all([driver.put(key, streamOf(bytes), meta(bytes)), driver.put(key, bytes, meta(bytes))]);
    expect((await readAll(await driver.get(key))).equals(bytes)).toBe(true);
  });

  it.each([
    ['a different sha256', (b: Buffer) => ({ size: b.length, sha256: sha256(Buffer.from('other')) })],
    ['a shorter size', (b: Buffer) => ({ size: b.length - 1, sha256: sha256(b) })],
    ['a longer size', (b: Buffer) => ({ size: b.length + 1, sha256: sha256(b) })],
  ])('refuses bytes that do not match their description (%s) and stores nothing', async (_name, describe) => {
    const { driver, leftovers } = await subject();
    await expect(driver.put('ab/cd/mismatch', streamOf(bytes), describe(bytes))).rejects.toThrow(/Refused to store/);
    await expect(driver.put('ab/cd/mismatch', bytes, describe(bytes))).rejects.toThrow(/Refused to store/);
    expect(await driver.head('ab/cd/mismatch')).toBeUndefined();
    expect(await leftovers()).toEqual([]);
  });

  it('stores an object larger than one part, in parts, and reads it back whole and in ranges', async () => {
    const { driver, pendingUploads } = await subject();
    const big = randomBytes(2 * PART_BYTES + 12_345);
    const key = await put(driver, big);
    expect(await driver.head(key)).toEqual({ size: big.length });
    expect(sha256(await readAll(await driver.get(key)))).toBe(sha256(big));
    const across = { start: PART_BYTES - 10, end: PART_BYTES + 10 };
    expect((await readAll(await driver.get(key, across))).equals(big.subarray(across.start, across.end + 1))).toBe(true);
    expect(await pendingUploads()).toBe(0);
  });

  it('leaves nothing behind when a large stream fails half-way, or ends with other bytes than described', async () => {
    const { driver, pendingUploads, leftovers } = await subject();
    const big = randomBytes(2 * PART_BYTES + 1);
    const failing = Readable.from(
      (async function* () {
        yield big.subarray(0, PART_BYTES + 1000);
        throw new Error('client went away');
      })(),
    );
    await expect(driver.put(keyFor(big), failing, meta(big))).rejects.toThrow('client went away');
    const other = Buffer.from(big);
    other[other.length - 1] = other[other.length - 1]! ^ 0xff;
    await expect(driver.put(keyFor(big), streamOf(other, 1024 ** 2), meta(big))).rejects.toThrow(/Refused to store/);
    expect(await driver.head(keyFor(big))).toBeUndefined();
    expect(await pendingUploads()).toBe(0);
    expect(await leftovers()).toEqual([]);
  });

  it('lists every object with its size and time of writing, past 1,000 keys', async () => {
    const { driver } = await subject();
    const before = Date.now();
    const keys = Array.from({ length: 1_003 }, (_, i) => `thumbs/${String(i).padStart(4, '0')}.webp`);
    for (let at = 0; at < keys.length; at += 50) {
      await Promise.all(
        keys.slice(at, at + 50).map((key, i) => driver.put(key, Buffer.from(`#${at + i}`), meta(Buffer.from(`#${at + i}`)))),
      );
    }
    const listed = new Map<string, { size: number; modifiedAt: number }>();
    for await (const object of driver.list()) listed.set(object.key, object);
    expect([...listed.keys()].sort()).toEqual(keys);
    expect(listed.get('thumbs/1002.webp')?.size).toBe('#1002'.length);
    // S3 keeps whole seconds.
    expect(listed.get('thumbs/0000.webp')?.modifiedAt).toBeGreaterThanOrEqual(before - 1000);
  });

  it('openLocal() gives the bytes as a local file until released', async () => {
    const { driver } = await subject();
    const temp = await tempDir('di-open-local-');
    const key = await put(driver, bytes);
    const local = await openLocal(driver, key, temp);
    expect((await readFile(local.path)).equals(bytes)).toBe(true);
    await local.release();
    // Only a copy is released; the object stays.
    expect(await driver.head(key)).toEqual({ size: bytes.length });
    expect(await readdir(temp)).toEqual([]);
  });

  it.each(['', '../escape', 'ab/../../escape', 'ab/..', './ab', 'ab//cd', 'ab/', '/etc/passwd', 'ab\\cd', 'ab/cd\0.png'])(
    'rejects the hostile key %j in every method',
    async (key) => {
      const { driver } = await subject();
      const x = Buffer.from('x');
      await expect(driver.put(key, x, meta(x))).rejects.toThrow(/Invalid storage key/);
      await expect(driver.get(key)).rejects.toThrow(/Invalid storage key/);
      await expect(driver.head(key)).rejects.toThrow(/Invalid storage key/);
      await expect(driver.delete(key)).rejects.toThrow(/Invalid storage key/);
    },
  );

  it('check() passes while the storage can be reached', async () => {
    const { driver } = await subject();
    await expect(driver.check()).resolves.toBeUndefined();
  });
});

describe('S3 storage driver', () => {
  it('check() fails when the bucket does not exist', async () => {
    const driver = S3Storage.fromConfig(await moto.bucket(false));
    await expect(driver.check()).rejects.toThrow();
  });

  /**
   * A proxy in front of moto that holds each part's upload for a while, as a store far away
   * does, counts how many are held at once, and fails the part numbers in `failing` with a 500.
   */
  async function slowParts(failing = new Set<string>()): Promise<{ endpoint: string; mostAtOnce: () => number }> {
    let now = 0;
    let most = 0;
    const proxy = createServer((incoming, answer) => {
      const part = new URL(incoming.url!, 'http://x').searchParams.get('partNumber');
      if (part !== null && failing.has(part)) {
        incoming.resume();
        return void answer.writeHead(500).end();
      }
      if (part !== null) most = Math.max(most, ++now);
      setTimeout(
        () => {
          const upstream = new URL(moto.endpoint);
          const forward = request(
            { host: upstream.hostname, port: upstream.port, method: incoming.method, path: incoming.url, headers: incoming.headers },
            (reply) => {
              if (part !== null) now--;
              answer.writeHead(reply.statusCode!, reply.headers);
              reply.pipe(answer);
            },
          );
          incoming.pipe(forward);
        },
        part === null ? 0 : 150,
      );
    }).listen(0, '127.0.0.1');
    await once(proxy, 'listening');
    atFileEnd(() => new Promise((resolve) => proxy.close(resolve)));
    return { endpoint: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`, mostAtOnce: () => most };
  }

  it('sends the parts of a large object several at once, at most four', async () => {
    const config = await moto.bucket();
    const { endpoint, mostAtOnce } = await slowParts();
    const driver = S3Storage.fromConfig({ ...config, endpoint });
    const big = randomBytes(6 * PART_BYTES + 1);
    const key = await put(driver, big);
    expect(sha256(await readAll(await driver.get(key)))).toBe(sha256(big));
    expect(mostAtOnce()).toBe(4);
  });

  it('aborts a multipart upload whose part fails while others are in flight, and leaves nothing', async () => {
    const config = await moto.bucket();
    const { endpoint } = await slowParts(new Set(['2']));
    const driver = S3Storage.fromConfig({ ...config, endpoint });
    const big = randomBytes(6 * PART_BYTES + 1);
    await expect(put(driver, big)).rejects.toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
    expect(await driver.head(keyFor(big))).toBeUndefined();
    expect((await moto.client.send(new ListMultipartUploadsCommand({ Bucket: config.bucket }))).Uploads ?? []).toEqual([]);
  });

  it('lists only the objects under its prefix, by their keys', async () => {
    const config = await moto.bucket();
    const a = S3Storage.fromConfig({ ...config, prefix: 'a/' });
    const b = S3Storage.fromConfig({ ...config, prefix: 'b/' });
    const x = Buffer.from('x');
    await a.put('one', x, meta(x));
    await b.put('two', x, meta(x));
    const listed = [];
    for await (const object of a.list()) listed.push(object.key);
    expect(listed).toEqual(['one']);
    expect(await b.head('one')).toBeUndefined();
  });

  it('names the public URL of an object when S3_PUBLIC_URL is set', async () => {
    const config = await moto.bucket(false);
    expect(S3Storage.fromConfig({ ...config, prefix: 'p/', publicUrl: 'https://cdn.example' }).publicUrl('ab/cd/ef')).toBe(
      'https://cdn.example/p/ab/cd/ef',
    );
    expect(S3Storage.fromConfig(config).publicUrl('ab/cd/ef')).toBeUndefined();
  });

  // moto neither checks nor keeps ChecksumSHA256, so only the content type can be seen here.
  it('stores the content type given, for S3_PUBLIC_URL to serve', async () => {
    const config = await moto.bucket();
    const driver = S3Storage.fromConfig(config);
    const small = randomBytes(100);
    await driver.put('k', small, { ...meta(small), contentType: 'image/png' });
    const head = await moto.client.send(new GetObjectCommand({ Bucket: config.bucket, Key: 'k', ChecksumMode: 'ENABLED' }));
    head.Body?.transformToByteArray().catch(() => undefined);
    expect(head.ContentType).toBe('image/png');
  });
});
