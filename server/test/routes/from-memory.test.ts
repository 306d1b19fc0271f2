/**
 * Raw files and thumbnails in memory are answered before Fastify (src/http/from-memory.ts). Over a real
 * socket, since inject() does not go through the HTTP server: every answer of the fast path
 * must be the one the route gives, and everything it does not handle must still reach the route.
 */
import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { beforeAll, describe, expect, it } from 'vitest';
import type { UploadView as Upload } from '../../src/services/upload-links.js';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { DIALECTS } from '../helpers/database.js';
import { jpeg } from '../helpers/fixtures.js';
import { multipart } from '../helpers/multipart.js';

/**
 * Headers that differ by design (the id), or that Node sets per exchange: the date, and for
 * connection management (a HEAD is answered with Connection: close). All others must be equal.
 */
const PER_RESPONSE = new Set(['date', 'x-request-id', 'connection', 'keep-alive']);
const comparable = (headers: Headers) => Object.fromEntries([...headers].filter(([name]) => !PER_RESPONSE.has(name)));

interface Served {
  t: TestApp;
  base: string;
  /** Raw and thumbnail requests that went through Fastify's request cycle. */
  routed: () => number;
}

async function serve(
  dialect: Parameters<typeof createTestApp>[0],
  options: Parameters<typeof createTestApp>[2] = {},
  env: Record<string, string> = {},
): Promise<Served> {
  let routed = 0;
  const t = await createTestApp(dialect, env, {
    ...options,
    beforeReady: (app) =>
      app.addHook('onRequest', (request, _reply, done) => {
        if (request.url.startsWith('/i/') || request.url.startsWith('/t/')) routed += 1;
        done();
      }),
  });
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = t.app.server.address() as AddressInfo;
  return { t, base: `http://127.0.0.1:${port}`, routed: () => routed };
}

async function uploadJpeg(t: TestApp, seed: number): Promise<{ upload: Upload; data: Buffer; token: string }> {
  const { token } = await t.newUser();
  const data = await jpeg(64, 48, seed);
  const body = await multipart([{ filename: 'hot.jpg', data }]);
  const response = await t.app.inject({ method: 'POST', url: '/api/upload', headers: { ...body.headers, token }, payload: body.payload });
  expect(response.statusCode).toBe(201);
  return { upload: response.json<{ files: Upload[] }>().files[0]!, data, token };
}

describe.each(DIALECTS)('raw files from memory on %s', (dialect) => {
  let s: Served;
  beforeAll(async () => {
    s = await serve(dialect);
  });

  it('answers a file already in memory without Fastify, exactly as the route does', async () => {
    const { upload, data } = await uploadJpeg(s.t, 301);
    const url = `${s.base}/i/${upload.id}.jpg`;
    const before = s.routed();
    const cold = await fetch(url); // reads the file, which puts it in memory
    const hot = await fetch(url);
    expect(s.routed() - before).toBe(1);

    expect(hot.status).toBe(200);
    expect(comparable(hot.headers)).toEqual(comparable(cold.headers));
    expect(hot.headers.get('connection')).toBe('keep-alive');
    expect(hot.headers.get('x-request-id')).toMatch(/^[A-Za-z0-9]+$/);
    expect(hot.headers.get('x-request-id')).not.toBe(cold.headers.get('x-request-id'));
    expect(Buffer.from(await hot.arrayBuffer()).equals(data)).toBe(true);
    expect(Buffer.from(await cold.arrayBuffer()).equals(data)).toBe(true);

    // The same in HEAD, with .jpeg, an upper-case extension and a query string.
    for (const [method, path] of [
      ['HEAD', `/i/${upload.id}.jpg`],
      ['GET', `/i/${upload.id}.jpeg`],
      ['GET', `/i/${upload.id}.JPG`],
      ['GET', `/i/${upload.id}.jpg?from=discord`],
    ] as const) {
      const response = await fetch(`${s.base}${path}`, { method });
      expect(response.status, path).toBe(200);
      expect(comparable(response.headers), path).toEqual(comparable(cold.headers));
      expect((await response.arrayBuffer()).byteLength, path).toBe(method === 'HEAD' ? 0 : data.length);
    }
    expect(s.routed() - before).toBe(1);
  });

  it('answers a thumbnail already made without Fastify, exactly as the route does', async () => {
    const { upload, token } = await uploadJpeg(s.t, 305);
    const url = `${s.base}/t/${upload.id}.webp`;
    const before = s.routed();
    const first = await fetch(url); // renders it, which keeps it in memory
    const again = await fetch(`${url}?v=2`);
    const upper = await fetch(`${s.base}/t/${upload.id}.WEBP`);
    expect(s.routed() - before).toBe(1);
    const bytes = Buffer.from(await first.arrayBuffer());
    expect(first.headers.get('content-type')).toBe('image/webp');
    for (const response of [again, upper]) {
      expect(response.status).toBe(200);
      expect(comparable(response.headers)).toEqual(comparable(first.headers));
      expect(Buffer.from(await response.arrayBuffer()).equals(bytes)).toBe(true);
    }

    expect((await fetch(`${s.base}/t/${upload.id}.png`)).status).toBe(404);
    expect((await s.t.app.inject({ method: 'DELETE', url: `/api/uploads/${upload.id}`, headers: { token } })).statusCode).toBe(204);
    expect((await fetch(url)).status).toBe(410);
    expect(s.routed() - before).toBe(3);
  });

  it('leaves ranges, conditional requests, wrong extensions and deleted files to the route', async () => {
    const { upload, data, token } = await uploadJpeg(s.t, 302);
    const url = `${s.base}/i/${upload.id}.jpg`;
    await (await fetch(url)).arrayBuffer();
    const before = s.routed();

    const partial = await fetch(url, { headers: { range: 'bytes=0-9' } });
    expect(partial.status).toBe(206);
    expect(Buffer.from(await partial.arrayBuffer()).equals(data.subarray(0, 10))).toBe(true);
    expect((await fetch(url, { headers: { 'if-none-match': `"${upload.sha256}"` } })).status).toBe(304);
    expect((await fetch(`${s.base}/i/${upload.id}.png`)).status).toBe(404);
    expect((await fetch(`${s.base}/i/${upload.id}.jpg/`)).status).toBe(200);
    expect(s.routed() - before).toBe(4);

    const stranger = await s.t.newUser();
    expect(
      (await s.t.app.inject({ method: 'DELETE', url: `/api/uploads/${upload.id}`, headers: { token: stranger.token } })).statusCode,
    ).toBe(404);
    expect((await fetch(url)).status).toBe(200);
    expect((await s.t.app.inject({ method: 'DELETE', url: `/api/uploads/${upload.id}`, headers: { token } })).statusCode).toBe(204);
    const gone = await fetch(url);
    expect(gone.status).toBe(410);
    expect(gone.headers.get('content-type')).toMatch(/^application\/json/);
  });

  it('lets the drain plugin answer 503 once the server is draining', async () => {
    const draining = await serve(dialect);
    const { upload } = await uploadJpeg(draining.t, 303);
    const url = `${draining.base}/i/${upload.id}.jpg`;
    await (await fetch(url)).arrayBuffer();
    expect((await fetch(url)).status).toBe(200);
    await draining.t.app.drain();
    const refused = await fetch(url);
    expect(refused.status).toBe(503);
    expect(refused.headers.get('connection')).toBe('close');
  });
});

