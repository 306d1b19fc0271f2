import type { AddressInfo } from 'node:net';
import { beforeAll, describe, expect, it } from 'vitest';
import type { UploadView as Upload } from '../../src/services/upload-links.js';
import { createTestApp, PUBLIC_URL, type TestApp } from '../helpers/app.js';
import { png } from '../helpers/fixtures.js';
import { multipart } from '../helpers/multipart.js';

/** Every server-rendered HTML page, whatever it answers, carries these. */
function expectPageHeaders(headers: Record<string, unknown>, what: string) {
  expect(headers['content-type'], what).toBe('text/html; charset=utf-8');
  expect(headers['x-content-type-options'], what).toBe('nosniff');
  const csp = String(headers['content-security-policy']);
  expect(csp, what).toMatch(/^default-src 'none'; /);
  expect(csp, what).toContain("frame-ancestors 'none'");
  expect(csp, what).toContain("base-uri 'none'");
  expect(headers['referrer-policy'], what).toBeDefined();
}

async function uploadOne(t: TestApp, token: string, seed: number): Promise<Upload> {
  const body = await multipart([{ filename: 'shot.png', data: await png(8, 8, seed) }]);
  const response = await t.app.inject({ method: 'POST', url: '/api/upload', headers: { ...body.headers, token }, payload: body.payload });
  expect(response.statusCode, response.body).toBe(201);
  return response.json<{ files: Upload[] }>().files[0]!;
}

describe('headers of the server-rendered pages', () => {
  let t: TestApp;
  let token: string;

  beforeAll(async () => {
    t = await createTestApp('sqlite');
    ({ token } = await t.newUser());
  });

  it('deletion pages (confirm, done, wrong secret, gone) run no script, cannot be framed or sniffed, and leak no Referer', async () => {
    const file = await uploadOne(t, token, 1);
    const path = file.delete_url.slice(PUBLIC_URL.length);
    const answers = {
      confirm: await t.app.inject({ method: 'GET', url: path }),
      'wrong secret': await t.app.inject({ method: 'GET', url: `/d/${file.id}/${'x'.repeat(32)}` }),
      done: await t.app.inject({ method: 'POST', url: path }),
      gone: await t.app.inject({ method: 'GET', url: path }),
    };
    expect(Object.values(answers).map((answer) => answer.statusCode)).toEqual([200, 404, 200, 410]);
    for (const [what, answer] of Object.entries(answers)) {
      expectPageHeaders(answer.headers, what);
      const csp = String(answer.headers['content-security-policy']);
      expect(csp, what).not.toContain('script-src');
      // The confirm page's form posts back to itself.
      expect(csp, what).toContain("form-action 'self'");
      expect(answer.headers['referrer-policy'], what).toBe('no-referrer');
      expect(answer.headers['cache-control'], what).toBe('no-store');
      expect(answer.body, what).not.toContain('<script');
    }
  });

  it('the share page (and its 404 and 410 pages) allows its image and its one hashed script, nothing else', async () => {
    const file = await uploadOne(t, token, 2);
    const page = await t.app.inject({ method: 'GET', url: `/${file.id}` });
    expect(page.statusCode).toBe(200);
    expectPageHeaders(page.headers, 'share page');
    const csp = String(page.headers['content-security-policy']);
    expect(csp).toContain(`img-src 'self' ${PUBLIC_URL}`);
    expect(csp).toMatch(/script-src 'sha256-[A-Za-z0-9+/]+=*';/);
    expect(csp).toContain("form-action 'none'");
    expect(page.headers['referrer-policy']).toBe('strict-origin-when-cross-origin');

    await t.app.inject({ method: 'DELETE', url: `/api/uploads/${file.id}`, headers: { token } });
    for (const [url, status] of [
      [`/${file.id}`, 410],
      ['/AAAAAAAAAA', 404],
    ] as const) {
      const answer = await t.app.inject({ method: 'GET', url });
      expect(answer.statusCode).toBe(status);
      expectPageHeaders(answer.headers, url);
    }
  });

  it('sends no Strict-Transport-Security when PUBLIC_URL is http', async () => {
    const base = await listen(t);
    const answers = await Promise.all(['/healthz', '/AAAAAAAAAA', '/api/uploads', '/favicon.svg'].map((path) => fetch(`${base}${path}`)));
    for (const answer of answers) expect(answer.headers.get('strict-transport-security'), answer.url).toBeNull();
  });
});

describe('with an https PUBLIC_URL', () => {
  it('every answer carries Strict-Transport-Security: pages, JSON, errors, raw files from disk and from memory', async () => {
    const t = await createTestApp('sqlite', { PUBLIC_URL: 'https://img.test' });
    const { token } = await t.newUser();
    const file = await uploadOne(t, token, 3);
    const base = await listen(t);
    const raw = `${base}/i/${file.id}.png`;
    const paths = [
      `/${file.id}`, // share page
      file.delete_url.slice('https://img.test'.length),
      '/healthz',
      '/api/uploads', // 401 JSON
      '/AAAAAAAAAA',
    ];
    const answers = await Promise.all(paths.map((path) => fetch(`${base}${path}`)));
    // The first fetch of a raw file goes through Fastify; later ones are answered from memory.
    answers.push(await fetch(raw), await fetch(raw), await fetch(raw, { method: 'HEAD' }));
    for (const answer of answers) {
      expect(answer.headers.get('strict-transport-security'), `${answer.status} ${answer.url}`).toBe('max-age=31536000');
      await answer.arrayBuffer();
    }
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200, 401, 404, 200, 200, 200]);
  });
});

/** Listens on a free loopback port (closed with the app) and returns its base URL. */
async function listen(t: TestApp): Promise<string> {
  if (!t.app.server.listening) await t.app.listen({ port: 0, host: '127.0.0.1' });
  return `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
}
