import { beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.js';

/** A request sent to the wrong place, or in the wrong form, is told where and how to send it. */
describe('misrouted requests', () => {
  let t: TestApp;
  let token: string;
  beforeAll(async () => {
    t = await createTestApp('sqlite');
    ({ token } = await t.newUser());
  });

  it('points uploads sent to POST /upload or /api/uploads at POST /api/upload', async () => {
    for (const url of ['/upload', '/uploads', '/api/uploads', '/api/uploads/']) {
      for (const headers of [{ token }, {}]) {
        const response = await t.app.inject({ method: 'POST', url, headers });
        expect(response.statusCode, url).toBe(405);
        expect(response.headers.allow).toBe('GET, HEAD');
        expect(response.json()).toMatchObject({
          code: 'METHOD_NOT_ALLOWED',
          message: expect.stringContaining('Uploads go to POST /api/upload'),
        });
      }
    }
    // Other wrong methods keep the general answer.
    const put = await t.app.inject({ method: 'PUT', url: '/api/uploads', headers: { token } });
    expect(put.json().message).toBe('PUT is not allowed here; use GET or HEAD.');
  });

  it('answers a body that is not multipart with 400 and what to send', async () => {
    const bodies: [string | undefined, string][] = [
      ['application/json', '{"files":[]}'],
      ['application/json', '{"broken'],
      ['text/plain', 'hello'],
      ['application/octet-stream', '\x89PNG'],
      ['application/x-www-form-urlencoded', 'files=1'],
      ['multipart/mixed; boundary=x', '--x--'],
      [undefined, 'no type'],
      [undefined, ''],
    ];
    for (const [type, payload] of bodies) {
      const headers = type === undefined ? { token } : { token, 'content-type': type };
      const response = await t.app.inject({ method: 'POST', url: '/api/upload', headers, payload });
      expect(response.statusCode, `${type}`).toBe(400);
      expect(response.json()).toMatchObject({
        code: 'MALFORMED_MULTIPART',
        message: expect.stringContaining('send multipart/form-data with a files[] part'),
      });
    }
    // The key is still checked first.
    const anonymous = await t.app.inject({ method: 'POST', url: '/api/upload', headers: { 'content-type': 'text/plain' }, payload: 'x' });
    expect(anonymous.statusCode).toBe(401);
  });

  it('says keys start with di_ only to keys that do not', async () => {
    const messageFor = async (key: string) => {
      const response = await t.app.inject({ method: 'GET', url: '/api/me', headers: { token: key } });
      expect(response.statusCode).toBe(401);
      return response.json<{ message: string }>().message;
    };
    for (const key of ['images_api', 'abc', 'DI_abc']) expect(await messageFor(key)).toContain('keys start with di_');
    for (const key of ['di_abc', `di_${'A'.repeat(40)}`, `${token}x`]) {
      const message = await messageFor(key);
      expect(message).toContain('not valid or has been revoked');
      expect(message).not.toContain('start with');
    }
  });
});
