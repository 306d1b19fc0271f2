import { beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.js';

describe('one error shape everywhere', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp('sqlite');
  });

  it('answers unknown routes with the JSON 404', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/api/nothing-here' });
    expect(response.statusCode).toBe(404);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    expect(response.json()).toEqual({ statusCode: 404, code: 'NOT_FOUND', error: 'Not Found', message: expect.any(String), request_id: response.headers['x-request-id'] });
  });

  it('answers a wrong method with 405 and Allow', async () => {
    const response = await t.app.inject({ method: 'PUT', url: '/api/uploads' });
    expect(response.statusCode).toBe(405);
    expect(response.headers.allow).toContain('GET');
    expect(response.json().code).toBe('METHOD_NOT_ALLOWED');
  });

  it('answers 406 when the client accepts no JSON', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/api/uploads', headers: { accept: 'text/html' } });
    expect(response.statusCode).toBe(406);
    expect(response.json().code).toBe('NOT_ACCEPTABLE');
    const ok = await t.app.inject({ method: 'GET', url: '/healthz', headers: { accept: 'application/json;q=0.9, */*;q=0.1' } });
    expect(ok.statusCode).toBe(200);
  });

  it('answers unparseable JSON with 400 and a non-JSON body type with 415', async () => {
    const bad = await t.app.inject({ method: 'POST', url: '/api/auth/login', headers: { 'content-type': 'application/json' }, payload: '{"username":' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().code).toBe('BAD_REQUEST');
    const xml = await t.app.inject({ method: 'POST', url: '/api/auth/login', headers: { 'content-type': 'application/xml' }, payload: '<a/>' });
    expect(xml.statusCode).toBe(415);
  });

  it('names the offending field in validation errors', async () => {
    const { token } = await t.newUser();
    const unknown = await t.app.inject({ method: 'POST', url: '/api/keys', headers: { token }, payload: { name: 'ok', admin: true } });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().message).toBe('Invalid body: unknown field "admin".');
    const limit = await t.app.inject({ method: 'GET', url: '/api/uploads?limit=5000', headers: { token } });
    expect(limit.json().message).toBe('Invalid querystring: limit must be <= 1000.');
    const blank = await t.app.inject({ method: 'POST', url: '/api/keys', headers: { token }, payload: { name: '   ' } });
    expect(blank.statusCode).toBe(400);
  });

  it('answers an absurdly long path segment with our 404, not a framework error', async () => {
    const response = await t.app.inject({ method: 'GET', url: `/i/${'a'.repeat(500)}.png` });
    expect(response.statusCode).toBe(404);
    expect(response.json()).toMatchObject({ code: 'NOT_FOUND', request_id: response.headers['x-request-id'] });
    expect(response.headers['cache-control']).toBe('no-store');
  });

  it('never lets an error response be cached', async () => {
    const missing = await t.app.inject({ method: 'GET', url: '/i/AAAAAAAAAA.png' });
    expect(missing.statusCode).toBe(404);
    expect(missing.headers['cache-control']).toBe('no-store');
    expect(missing.headers.etag).toBeUndefined();
  });

  it('reports liveness and readiness', async () => {
    expect((await t.app.inject({ method: 'GET', url: '/healthz' })).json()).toEqual({ status: 'ok' });
    expect((await t.app.inject({ method: 'GET', url: '/readyz' })).json()).toEqual({ status: 'ready' });
  });

  it('answers 503 once draining', async () => {
    const draining = await createTestApp('sqlite');
    await draining.app.drain();
    const response = await draining.app.inject({ method: 'GET', url: '/api/me' });
    expect(response.statusCode).toBe(503);
    expect(response.json().code).toBe('SERVICE_UNAVAILABLE');
  });
});
