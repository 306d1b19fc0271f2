/**
 * STORAGE=s3 through the real server process, over real HTTP, against a real S3 server
 * (moto's). The driver itself is tested in server/test/medium/storage-driver.test.ts; this
 * file shows the server wired to it: what lands in the bucket, how it is served back (the
 * same as from local disk), the memory cache, deletion, S3_PUBLIC_URL, and readiness.
 * Nothing here is mocked: the bucket is looked at, and changed behind the server's back,
 * with moto's own client.
 */
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  DeleteBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  PutBucketPolicyCommand,
} from '@aws-sdk/client-s3';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { png } from '../server/test/helpers/fixtures.js';
import { makeJpegWithPrivateMetadata } from '../server/test/helpers/images.js';
import { atFileEnd } from '../server/test/helpers/cleanup.js';
import { startMoto } from '../server/test/helpers/moto.js';
import { tempDir } from '../server/test/helpers/temp-dir.js';
import { freePort, register, type RunningServer, startServer, until } from './helpers/server.js';

const run = promisify(execFile);
const moto = await startMoto();
const PREFIX = 'images/';
const METRICS_TOKEN = 'm'.repeat(40);

interface Upload {
  id: string;
  raw_url: string;
  thumbnail_url: string;
  sha256: string;
  size: number;
}

interface Started {
  server: RunningServer;
  token: string;
  dataDir: string;
  bucket: string;
}

/** A real server on STORAGE=s3 with a bucket of its own (created unless told not to), stopped when the file ends. */
async function s3Server(env: Record<string, string> = {}, { createBucket = true } = {}): Promise<Started> {
  const { bucket } = await moto.bucket(createBucket);
  return started(
    {
      STORAGE: 's3',
      S3_ENDPOINT: moto.endpoint,
      S3_REGION: 'us-east-1',
      S3_BUCKET: bucket,
      S3_ACCESS_KEY_ID: 'test',
      S3_SECRET_ACCESS_KEY: 'test',
      S3_FORCE_PATH_STYLE: 'true',
      S3_PREFIX: PREFIX,
      ...env,
    },
    bucket,
  );
}

/** The same server on local disk: the reference the S3 answers are held to. */
const localServer = () => started({}, '');

async function started(env: Record<string, string>, bucket: string): Promise<Started> {
  const dataDir = await tempDir('di-s3-e2e-');
  const server = await startServer({ DATA_DIR: dataDir, MAX_FILE_SIZE: '20MB', METRICS_TOKEN, ...env });
  atFileEnd(() => server.stop('SIGKILL'));
  return { server, token: await register(server.url), dataDir, bucket };
}

async function upload({ server, token }: Started, bytes: Buffer, name: string): Promise<Upload> {
  const form = new FormData();
  form.append('files[]', new Blob([new Uint8Array(bytes)]), name);
  const response = await fetch(`${server.url}/api/upload`, { method: 'POST', headers: { token }, body: form });
  if (response.status !== 201) throw new Error(`upload: ${response.status} ${await response.text()}`);
  return ((await response.json()) as { files: Upload[] }).files[0]!;
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
/** Where the server keeps an upload's bytes and its thumbnail (server/src/services/upload-links.ts), under S3_PREFIX. */
const blobKey = (sha: string) => `${PREFIX}${sha.slice(0, 2)}/${sha.slice(2, 4)}/${sha}`;
const thumbnailKey = (sha: string) => `${PREFIX}thumbs/${sha.slice(0, 2)}/${sha}.webp`;

async function objectBytes(bucket: string, key: string): Promise<Buffer> {
  const { Body } = await moto.client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from(await Body!.transformToByteArray());
}

async function objectExists(bucket: string, key: string): Promise<boolean> {
  return moto.client.send(new HeadObjectCommand({ Bucket: bucket, Key: key })).then(
    () => true,
    (error: { $metadata?: { httpStatusCode?: number } }) => {
      if (error.$metadata?.httpStatusCode === 404) return false;
      throw error;
    },
  );
}

async function get(url: string, headers: Record<string, string> = {}) {
  const response = await fetch(url, { headers, redirect: 'manual' });
  return { status: response.status, headers: response.headers, body: Buffer.from(await response.arrayBuffer()) };
}

/** The answer's headers, less those that differ between any two answers (time, request id, connection). */
function stableHeaders(headers: Headers): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const [name, value] of headers) if (!['date', 'x-request-id', 'connection', 'keep-alive'].includes(name)) kept[name] = value;
  return kept;
}

