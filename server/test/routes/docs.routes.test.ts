/**
 * /docs (http/plugins/docs.plugin.ts): Scalar's page and script, served from this server with a
 * CSP that lets exactly that page's scripts run. e2e/docs.browser.test.ts shows it rendering.
 */
import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.js';

describe('/docs', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp('sqlite');
  });

  it('sends /docs to /docs/, where the page resolves its script', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/docs' });
    expect(response.statusCode).toBe(301);
    expect(response.headers.location).toBe('/docs/');
  });

  it('serves the page with a CSP allowing its own inline script by hash, and nothing from elsewhere', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/docs/' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
    const html = response.body;
    expect(html).toContain('<script src="js/scalar.js"></script>');
    expect(html).toContain('"url": "/api/openapi.json"');
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);

    const policy = String(response.headers['content-security-policy']);
    const inline = [...html.matchAll(/<script(?![^>]*\bsrc=)[^>]*>([\s\S]*?)<\/script>/g)].map((match) => match[1]!);
    expect(inline).toHaveLength(1);
    const hash = `'sha256-${createHash('sha256').update(inline[0]!).digest('base64')}'`;
    expect(policy).toContain(`script-src 'self' ${hash};`);
    expect(policy).toContain("default-src 'none'");
    expect(policy).toContain("frame-ancestors 'none'");
    expect(policy).not.toContain('unsafe-eval');
    expect(policy).not.toMatch(/https?:/);
  });

  it("serves Scalar's script, revalidated by ETag and gzipped for clients that take it", async () => {
    const plain = await t.app.inject({ method: 'GET', url: '/docs/js/scalar.js' });
    expect(plain.statusCode).toBe(200);
    expect(plain.headers['content-type']).toBe('application/javascript; charset=utf-8');
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.rawPayload.length).toBeGreaterThan(1_000_000);
    // Zod inside the bundle must not probe for eval under the page's CSP.
    expect(plain.body.startsWith('globalThis.__zod_globalConfig = { jitless: true };\n')).toBe(true);

    const etag = String(plain.headers.etag);
    const again = await t.app.inject({ method: 'GET', url: '/docs/js/scalar.js', headers: { 'if-none-match': etag } });
    expect(again.statusCode).toBe(304);
    expect(again.rawPayload.length).toBe(0);

    const gzipped = await t.app.inject({ method: 'GET', url: '/docs/js/scalar.js', headers: { 'accept-encoding': 'gzip, br' } });
    expect(gzipped.headers['content-encoding']).toBe('gzip');
    expect(gzipped.headers.vary).toBe('accept-encoding');
    expect(gzipped.rawPayload.length).toBeLessThan(plain.rawPayload.length / 2);
    expect(gunzipSync(gzipped.rawPayload).equals(plain.rawPayload)).toBe(true);
  });

  it('answers anything else under /docs with the common 404', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/docs/openapi.yaml' });
    expect(response.statusCode).toBe(404);
    expect(response.json()).toMatchObject({ statusCode: 404, code: 'NOT_FOUND' });
  });
});
