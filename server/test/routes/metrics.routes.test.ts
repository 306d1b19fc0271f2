/**
 * GET /metrics (docs/metrics.md): the exposition format, what each request adds to the request
 * histogram (the in-memory fast path's answers too, over a real socket, since inject() does not
 * go through the HTTP server), the services' counters, and who may read them.
 */
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { beforeAll, describe, expect, it } from 'vitest';
import type { UploadView as Upload } from '../../src/services/upload-links.js';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { jpeg } from '../helpers/fixtures.js';
import { type Exposition, parseExposition } from '../helpers/metrics.js';
import { multipart } from '../helpers/multipart.js';

const TOKEN = 'metrics-token-for-the-tests-0123456789';
const METRICS_ENV = { METRICS_TOKEN: TOKEN };
const bearer = { authorization: `Bearer ${TOKEN}` };

async function scrape(t: TestApp): Promise<Exposition> {
  const response = await t.app.inject({ method: 'GET', url: '/metrics', headers: bearer });
  expect(response.statusCode, response.body).toBe(200);
  return parseExposition(response.body);
}

/** Requests counted for one label set (the histogram's _count). */
const counted = (metrics: Exposition, method: string, route: string, status: number) =>
  metrics.value('http_request_duration_seconds_count', { method, route, status: String(status) }) ?? 0;

async function upload(t: TestApp, token: string, seeds: number[]): Promise<{ uploads: Upload[]; bytes: Buffer[] }> {
  const bytes = await Promise.all(seeds.map((seed) => jpeg(64, 48, seed)));
  const body = await multipart(bytes.map((data, i) => ({ filename: `m${i}.jpg`, data })));
  const response = await t.app.inject({ method: 'POST', url: '/api/upload', headers: { ...body.headers, token }, payload: body.payload });
  expect(response.statusCode, response.body).toBe(201);
  return { uploads: response.json<{ files: Upload[] }>().files, bytes };
}

describe('GET /metrics with METRICS_TOKEN', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp('sqlite', METRICS_ENV);
  });

  it("answers in Prometheus's text format: our metrics and prom-client's process metrics", async () => {
    const response = await t.app.inject({ method: 'GET', url: '/metrics', headers: bearer });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(response.headers['cache-control']).toBe('no-store');
    const { types } = parseExposition(response.body);
    expect(Object.fromEntries([...types].filter(([name]) => name.startsWith('http_') || name.startsWith('discord_images_')))).toEqual({
      http_request_duration_seconds: 'histogram',
      discord_images_upload_files_total: 'counter',
      discord_images_upload_bytes_total: 'counter',
      discord_images_thumbnails_rendered_total: 'counter',
      discord_images_file_cache_hits_total: 'counter',
      discord_images_file_cache_misses_total: 'counter',
      discord_images_file_cache_bytes: 'gauge',
      discord_images_file_cache_entries: 'gauge',
      discord_images_rate_limit_refusals_total: 'counter',
    });
    for (const name of [
      'process_cpu_seconds_total',
      'process_resident_memory_bytes',
      'nodejs_eventloop_lag_seconds',
      'nodejs_eventloop_lag_p99_seconds',
    ]) {
      expect(types.has(name), name).toBe(true);
    }
  });

  it('counts each request under its route pattern and status, its time in the histogram', async () => {
    const before = await scrape(t);
    expect((await t.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    expect((await t.app.inject({ method: 'GET', url: '/i/NoSuchUpload1.png' })).statusCode).toBe(404);
    expect((await t.app.inject({ method: 'GET', url: '/no/such/page' })).statusCode).toBe(404);
    const after = await scrape(t);

    expect(counted(after, 'GET', '/healthz', 200) - counted(before, 'GET', '/healthz', 200)).toBe(1);
    expect(counted(after, 'GET', '/i/:file', 404) - counted(before, 'GET', '/i/:file', 404)).toBe(1);
    expect(counted(after, 'GET', 'unmatched', 404) - counted(before, 'GET', 'unmatched', 404)).toBe(1);
    const healthz = { method: 'GET', route: '/healthz', status: '200' };
    const inf = (m: Exposition) => m.value('http_request_duration_seconds_bucket', { ...healthz, le: '+Inf' }) ?? 0;
    expect(inf(after) - inf(before)).toBe(1);
    expect(after.value('http_request_duration_seconds_sum', healthz)).toBeGreaterThan(
      before.value('http_request_duration_seconds_sum', healthz) ?? 0,
    );
    // Buckets are cumulative, and the last one is the count.
    const buckets = after
      .samples('http_request_duration_seconds_bucket')
      .filter((s) => s.labels.route === '/healthz' && s.labels.status === '200');
    expect(buckets.map((s) => s.value)).toEqual([...buckets.map((s) => s.value)].sort((a, b) => a - b));
    // Never the URL asked for: the label's values stay as few as the routes.
    const routes = new Set(after.samples('http_request_duration_seconds_count').map((s) => s.labels.route));
    expect([...routes].filter((route) => route !== 'unmatched' && !route?.startsWith('/'))).toEqual([]);
    expect([...routes].some((route) => route?.includes('NoSuchUpload') || route?.includes('/no/such'))).toBe(false);
  });

  it('counts uploads (files and bytes) and thumbnails rendered', async () => {
    const { token } = await t.newUser();
    const before = await scrape(t);
    const { uploads, bytes } = await upload(t, token, [601, 602]);
    const thumbnail = await t.app.inject({ method: 'GET', url: `/t/${uploads[0]!.id}.webp` });
    expect(thumbnail.statusCode).toBe(200);
    const after = await scrape(t);
    const delta = (name: string) => (after.value(name) ?? 0) - (before.value(name) ?? 0);
    expect(delta('discord_images_upload_files_total')).toBe(2);
    // The stored files: metadata stripped, so their sizes as the upload answered them.
    expect(delta('discord_images_upload_bytes_total')).toBe(uploads.reduce((sum, u) => sum + u.size, 0));
    expect(bytes.length).toBe(2);
    expect(delta('discord_images_thumbnails_rendered_total')).toBe(1);
    expect(after.value('discord_images_file_cache_entries')).toBeGreaterThan(0);
  });

  it('refuses a missing or wrong token with 401, and takes the right one in any case of "Bearer"', async () => {
    for (const headers of [
      {},
      { authorization: `Bearer ${TOKEN}x` },
      { authorization: TOKEN },
      { token: TOKEN },
      { authorization: 'Bearer ' },
    ]) {
      const response = await t.app.inject({ method: 'GET', url: '/metrics', headers });
      expect(response.statusCode, JSON.stringify(headers)).toBe(401);
      expect(response.json()).toMatchObject({ code: 'UNAUTHORIZED', message: expect.stringContaining('METRICS_TOKEN') });
      expect(response.headers['www-authenticate']).toBe('Bearer realm="metrics"');
      expect(response.body).not.toContain('# TYPE');
    }
    expect((await t.app.inject({ method: 'GET', url: '/metrics', headers: { authorization: `bearer ${TOKEN}` } })).statusCode).toBe(200);
  });
});

