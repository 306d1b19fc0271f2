import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { buildApp } from '../../src/app.js';
import type { Config } from '../../src/config/config.js';
import { type Container, createContainer } from '../../src/container.js';
import { Thumbnailer } from '../../src/media/thumbnailer.js';
import { ThumbnailService } from '../../src/services/thumbnail.service.js';
import { blobKey, thumbnailKey, type UploadView as Upload } from '../../src/services/upload-links.js';
import { FileCache } from '../../src/storage/file-cache.js';
import type { App } from '../../src/http/types.js';
import { createTestApp, TEST_SCRYPT, type TestApp } from '../helpers/app.js';
import { uploadTempDir } from '../../src/storage/data-dir.js';
import { putBytes } from '../helpers/storage.js';
import { checkResponsesOf } from '../helpers/contract-check.js';
import { DIALECTS } from '../helpers/database.js';
import { jpeg, png } from '../helpers/fixtures.js';
import { makeJpegWithPrivateMetadata, sha256 } from '../helpers/images.js';
import { multipart } from '../helpers/multipart.js';
import { tempDir } from '../helpers/temp-dir.js';

/** The headers that make user content cacheable forever and never active, as on /i/. */
const CACHING_HEADERS = [
  'cache-control',
  'x-content-type-options',
  'content-security-policy',
  'cross-origin-resource-policy',
  'accept-ranges',
];

