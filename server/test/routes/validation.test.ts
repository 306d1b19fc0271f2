import { beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.js';

/** JSON bodies are taken as typed; query strings and path params are text and are coerced. */
describe('request validation', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp('sqlite');
  });

  const expectInvalid = (response: { statusCode: number; json(): unknown }, message: string) => {
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ code: 'VALIDATION_FAILED', message });
  };

  it('refuses a key name that is not a string, and creates no key', async () => {
    const { token } = await t.newUser();
    for (const name of [12, true, null, ['x'], { a: 1 }]) {
      expectInvalid(
        await t.app.inject({ method: 'POST', url: '/api/keys', headers: { token }, payload: { name } }),
        'Invalid body: name must be string.',
      );
    }
    const keys = await t.app.inject({ method: 'GET', url: '/api/keys', headers: { token } });
    expect(keys.json<{ name: string }[]>().map((key) => key.name)).toEqual(['default']);
  });

  it('refuses credentials that are not strings, and registers no one', async () => {
    const payload = { username: 123456, password: 12345678901 };
    expectInvalid(await t.app.inject({ method: 'POST', url: '/api/auth/register', payload }), 'Invalid body: username must be string.');
    const login = await t.app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: '123456', password: '12345678901' } });
    expect(login.statusCode).toBe(401);
  });

  it('refuses embed settings of the wrong type, and changes nothing', async () => {
    const { token } = await t.newUser();
    const patch = (payload: object) => t.app.inject({ method: 'PATCH', url: '/api/me/embed', headers: { token }, payload });
    expectInvalid(await patch({ enabled: 'false' }), 'Invalid body: enabled must be boolean,null.');
    expectInvalid(await patch({ enabled: 0 }), 'Invalid body: enabled must be boolean,null.');
    expectInvalid(await patch({ title: 5 }), 'Invalid body: title must be string,null.');
    const settings = await t.app.inject({ method: 'GET', url: '/api/me/embed', headers: { token } });
    expect(settings.json().settings).toMatchObject({ enabled: null, title: null });
    // The right types still work, null included.
    expect((await patch({ enabled: false, title: null })).statusCode).toBe(200);
  });

  it('still reads numbers from query strings, and bounds them', async () => {
    const { token } = await t.newUser();
    const list = (query: string) => t.app.inject({ method: 'GET', url: `/api/uploads?${query}`, headers: { token } });
    expect((await list('limit=10')).statusCode).toBe(200);
    // Coerced to Infinity, these once passed `maximum` (Ajv skips it for non-finite numbers) and failed in SQL: a 500.
    for (const limit of ['1e400', '9'.repeat(400), 'Infinity'])
      expectInvalid(await list(`limit=${limit}`), 'Invalid querystring: limit must be <= 1000.');
    expectInvalid(await list('limit=abc'), 'Invalid querystring: limit must be integer.');
  });
});