describe('the in-memory fast path', () => {
  it('is counted too, with the file cache hit it made', async () => {
    let routed = 0;
    const t = await createTestApp('sqlite', METRICS_ENV, {
      beforeReady: (app) =>
        app.addHook('onRequest', (request, _reply, done) => {
          if (request.url.startsWith('/i/')) routed += 1;
          done();
        }),
    });
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    const base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
    const { token } = await t.newUser();
    const { uploads } = await upload(t, token, [611]);
    const url = `${base}/i/${uploads[0]!.id}.jpg`;

    const before = await scrape(t);
    expect((await fetch(url)).status).toBe(200); // through the route, which reads the file into memory
    const hot = await fetch(url); // from memory
    expect(hot.status).toBe(200);
    await hot.arrayBuffer();
    expect((await fetch(url, { method: 'HEAD' })).status).toBe(200);
    // Only the first went through Fastify: the others are the fast path's.
    expect(routed).toBe(1);
    const after = await scrape(t);

    expect(counted(after, 'GET', '/i/:file', 200) - counted(before, 'GET', '/i/:file', 200)).toBe(2);
    expect(counted(after, 'HEAD', '/i/:file', 200) - counted(before, 'HEAD', '/i/:file', 200)).toBe(1);
    const fast = { method: 'HEAD', route: '/i/:file', status: '200' };
    expect(
      (after.value('http_request_duration_seconds_bucket', { ...fast, le: '+Inf' }) ?? 0) -
        (before.value('http_request_duration_seconds_bucket', { ...fast, le: '+Inf' }) ?? 0),
    ).toBe(1);
    const delta = (name: string) => (after.value(name) ?? 0) - (before.value(name) ?? 0);
    expect(delta('discord_images_file_cache_misses_total')).toBe(1);
    expect(delta('discord_images_file_cache_hits_total')).toBe(2);
  });
});

describe('rate-limit refusals', () => {
  it('are counted by policy', async () => {
    const t = await createTestApp('sqlite', { ...METRICS_ENV, RATE_LIMIT: 'on', RATE_LIMIT_LOGIN: '1/1m' });
    const login = () =>
      t.app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: 'nobody', password: 'wrong password!' } });
    expect((await login()).statusCode).toBe(401);
    expect((await login()).statusCode).toBe(429);
    expect((await login()).statusCode).toBe(429);
    const metrics = await scrape(t);
    expect(metrics.samples('discord_images_rate_limit_refusals_total')).toEqual([{ labels: { policy: 'login' }, value: 2 }]);
    expect(counted(metrics, 'POST', '/api/auth/login', 429)).toBe(2);
  });
});

describe('where /metrics is not', () => {
  it.each([
    ['METRICS unset', {}],
    ['METRICS=off with a token', { METRICS: 'off', METRICS_TOKEN: TOKEN }],
    ['METRICS_PORT alone (the main port has none)', { METRICS_PORT: '9' }],
  ])('%s: 404', async (_name, env) => {
    const t = await createTestApp('sqlite', env);
    const response = await t.app.inject({ method: 'GET', url: '/metrics', headers: bearer });
    expect(response.statusCode).toBe(404);
    expect(response.body).not.toContain('# TYPE');
  });
});

describe('request logs', () => {
  it('are JSON lines carrying the request id the answer names in x-request-id', async () => {
    const lines: string[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(...chunk.toString().split('\n').filter(Boolean));
        done();
      },
    });
    const t = await createTestApp('sqlite', {}, { logger: { level: 'info', stream } });
    const response = await t.app.inject({ method: 'GET', url: '/healthz' });
    const id = response.headers['x-request-id'];
    expect(id).toMatch(/^[A-Za-z0-9]+$/);
    const mine = lines.map((line) => JSON.parse(line) as { reqId?: string; msg: string }).filter((line) => line.reqId === id);
    expect(mine.map((line) => line.msg)).toEqual(['incoming request', 'request completed']);
  });
});