describe.each(DIALECTS)('thumbnails on %s', (dialect) => {
  let t: TestApp;
  let token: string;

  beforeAll(async () => {
    t = await createTestApp(dialect);
    ({ token } = await t.newUser());
  });

  /**
   * `check` run against a new process on the same data directory and database, which knows
   * nothing of earlier thumbnails but what storage holds; `config` changes its settings.
   */
  const inNewProcess = async (check: (app: App, container: Container) => Promise<void>, config: Partial<Config> = {}) => {
    const container = await createContainer({ ...t.config, ...config }, { database: t.container.database, scrypt: TEST_SCRYPT });
    const app = await buildApp(container);
    // Built here rather than by createTestApp: its answers are checked against the spec all the same.
    checkResponsesOf(app);
    try {
      await check(app, container);
    } finally {
      await app.close();
      await container.close();
    }
  };

  const upload = async (data: Buffer, filename = 'photo.jpg'): Promise<Upload> => {
    const body = await multipart([{ filename, data }]);
    const response = await t.app.inject({ method: 'POST', url: '/api/upload', headers: { ...body.headers, token }, payload: body.payload });
    expect(response.statusCode).toBe(201);
    return response.json<{ files: Upload[] }>().files[0]!;
  };
  const get = (url: string, headers: Record<string, string> = {}, method: 'GET' | 'HEAD' = 'GET') => t.app.inject({ method, url, headers });
  const pathOf = (url: string) => new URL(url).pathname;
  const remove = async (id: string) => {
    const response = await t.app.inject({ method: 'DELETE', url: `/api/uploads/${id}`, headers: { token } });
    expect(response.statusCode).toBe(204);
  };

  it('serves a WebP in the 400 px box at thumbnail_url, with the caching headers of raw files', async () => {
    const created = await upload(await jpeg(900, 600, 11));
    const url = pathOf(created.thumbnail_url);
    expect(url).toBe(`/t/${created.id}.webp`);

    const response = await get(url);
    expect(response.statusCode).toBe(200);
    const body = response.rawPayload;
    const metadata = await sharp(body).metadata();
    expect([metadata.format, metadata.width, metadata.height]).toEqual(['webp', 400, 267]);
    expect(response.headers).toMatchObject({
      'content-type': 'image/webp',
      'content-length': String(body.length),
      etag: `"t-${sha256(body)}"`,
    });
    const raw = await get(pathOf(created.raw_url));
    for (const header of CACHING_HEADERS) expect([header, response.headers[header]]).toEqual([header, raw.headers[header]]);
    expect(response.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(response.headers['content-security-policy']).toBe("default-src 'none'; sandbox");
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    expect(response.headers.etag).not.toBe(raw.headers.etag);
  });

  it('answers HEAD, If-None-Match with 304, Range with 206 and a range outside it with 416', async () => {
    const created = await upload(await png(640, 480, 12), 'shot.png');
    const url = `/t/${created.id}.webp`;
    const full = await get(url);
    const body = full.rawPayload;
    const etag = full.headers.etag as string;

    const head = await get(url, {}, 'HEAD');
    expect(head.statusCode).toBe(200);
    expect(head.headers).toMatchObject({ 'content-type': 'image/webp', 'content-length': String(body.length), etag });
    expect(head.rawPayload.length).toBe(0);

    const notModified = await get(url, { 'if-none-match': etag });
    expect(notModified.statusCode).toBe(304);
    expect(notModified.headers.etag).toBe(etag);
    expect(notModified.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(notModified.rawPayload.length).toBe(0);
    expect((await get(url, { 'if-none-match': '"t-something-else"' })).statusCode).toBe(200);

    const partial = await get(url, { range: 'bytes=10-19' });
    expect(partial.statusCode).toBe(206);
    expect(partial.headers['content-range']).toBe(`bytes 10-19/${body.length}`);
    expect(partial.headers['content-length']).toBe('10');
    expect(partial.rawPayload.equals(body.subarray(10, 20))).toBe(true);

    const suffix = await get(url, { range: 'bytes=-5' });
    expect(suffix.rawPayload.equals(body.subarray(body.length - 5))).toBe(true);

    // A range of another version (If-Range not matching) gets the whole file.
    const stale = await get(url, { range: 'bytes=0-9', 'if-range': '"t-older"' });
    expect(stale.statusCode).toBe(200);
    expect(stale.rawPayload.equals(body)).toBe(true);

    const outside = await get(url, { range: `bytes=${body.length + 10}-` });
    expect(outside.statusCode).toBe(416);
    expect(outside.headers['content-range']).toBe(`bytes */${body.length}`);
    expect(outside.json().code).toBe('RANGE_NOT_SATISFIABLE');
  });

  it('answers 404 in the JSON error shape for an unknown id or any name but <id>.webp', async () => {
    const created = await upload(await png(40, 30, 13), 'small.png');
    const unknown = await get('/t/AAAAAAAAAA.webp');
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json()).toEqual({
      statusCode: 404,
      code: 'NOT_FOUND',
      error: 'Not Found',
      message: expect.any(String),
      request_id: unknown.headers['x-request-id'],
    });
    for (const name of [
      `${created.id}.png`,
      `${created.id}.jpg`,
      created.id,
      `${created.id}.webp.png`,
      '.webp',
      `${created.id}x.webp`,
      'not-an-id.webp',
    ]) {
      const response = await get(`/t/${name}`);
      expect([name, response.statusCode, response.json().code]).toEqual([name, 404, 'NOT_FOUND']);
    }
    // Extensions are case-insensitive, as on /i/.
    expect((await get(`/t/${created.id}.WEBP`)).statusCode).toBe(200);
  });

  it('answers 410 once deleted, and removes the stored thumbnail with the last upload of the same bytes', async () => {
    const data = await jpeg(500, 300, 14);
    const first = await upload(data);
    const second = await upload(data);
    expect(second.sha256).toBe(first.sha256);
    const key = thumbnailKey(first.sha256);
    const rendersBefore = t.container.thumbnails.renders;

    const a = await get(`/t/${first.id}.webp`);
    const b = await get(`/t/${second.id}.webp`);
    expect([a.statusCode, b.statusCode]).toEqual([200, 200]);
    expect(b.headers.etag).toBe(a.headers.etag);
    expect(t.container.thumbnails.renders).toBe(rendersBefore + 1); // same bytes, one thumbnail
    await t.container.thumbnails.idle();
    expect(await t.container.storage.head(key)).toEqual({ size: a.rawPayload.length });

    await remove(first.id);
    const gone = await get(`/t/${first.id}.webp`);
    expect(gone.statusCode).toBe(410);
    expect(gone.json()).toMatchObject({ statusCode: 410, code: 'UPLOAD_GONE' });
    expect((await get(`/t/${second.id}.webp`)).statusCode).toBe(200);
    expect(await t.container.storage.head(key)).toBeDefined();

    await remove(second.id);
    expect((await get(`/t/${second.id}.webp`)).statusCode).toBe(410);
    expect(await t.container.storage.head(key)).toBeUndefined();
    expect(await t.container.storage.head(blobKey(first.sha256))).toBeUndefined();
  });

  it('renders once for 10 concurrent first requests, leaving nothing in temp', async () => {
    const created = await upload(await jpeg(1200, 800, 15));
    const rendersBefore = t.container.thumbnails.renders;
    const responses = await Promise.all(Array.from({ length: 10 }, () => get(`/t/${created.id}.webp`)));
    expect(responses.map((response) => response.statusCode)).toEqual(Array(10).fill(200));
    expect(new Set(responses.map((response) => response.headers.etag)).size).toBe(1);
    expect(responses.every((response) => response.rawPayload.equals(responses[0]!.rawPayload))).toBe(true);
    expect(t.container.thumbnails.renders).toBe(rendersBefore + 1);
    await t.container.thumbnails.idle();
    expect(await t.container.storage.head(thumbnailKey(created.sha256))).toEqual({ size: responses[0]!.rawPayload.length });
    expect((await readdir(uploadTempDir(t.container.config.dataDir))).filter((name) => name.endsWith('.thumbnail'))).toEqual([]);
  });

  it('reuses the stored thumbnail after a restart instead of rendering it again', async () => {
    const created = await upload(await png(800, 800, 16), 'square.png');
    const before = await get(`/t/${created.id}.webp`);
    expect(before.statusCode).toBe(200);
    await t.container.thumbnails.idle();

    await inNewProcess(async (app, container) => {
      const after = await app.inject({ method: 'GET', url: `/t/${created.id}.webp` });
      expect(after.statusCode).toBe(200);
      expect(after.headers.etag).toBe(before.headers.etag);
      expect(after.rawPayload.equals(before.rawPayload)).toBe(true);
      expect(container.thumbnails.renders).toBe(0);
    });
  });

  it('remakes a thumbnail removed from storage (say, an operator clearing thumbs/) with the same bytes', async () => {
    const created = await upload(await jpeg(700, 500, 17));
    const before = await get(`/t/${created.id}.webp`);
    await t.container.thumbnails.idle();
    // No memory cache, so every answer reads storage.
    await inNewProcess(
      async (app, container) => {
        const url = `/t/${created.id}.webp`;
        const stored = await app.inject({ method: 'GET', url });
        expect([stored.statusCode, stored.headers.etag, container.thumbnails.renders]).toEqual([200, before.headers.etag, 0]);

        await container.storage.delete(thumbnailKey(created.sha256));
        const remade = await app.inject({ method: 'GET', url, headers: { range: 'bytes=0-99' } });
        expect(remade.statusCode).toBe(206);
        expect(remade.rawPayload.equals(before.rawPayload.subarray(0, 100))).toBe(true);
        expect(container.thumbnails.renders).toBe(1);
        await container.thumbnails.idle();
        expect(await container.storage.head(thumbnailKey(created.sha256))).toEqual({ size: before.rawPayload.length });
      },
      { cacheSize: 0 },
    );
  });

  it('makes again a stored thumbnail that a crash cut short (they are placed without syncing)', async () => {
    const created = await upload(await jpeg(640, 400, 19));
    const before = await get(`/t/${created.id}.webp`);
    await t.container.thumbnails.idle();
    const key = thumbnailKey(created.sha256);
    const cut = join(uploadTempDir(t.container.config.dataDir), 'cut-short.webp');
    await writeFile(cut, before.rawPayload.subarray(0, 100));
    // Keys are never overwritten: the crash's leftover takes the place of the whole one.
    await t.container.storage.delete(key);
    await putBytes(t.container.storage, key, cut);

    await inNewProcess(async (app, container) => {
      const after = await app.inject({ method: 'GET', url: `/t/${created.id}.webp` });
      expect(after.statusCode).toBe(200);
      expect(after.headers.etag).toBe(before.headers.etag);
      expect(after.rawPayload.equals(before.rawPayload)).toBe(true);
      expect(container.thumbnails.renders).toBe(1);
      await container.thumbnails.idle();
      expect(await container.storage.head(key)).toEqual({ size: before.rawPayload.length });
    });
  });

  it('answers 410, storing nothing, when the original is gone from storage while this node still lists the upload', async () => {
    // Another node deleted the last upload of these bytes; this one's metadata cache has not heard yet.
    const created = await upload(await jpeg(320, 240, 21));
    await t.container.storage.delete(blobKey(created.sha256));
    const response = await get(`/t/${created.id}.webp`);
    expect(response.statusCode).toBe(410);
    expect(response.json()).toMatchObject({ statusCode: 410, code: 'UPLOAD_GONE' });
    await t.container.thumbnails.idle();
    expect(await t.container.storage.head(thumbnailKey(created.sha256))).toBeUndefined();
  });

  describe('asking storage for the thumbnail ahead of the first request', () => {
    /** A whole WebP unlike any thumbnail of the uploads here, as if placed by another node. */
    const planted = () =>
      sharp({ create: { width: 8, height: 8, channels: 3, background: '#123456' } })
        .webp()
        .toBuffer();
    const newService = () =>
      new ThumbnailService(
        t.container.files,
        t.container.storage,
        new FileCache({ maxBytes: 0 }),
        new Thumbnailer({ maxPixels: t.config.maxPixels }),
        uploadTempDir(t.config.dataDir),
      );

    it('renders at once after anticipate() found none, without asking storage again', async () => {
      const created = await upload(await jpeg(500, 400, 22));
      const service = newService();
      await service.anticipate(created.sha256);
      // Stored after the look: the first request does not see it, which costs one render.
      const data = await planted();
      await putBytes(t.container.storage, thumbnailKey(created.sha256), data);
      const thumbnail = await service.describe(created.id);
      expect(service.renders).toBe(1);
      expect(thumbnail.etag).not.toBe(`"t-${sha256(data)}"`);
      // Keys are never overwritten: the render leaves the object stored first, whole.
      await service.idle();
      expect(await t.container.storage.head(thumbnailKey(created.sha256))).toEqual({ size: data.length });
    });

    it('is asked for every upload: the first request after one renders without looking at storage', async () => {
      const created = await upload(await jpeg(500, 400, 25));
      await t.container.thumbnails.idle(); // storage has answered the upload's question
      const data = await planted();
      await putBytes(t.container.storage, thumbnailKey(created.sha256), data);
      const rendersBefore = t.container.thumbnails.renders;
      const response = await get(`/t/${created.id}.webp`);
      expect(response.statusCode).toBe(200);
      expect(t.container.thumbnails.renders).toBe(rendersBefore + 1);
      expect(response.headers.etag).not.toBe(`"t-${sha256(data)}"`);
    });

    it('trusts that storage had no thumbnail for a minute only, then asks again', async () => {
      const created = await upload(await jpeg(500, 400, 26));
      const service = newService();
      await service.anticipate(created.sha256);
      const data = await planted();
      await putBytes(t.container.storage, thumbnailKey(created.sha256), data);
      vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + 61_000 });
      try {
        const thumbnail = await service.describe(created.id);
        expect([service.renders, thumbnail.etag]).toEqual([0, `"t-${sha256(data)}"`]);
      } finally {
        vi.useRealTimers();
      }
    });

    it('uses the stored thumbnail when anticipate() found one, or when nothing was anticipated', async () => {
      const data = await planted();
      for (const anticipated of [true, false]) {
        const created = await upload(await jpeg(500, 400, anticipated ? 23 : 24));
        await putBytes(t.container.storage, thumbnailKey(created.sha256), data);
        const service = newService();
        if (anticipated) await service.anticipate(created.sha256);
        const thumbnail = await service.describe(created.id);
        expect([service.renders, thumbnail.etag]).toEqual([0, `"t-${sha256(data)}"`]);
      }
    });
  });

  it('leaves no thumbnail behind when the upload is deleted while its thumbnail renders', async () => {
    // The request that asked before the deletion gets its thumbnail; storage keeps none.
    const created = await upload(await jpeg(300, 200, 18));
    let resume!: () => void;
    const paused = new Promise<void>((resolve) => (resume = resolve));
    let rendered!: () => void;
    const renderedOnce = new Promise<void>((resolve) => (rendered = resolve));
    /** Holds a finished render back, so that the deletion lands between rendering and storing. */
    class PausingThumbnailer extends Thumbnailer {
      override async render(input: string) {
        const made = await super.render(input);
        rendered();
        await paused;
        return made;
      }
    }
    const service = new ThumbnailService(
      t.container.files,
      t.container.storage,
      new FileCache({ maxBytes: 0 }),
      new PausingThumbnailer({ maxPixels: t.config.maxPixels }),
      uploadTempDir(t.config.dataDir),
    );
    const describing = service.describe(created.id);
    await renderedOnce;
    await remove(created.id);
    resume();
    expect(await describing).toMatchObject({ mime: 'image/webp' });
    await service.idle();
    expect(await t.container.storage.head(thumbnailKey(created.sha256))).toBeUndefined();
    expect(await t.container.storage.head(blobKey(created.sha256))).toBeUndefined();
    await expect(service.describe(created.id)).rejects.toMatchObject({ code: 'UPLOAD_GONE' });
  });

  it('shows a photo upright: EXIF orientation is applied, like the upload width and height', async () => {
    const path = join(await tempDir(), 'rotated.jpg');
    await makeJpegWithPrivateMetadata(path, { width: 600, height: 300, orientation: 6 });
    const created = await upload(await readFile(path));
    expect([created.width, created.height]).toEqual([300, 600]);
    const { width, height } = await sharp((await get(`/t/${created.id}.webp`)).rawPayload).metadata();
    expect([width, height]).toEqual([200, 400]);
  });
});
