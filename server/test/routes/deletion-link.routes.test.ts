/**
 * POST /d/:id/:secret takes the confirm page's form as a browser sends it (urlencoded, within
 * a small limit) and answers a page; a client asking for JSON gets JSON. Clicking the real
 * button in Chromium is e2e/deletion-link.browser.test.ts.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { UploadView as Upload } from '../../src/services/upload-links.js';
import { createTestApp, PUBLIC_URL, type TestApp } from '../helpers/app.js';
import { DIALECTS } from '../helpers/database.js';
import { png } from '../helpers/fixtures.js';
import { multipart } from '../helpers/multipart.js';

const FORM = {
  'content-type': 'application/x-www-form-urlencoded',
  accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8',
};

describe.each(DIALECTS)('the deletion link on %s', (dialect) => {
  let t: TestApp;
  let token: string;

  beforeAll(async () => {
    t = await createTestApp(dialect);
    ({ token } = await t.newUser());
  });

  async function uploadOne(): Promise<{ path: string; raw: string }> {
    const body = await multipart([{ filename: 'shot.png', data: await png(9, 9, 9) }]);
    const response = await t.app.inject({ method: 'POST', url: '/api/upload', headers: { ...body.headers, token }, payload: body.payload });
    const file = response.json<{ files: Upload[] }>().files[0]!;
    return { path: file.delete_url.slice(PUBLIC_URL.length), raw: `/i/${file.id}.png` };
  }
  const rawStatus = async (raw: string) => (await t.app.inject({ method: 'GET', url: raw })).statusCode;

  it("deletes on the form a browser submits, and answers with the pages' headers", async () => {
    const { path, raw } = await uploadOne();
    const confirm = await t.app.inject({ method: 'GET', url: path, headers: { accept: FORM.accept } });
    const done = await t.app.inject({ method: 'POST', url: path, headers: FORM, payload: '' });
    expect(done.statusCode).toBe(200);
    expect(done.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(done.body).toContain('<h1>Deleted</h1>');
    // The result page goes through the confirm page's path: the same security headers.
    for (const name of ['cache-control', 'referrer-policy', 'content-security-policy', 'x-content-type-options']) {
      expect(done.headers[name], name).toBe(confirm.headers[name]);
    }
    expect(await rawStatus(raw)).toBe(410);
  });

  it('refuses a form body over 1 KiB (there is nothing to send) and deletes nothing', async () => {
    const { path, raw } = await uploadOne();
    const response = await t.app.inject({ method: 'POST', url: path, headers: FORM, payload: `x=${'y'.repeat(2048)}` });
    expect(response.statusCode).toBe(413);
    expect(await rawStatus(raw)).toBe(200);
  });

  it('answers JSON to a client that asks for it: 204, then 404 / 410 in the error shape', async () => {
    const { path, raw } = await uploadOne();
    const json = { accept: 'application/json' };
    const wrong = await t.app.inject({ method: 'POST', url: `${path.slice(0, -4)}AAAA`, headers: json });
    expect(wrong.json()).toMatchObject({ statusCode: 404, code: 'UPLOAD_NOT_FOUND' });
    expect(await rawStatus(raw)).toBe(200);
    const done = await t.app.inject({ method: 'POST', url: path, headers: json });
    expect(done.statusCode).toBe(204);
    expect(done.headers['cache-control']).toBe('no-store');
    expect(await rawStatus(raw)).toBe(410);
    expect((await t.app.inject({ method: 'POST', url: path, headers: json })).json()).toMatchObject({
      statusCode: 410,
      code: 'UPLOAD_GONE',
    });
  });
});