async function cacheCounters(server: RunningServer): Promise<{ hits: number; misses: number }> {
  const text = await (await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).text();
  const counter = (name: string) => Number(new RegExp(`^${name} (\\d+)`, 'm').exec(text)?.[1]);
  return { hits: counter('discord_images_file_cache_hits_total'), misses: counter('discord_images_file_cache_misses_total') };
}

/**
 * The servers the tests that change nothing but their own uploads share (each uploads images
 * of its own), started together on first use: a server start costs seconds on this machine.
 */
let sharedServers: Promise<{ cached: Started; uncached: Started; local: Started }> | undefined;
const shared = () =>
  (sharedServers ??= Promise.all([s3Server(), s3Server({ CACHE_SIZE: '0' }), localServer()]).then(([cached, uncached, local]) => ({
    cached,
    uncached,
    local,
  })));

const tmpEntries = (dataDir: string) => readdir(join(dataDir, 'tmp')).catch(() => []);

describe('STORAGE=s3 through the real server', () => {
  it('stores a curl files[] upload in the bucket under S3_PREFIX, metadata stripped exactly as on local disk', async () => {
    const { cached: s3, local } = await shared();
    const path = join(s3.dataDir, 'phone.jpg');
    await makeJpegWithPrivateMetadata(path, { width: 120, height: 90, color: '#3a7' });
    // As ShareX and the docs' curl example send it: multipart, field files[].
    const curlUpload = async ({ server, token }: Started) =>
      (
        JSON.parse((await run('curl', ['-sS', '-H', `token: ${token}`, '-F', `files[]=@${path}`, `${server.url}/api/upload`])).stdout) as {
          files: Upload[];
        }
      ).files[0]!;
    const [onS3, onLocal] = await Promise.all([curlUpload(s3), curlUpload(local)]);

    const stored = await objectBytes(s3.bucket, blobKey(onS3.sha256));
    expect(sha256(stored)).toBe(onS3.sha256);
    expect(stored.length).toBe(onS3.size);
    // The metadata went before the bytes reached the bucket, and what is left is what local disk keeps.
    expect(onS3.sha256).toBe(onLocal.sha256);
    expect(stored.includes(Buffer.from('Jane Doe'))).toBe(false);
    expect(stored.equals((await get(onLocal.raw_url)).body)).toBe(true);
  });

  it('sends a file over 8 MiB up in parts and serves it back intact, whole and in ranges', async () => {
    const { cached: s3 } = await shared();
    // Random pixels, stored uncompressed: some 9 MB of PNG, more than one 8 MiB part.
    const [width, height] = [1800, 1700];
    const pixels = { raw: { width, height, channels: 3 as const } };
    const bytes = await sharp(randomBytes(width * height * 3), pixels)
      .png({ compressionLevel: 0 })
      .toBuffer();
    expect(bytes.length).toBeGreaterThan(8 * 1024 ** 2);
    const file = await upload(s3, bytes, 'big.png');

    const key = blobKey(file.sha256);
    // A multipart upload's ETag is the hash of its parts' hashes followed by -<number of parts>.
    const { ETag } = await moto.client.send(new HeadObjectCommand({ Bucket: s3.bucket, Key: key }));
    expect(ETag).toMatch(/-2"$/);
    expect(sha256(await objectBytes(s3.bucket, key))).toBe(file.sha256);
    expect((await moto.client.send(new ListMultipartUploadsCommand({ Bucket: s3.bucket }))).Uploads ?? []).toEqual([]);

    // Too big for the memory cache: these are streamed from the bucket.
    const whole = await get(file.raw_url);
    expect(whole.status).toBe(200);
    expect(sha256(whole.body)).toBe(file.sha256);
    const tail = await get(file.raw_url, { range: 'bytes=-100' });
    expect(tail.status).toBe(206);
    expect(tail.body.equals(bytes.subarray(-100))).toBe(true);
  });

  it('serves /i/ with the same headers as local disk, and the same Range, 416 and 304 answers, cached or not', async () => {
    const { cached, uncached, local } = await shared();
    const bytes = await png(300, 200, 21);
    const reference = await upload(local, bytes, 'shot.png');
    const size = reference.size;
    const requests: Array<Record<string, string>> = [
      {},
      { range: 'bytes=0-99' },
      { range: 'bytes=-100' },
      { range: `bytes=${size - 50}-` },
      { range: 'bytes=100-199' },
      { range: `bytes=${size + 10}-` },
      { 'if-none-match': `"${reference.sha256}"` },
    ];
    const expected = [];
    for (const headers of requests) expected.push(await get(reference.raw_url, headers));
    expect(expected.map((answer) => answer.status)).toEqual([200, 206, 206, 206, 206, 416, 304]);
    expect(expected[2]!.body.equals(expected[0]!.body.subarray(-100))).toBe(true);
    expect(expected[3]!.body.equals(expected[0]!.body.subarray(size - 50))).toBe(true);

    for (const s3 of [cached, uncached]) {
      const file = await upload(s3, bytes, 'shot.png');
      // Twice each: the first read of a file may fill the cache, the later ones come from it.
      for (let round = 0; round < 2; round++) {
        for (const [index, headers] of requests.entries()) {
          const answer = await get(file.raw_url, headers);
          const want = expected[index]!;
          const what = `${JSON.stringify(headers)} with CACHE_SIZE ${s3 === cached ? 'default' : '0'}, round ${round}`;
          expect({ what, status: answer.status }).toEqual({ what, status: want.status });
          if (answer.status === 416) {
            expect((JSON.parse(answer.body.toString()) as { code: string }).code).toBe('RANGE_NOT_SATISFIABLE');
            expect(answer.headers.get('content-range')).toBe(want.headers.get('content-range'));
            continue;
          }
          expect({ what, headers: stableHeaders(answer.headers) }).toEqual({ what, headers: stableHeaders(want.headers) });
          expect(answer.body.equals(want.body)).toBe(true);
        }
      }
    }
    // The security headers are among those compared; make sure they were there to compare.
    expect(expected[0]!.headers.get('x-content-type-options')).toBe('nosniff');
    expect(expected[0]!.headers.get('content-security-policy')).toBe("default-src 'none'; sandbox");
    expect(expected[0]!.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
  });

  it('makes thumbnails and stores them in the bucket', async () => {
    const { cached: s3 } = await shared();
    const file = await upload(s3, await png(640, 480, 31), 'thumb.png');
    const thumbnail = await get(file.thumbnail_url);
    expect(thumbnail.status).toBe(200);
    expect(thumbnail.headers.get('content-type')).toBe('image/webp');
    expect(thumbnail.body.subarray(8, 12).toString()).toBe('WEBP');
    // Stored in the background after it is sent.
    await until(() => objectExists(s3.bucket, thumbnailKey(file.sha256)), 15_000, 'the thumbnail in the bucket');
    expect((await objectBytes(s3.bucket, thumbnailKey(file.sha256))).equals(thumbnail.body)).toBe(true);
  });

  it('answers later reads of a hot file from memory, without S3; with CACHE_SIZE=0 every read goes to S3', async () => {
    const { cached, uncached } = await shared();
    const bytes = await png(200, 150, 41);
    for (const s3 of [cached, uncached]) {
      const file = await upload(s3, bytes, 'hot.png');
      const first = await get(file.raw_url);
      expect(first.status).toBe(200);
      const before = await cacheCounters(s3.server);
      // Behind the server's back: only a read that reaches S3 can notice.
      await moto.client.send(new DeleteObjectCommand({ Bucket: s3.bucket, Key: blobKey(file.sha256) }));
      expect(await objectExists(s3.bucket, blobKey(file.sha256))).toBe(false);
      const later = await get(file.raw_url);
      const after = await cacheCounters(s3.server);
      if (s3 === cached) {
        expect(later.status).toBe(200);
        expect(later.body.equals(first.body)).toBe(true);
        expect(after.hits).toBe(before.hits + 1);
        expect(after.misses).toBe(before.misses);
      } else {
        // docs/api.md: bytes that vanished from storage under a known upload answer 410 UPLOAD_GONE.
        expect(later.status).toBe(410);
        expect(JSON.parse(later.body.toString())).toMatchObject({ statusCode: 410, code: 'UPLOAD_GONE' });
        expect(after.hits).toBe(before.hits);
      }
    }
  });

  it('removes the object and its thumbnail from the bucket on DELETE, and the URLs answer 410', async () => {
    const { cached: s3 } = await shared();
    const file = await upload(s3, await png(320, 240, 51), 'doomed.png');
    expect((await get(file.thumbnail_url)).status).toBe(200);
    await until(() => objectExists(s3.bucket, thumbnailKey(file.sha256)), 15_000, 'the thumbnail in the bucket');
    expect((await get(file.raw_url)).status).toBe(200);

    const response = await fetch(`${s3.server.url}/api/uploads/${file.id}`, { method: 'DELETE', headers: { token: s3.token } });
    expect(response.status).toBe(204);
    expect(await objectExists(s3.bucket, blobKey(file.sha256))).toBe(false);
    expect(await objectExists(s3.bucket, thumbnailKey(file.sha256))).toBe(false);
    for (const url of [file.raw_url, file.thumbnail_url]) {
      const gone = await get(url);
      expect({ url, status: gone.status }).toEqual({ url, status: 410 });
      expect(JSON.parse(gone.body.toString())).toMatchObject({ code: 'UPLOAD_GONE' });
    }
  });

  it('with S3_PUBLIC_URL, redirects /i/ to the object there, whose bytes are the upload', async () => {
    const { bucket } = await moto.bucket();
    // A public bucket, as S3_PUBLIC_URL needs (docs/configuration.md): anyone may read its objects.
    const Policy = JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${bucket}/*` }],
    });
    await moto.client.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy }));
    const publicUrl = `${moto.endpoint}/${bucket}`;
    const s3 = await started(
      {
        STORAGE: 's3',
        S3_ENDPOINT: moto.endpoint,
        S3_BUCKET: bucket,
        S3_ACCESS_KEY_ID: 'test',
        S3_SECRET_ACCESS_KEY: 'test',
        S3_FORCE_PATH_STYLE: 'true',
        S3_PREFIX: PREFIX,
        S3_PUBLIC_URL: `${publicUrl}/`,
      },
      bucket,
    );
    const bytes = await png(160, 120, 61);
    const file = await upload(s3, bytes, 'public.png');
    const answer = await get(file.raw_url);
    expect(answer.status).toBe(302);
    expect(answer.headers.get('location')).toBe(`${publicUrl}/${blobKey(file.sha256)}`);
    expect(answer.headers.get('cache-control')).toBe('no-store');
    // A redirect with no body: it used to carry the JSON text null, which its contract does not allow.
    expect(answer.body.length).toBe(0);
    const followed = await get(answer.headers.get('location')!);
    expect(followed.status).toBe(200);
    expect(sha256(followed.body)).toBe(file.sha256);
  });

  it('/readyz names s3 while the bucket answers', async () => {
    const { cached } = await shared();
    const ready = await fetch(`${cached.server.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready', storage: 's3' });
  });

  describe.each([
    [
      'its bucket is gone',
      async () => {
        const s3 = await s3Server();
        expect(await (await fetch(`${s3.server.url}/readyz`)).json()).toEqual({ status: 'ready', storage: 's3' });
        await moto.client.send(new DeleteBucketCommand({ Bucket: s3.bucket }));
        return s3;
      },
    ],
    // Nothing listens there: every request to S3 is refused.
    ['S3 does not answer', async () => s3Server({ S3_ENDPOINT: `http://127.0.0.1:${await freePort()}` })],
  ])('while %s', (_, start) => {
    it('/readyz and an upload answer 503 SERVICE_UNAVAILABLE JSON, and no row and nothing in tmp/ is kept', async () => {
      const s3 = await start();
      const unready = await fetch(`${s3.server.url}/readyz`);
      expect(unready.status).toBe(503);
      expect(unready.headers.get('content-type')).toMatch(/^application\/json/);
      expect(await unready.json()).toMatchObject({ statusCode: 503, code: 'SERVICE_UNAVAILABLE' });

      const form = new FormData();
      form.append('files[]', new Blob([new Uint8Array(await png(100, 80, 71))]), 'lost.png');
      const response = await fetch(`${s3.server.url}/api/upload`, { method: 'POST', headers: { token: s3.token }, body: form });
      const body = (await response.json()) as { statusCode: number; code: string; message: string };
      expect({ status: response.status, body }).toMatchObject({ status: 503, body: { statusCode: 503, code: 'SERVICE_UNAVAILABLE' } });
      expect(body.message).toMatch(/storage/i);
      expect(response.headers.get('retry-after')).toBe('30');
      const listed = (await (await fetch(`${s3.server.url}/api/uploads`, { headers: { token: s3.token } })).json()) as Upload[];
      expect(listed).toEqual([]);
      await until(async () => (await tmpEntries(s3.dataDir)).length === 0, 10_000, 'an empty tmp/');
    });
  });
});