describe('raw files from memory and shutdown', () => {
  it('drain() waits until a file answered from memory has left the process', async () => {
    const s = await serve('sqlite');
    const { upload } = await uploadJpeg(s.t, 306);
    const url = `${s.base}/i/${upload.id}.jpg`;
    await (await fetch(url)).arrayBuffer();
    const { app } = s.t;
    const track = app.trackResponse.bind(app);
    const tracked: ServerResponse[] = [];
    app.trackResponse = (response) => {
      tracked.push(response);
      track(response);
    };
    await (await fetch(url)).arrayBuffer();
    expect(tracked).toHaveLength(1); // the fast path's answer is counted as in flight...

    // ...until it closes. On loopback the kernel takes a whole cached file at once, so a
    // response still being written to a slow client is stood in for by an emitter.
    const slow = new EventEmitter() as ServerResponse;
    app.trackResponse(slow);
    let drained = false;
    const draining = app.drain().then(() => (drained = true));
    // drain() settles on events only; a turn of the event loop lets every one already due run.
    await new Promise((resolve) => setImmediate(resolve));
    expect(drained).toBe(false);
    slow.emit('close');
    await draining;
    expect(drained).toBe(true);
  });
});

interface LogLine {
  level: number;
  msg: string;
  req?: { url: string };
  res?: { statusCode: number };
}

/** A server whose pino log at `level` is kept, parsed, for assertions. */
async function logging(level: string): Promise<Served & { lines: LogLine[] }> {
  const lines: LogLine[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) if (line) lines.push(JSON.parse(line) as LogLine);
      done();
    },
  });
  return { ...(await serve('sqlite', { logger: { level, stream } })), lines };
}

const PINO = { debug: 20, info: 30 };
const linesFor = (lines: LogLine[], path: string) => lines.filter((line) => line.req?.url === path);

describe('raw files and request logging', () => {
  it('at info, the default, file hits come from memory and are not logged; misses and every other request are', async () => {
    const s = await logging('info');
    const { upload, token } = await uploadJpeg(s.t, 304);
    expect(s.lines.some((line) => line.level === PINO.info && line.req?.url === '/api/upload')).toBe(true);

    const raw = `/i/${upload.id}.jpg`;
    const thumbnail = `/t/${upload.id}.webp`;
    for (let i = 0; i < 3; i += 1) {
      expect((await fetch(`${s.base}${raw}`)).status).toBe(200);
      expect((await fetch(`${s.base}${thumbnail}`)).status).toBe(200);
    }
    expect(s.routed()).toBe(2); // the first of each; the rest came from memory
    expect(s.lines.filter((line) => line.msg === 'file served')).toEqual([]);

    const missing = `/i/${upload.id}.png`;
    expect((await fetch(`${s.base}${missing}`)).status).toBe(404);
    expect(linesFor(s.lines, missing)).toEqual([expect.objectContaining({ level: PINO.info, res: { statusCode: 404 } })]);
    expect((await s.t.app.inject({ method: 'DELETE', url: `/api/uploads/${upload.id}`, headers: { token } })).statusCode).toBe(204);
    expect((await fetch(`${s.base}${raw}`)).status).toBe(410);
    expect(linesFor(s.lines, raw)).toEqual([expect.objectContaining({ level: PINO.info, res: { statusCode: 410 } })]);
  });

  it('at debug, every file hit goes through Fastify and is logged, one line each with its URL', async () => {
    const s = await logging('debug');
    const { upload } = await uploadJpeg(s.t, 307);
    const raw = `/i/${upload.id}.jpg`;
    for (let i = 0; i < 3; i += 1) expect((await fetch(`${s.base}${raw}`)).status).toBe(200);
    expect(s.routed()).toBe(3);
    expect(linesFor(s.lines, raw)).toEqual(
      Array.from({ length: 3 }, () => expect.objectContaining({ level: PINO.debug, msg: 'file served', res: { statusCode: 200 } })),
    );
  });
});
