/**
 * Rate limits (http/plugins/rate-limit.plugin.ts). They keep no state in the database, so one
 * dialect is enough. Windows are small and resets are polled for, never slept through.
 */
import type { AddressInfo } from 'node:net';
import type { RouteOptions } from 'fastify';
import type { LightMyRequestResponse } from 'fastify';
import { describe, expect, it } from 'vitest';
import { until } from '../../../e2e/helpers/server.js';
import { loadConfig, RATE_LIMIT_DEFAULTS } from '../../src/config/config.js';
import { limitClassOf } from '../../src/http/plugins/rate-limit.plugin.js';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { png } from '../helpers/fixtures.js';
import { multipart } from '../helpers/multipart.js';

const PASSWORD = 'correct horse battery';

/** Every route and its class; the first test fails when a route is added without a line here. */
const ROUTE_CLASSES: Record<string, string> = {
  'GET /favicon.svg': 'public',
  'GET /favicon.ico': 'public',
  'GET /healthz': 'public',
  'GET /readyz': 'public',
  'POST /api/auth/register': 'register',
  'POST /api/auth/login': 'login',
  'POST /api/auth/logout': 'public',
  'GET /api/auth/registration': 'public',
  // A wrong current password is a guess, as a wrong sign-in is.
  'POST /api/me/password': 'login',
  'DELETE /api/me/sessions': 'account',
  'GET /api/admin/users': 'account',
  'PATCH /api/admin/users/:id': 'account',
  'DELETE /api/admin/users/:id': 'account',
  'GET /api/admin/stats': 'account',
  'GET /api/admin/invites': 'account',
  'POST /api/admin/invites': 'account',
  'DELETE /api/admin/invites/:id': 'account',
  'GET /api/me': 'account',
  'GET /api/keys': 'account',
  'POST /api/keys': 'account',
  'DELETE /api/keys/:id': 'account',
  'POST /api/upload': 'upload',
  'GET /api/uploads': 'account',
  'GET /api/uploads/:id': 'account',
  'DELETE /api/uploads/:id': 'account',
  'GET /api/me/embed': 'account',
  'PATCH /api/me/embed': 'account',
  'GET /api/me/embed/preview': 'account',
  'POST /api/me/embed/preview': 'account',
  'GET /api/admin/embed': 'account',
  'PATCH /api/admin/embed': 'account',
  'GET /api/oembed': 'public',
  'GET /api/openapi.json': 'public',
  'GET /docs': 'public',
  'GET /docs/js/scalar.js': 'public',
  'GET /i/:file': 'exempt',
  'GET /:id': 'public',
  'GET /d/:id/:secret': 'deletion-link',
  'POST /d/:id/:secret': 'deletion-link',
  'GET /t/:file': 'exempt',
};

/** An app with rate limits on (the test helper turns them off): the defaults, and `env`'s changes. */
const limited = (env: Record<string, string> = {}, options: Parameters<typeof createTestApp>[2] = {}) =>
  createTestApp('sqlite', { RATE_LIMIT: 'on', ...env }, options);

const login = (t: TestApp, username: string, password: string, remoteAddress: string) =>
  t.app.inject({ method: 'POST', url: '/api/auth/login', remoteAddress, payload: { username, password } });

function expectRefusal(response: LightMyRequestResponse, message: RegExp): void {
  expect(response.statusCode).toBe(429);
  const body = response.json<Record<string, unknown>>();
  expect(body).toEqual({
    statusCode: 429,
    code: 'RATE_LIMITED',
    error: 'Too Many Requests',
    message: expect.stringMatching(message),
    request_id: expect.any(String),
  });
  const retryAfter = Number(response.headers['retry-after']);
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(body.message).toContain(`try again in ${retryAfter} second`);
}

async function upload(t: TestApp, token: string, remoteAddress = '127.0.0.1'): Promise<LightMyRequestResponse> {
  const body = await multipart([{ filename: 'a.png', data: await png(8, 8, Math.floor(Math.random() * 1e6)) }]);
  return t.app.inject({ method: 'POST', url: '/api/upload', remoteAddress, headers: { ...body.headers, token }, payload: body.payload });
}

it('gives every route a limit class, and with the defaults every limited route says its policies', async () => {
  const routes: RouteOptions[] = [];
  const t = await limited({}, { onRoute: (route) => void routes.push(route) });
  const declared = Object.fromEntries(
    routes.flatMap((route) =>
      [route.method]
        .flat()
        .filter((method) => method !== 'HEAD')
        .map((method) => [`${method} ${route.url}`, limitClassOf(route)]),
    ),
  );
  expect(declared).toEqual(ROUTE_CLASSES);

  const { token } = await t.newUser();
  for (const [route, limit] of Object.entries(ROUTE_CLASSES)) {
    const [method, path] = route.split(' ') as ['GET', string];
    const response = await t.app.inject({ method, url: path.replace(/:[a-z]+/g, 'x1'), headers: { token } });
    if (limit === 'exempt') {
      expect(response.headers['ratelimit-policy'], route).toBeUndefined();
      continue;
    }
    // The defaults, as documented in docs/configuration.md.
    expect(response.headers['ratelimit-policy'], route).toMatch(/^"ip";q=600;w=60\b/);
    expect(response.headers.ratelimit, route).toMatch(/^"ip";r=\d+;t=\d+\b/);
  }
});

it('refuses to let the in-memory fast path stand in for a limited route', async () => {
  const limitRaw = (route: RouteOptions) => {
    if (route.url === '/i/:file') route.config = { ...route.config, limit: 'public' };
  };
  await expect(createTestApp('sqlite', {}, { onRoute: limitRaw })).rejects.toThrow(/\/i\/:file is served by the in-memory fast path/);
});

it('answers 429 with Retry-After and the RateLimit headers after the limit, and again 200 after the window', async () => {
  const t = await limited({ RATE_LIMIT_IP: '3/1s' });
  const remoteAddress = '10.1.0.1';
  for (let i = 0; i < 3; i++) {
    const response = await t.app.inject({ method: 'GET', url: '/healthz', remoteAddress });
    expect(response.statusCode).toBe(200);
    expect(response.headers['ratelimit-policy']).toBe('"ip";q=3;w=1');
    expect(response.headers.ratelimit).toBe(`"ip";r=${2 - i};t=1`);
  }
  const refused = await t.app.inject({ method: 'GET', url: '/healthz', remoteAddress });
  expectRefusal(refused, /^Too many requests from your address \(at most 3 a second\): try again in 1 second\.$/);
  expect(refused.headers.ratelimit).toBe('"ip";r=0;t=1');
  expect(refused.headers['cache-control']).toBe('no-store');
  await until(
    async () => (await t.app.inject({ method: 'GET', url: '/healthz', remoteAddress })).statusCode === 200,
    10_000,
    'the window to reset',
  );
});

it("counts per address: one address's limit does not touch another's", async () => {
  const t = await limited({ RATE_LIMIT_IP: '2/60s' });
  for (const expected of [200, 200, 429]) {
    expect((await t.app.inject({ method: 'GET', url: '/healthz', remoteAddress: '10.2.0.1' })).statusCode).toBe(expected);
  }
  expect((await t.app.inject({ method: 'GET', url: '/healthz', remoteAddress: '10.2.0.2' })).statusCode).toBe(200);
  // IPv6 counts per /64, as a client usually holds a whole one.
  for (const expected of [200, 200, 429]) {
    const remoteAddress = `2001:db8:1:2::${expected === 429 ? 'ff' : '1'}`;
    expect((await t.app.inject({ method: 'GET', url: '/healthz', remoteAddress })).statusCode).toBe(expected);
  }
});

it("counts per account: one key's limit does not touch another account's", async () => {
  const t = await limited({ RATE_LIMIT_ACCOUNT: '3/60s' });
  const [alice, bob] = [await t.newUser(), await t.newUser()];
  for (let i = 0; i < 3; i++)
    expect((await t.app.inject({ method: 'GET', url: '/api/me', headers: { token: alice.token } })).statusCode).toBe(200);
  const refused = await t.app.inject({ method: 'GET', url: '/api/me', headers: { token: alice.token } });
  expectRefusal(refused, /^Too many requests for your account \(at most 3 a minute\)/);
  expect(refused.headers['ratelimit-policy']).toBe('"ip";q=600;w=60, "account";q=3;w=60, "badKey";q=20;w=600');
  expect(refused.headers.ratelimit).toMatch(/^"ip";r=\d+;t=\d+, "account";r=0;t=\d+, "badKey";r=20;t=0$/);
  // Same address, other account: its own budget.
  expect((await t.app.inject({ method: 'GET', url: '/api/me', headers: { token: bob.token } })).statusCode).toBe(200);
});

it('limits uploads per account more strictly, before the body is read', async () => {
  const t = await limited({ RATE_LIMIT_UPLOAD: '2/60s' });
  const { token } = await t.newUser();
  expect((await upload(t, token)).statusCode).toBe(201);
  expect((await upload(t, token)).statusCode).toBe(201);
  expectRefusal(await upload(t, token), /^Too many uploads for your account/);
  // Other requests of the account still work.
  expect((await t.app.inject({ method: 'GET', url: '/api/uploads', headers: { token } })).json()).toHaveLength(2);
});

it('slows a burst of wrong passwords (default limits), while the real user signs in from elsewhere', async () => {
  const t = await limited({});
  const victim = await t.newUser();
  const other = await t.newUser();
  const attacker = '10.3.0.66';
  const answers = await Promise.all(Array.from({ length: 30 }, () => login(t, victim.username, 'wrong password!', attacker)));
  const statuses = answers.map((response) => response.statusCode).sort();
  expect(statuses.filter((status) => status === 401)).toHaveLength(10);
  expect(statuses.filter((status) => status === 429)).toHaveLength(20);
  expectRefusal(
    answers.find((response) => response.statusCode === 429)!,
    /^Too many sign-in attempts from your address \(at most 10 a minute\): try again in \d+ seconds?\.$/,
  );
  // The right password from the attacker's address is refused too: the address is out of attempts.
  expect((await login(t, victim.username, PASSWORD, attacker)).statusCode).toBe(429);
  // The account is not locked: its owner and others sign in from their own addresses.
  expect((await login(t, victim.username, PASSWORD, '10.3.0.1')).statusCode).toBe(200);
  expect((await login(t, other.username, PASSWORD, '10.3.0.2')).statusCode).toBe(200);
});

it('limits registrations per address', async () => {
  const t = await limited({ RATE_LIMIT_REGISTER: '2/1h' });
  const register = (remoteAddress: string) =>
    t.app.inject({
      method: 'POST',
      url: '/api/auth/register',
      remoteAddress,
      payload: { username: `r${Math.random().toString(36).slice(2, 12)}`, password: PASSWORD },
    });
  expect((await register('10.4.0.1')).statusCode).toBe(201);
  expect((await register('10.4.0.1')).statusCode).toBe(201);
  const refused = await register('10.4.0.1');
  expectRefusal(refused, /^Too many registrations from your address \(at most 2 an hour\)/);
  expect(Number(refused.headers['retry-after'])).toBeGreaterThan(3000);
  expect((await register('10.4.0.2')).statusCode).toBe(201);
});

it('refuses an address that keeps presenting wrong keys, even its right key, but not other addresses', async () => {
  const t = await limited({ RATE_LIMIT_BAD_KEY: '3/60s' });
  const { token } = await t.newUser();
  const guesser = '10.5.0.66';
  const me = (headers: Record<string, string>, remoteAddress = guesser) =>
    t.app.inject({ method: 'GET', url: '/api/me', remoteAddress, headers });
  // Forgetting the key is no guess.
  for (let i = 0; i < 5; i++) expect((await me({})).statusCode).toBe(401);
  for (let i = 0; i < 3; i++) expect((await me({ token: `di_${'x'.repeat(39)}${i}` })).statusCode).toBe(401);
  expectRefusal(await me({ token: `di_${'y'.repeat(40)}` }), /^Too many requests with a wrong API key or session from your address/);
  expectRefusal(await me({ token }), /wrong API key/);
  expect((await me({ token }, '10.5.0.1')).statusCode).toBe(200);
});

it('refuses an address that keeps guessing deletion links, but not other addresses', async () => {
  const t = await limited({ RATE_LIMIT_BAD_LINK: '3/60s' });
  const { token } = await t.newUser();
  const { delete_url: deleteUrl, id } = (await upload(t, token)).json<{ files: { delete_url: string; id: string }[] }>().files[0]!;
  const path = new URL(deleteUrl).pathname;
  const guesser = '10.6.0.66';
  for (let i = 0; i < 3; i++)
    expect((await t.app.inject({ method: 'GET', url: `/d/${id}/wrong${i}`, remoteAddress: guesser })).statusCode).toBe(404);
  expectRefusal(
    await t.app.inject({ method: 'POST', url: `/d/${id}/wrong`, remoteAddress: guesser }),
    /^Too many wrong deletion links from your address/,
  );
  expect((await t.app.inject({ method: 'GET', url: path, remoteAddress: guesser })).statusCode).toBe(429);
  // The right link still works from anywhere else.
  expect((await t.app.inject({ method: 'GET', url: path, remoteAddress: '10.6.0.1' })).statusCode).toBe(200);
});

it('turned off (RATE_LIMIT=off), refuses nothing and sends no RateLimit headers', async () => {
  const t = await createTestApp('sqlite', { RATE_LIMIT: 'off' });
  const { username } = await t.newUser();
  // One after another: at once, the password-hashing queue would refuse some (login-flood.test.ts).
  const answers: LightMyRequestResponse[] = [];
  for (let i = 0; i < 40; i++) answers.push(await login(t, username, 'wrong password!', '10.7.0.66'));
  expect(answers.map((response) => response.statusCode)).toEqual(Array(40).fill(401));
  expect(answers.some((response) => 'ratelimit' in response.headers || 'ratelimit-policy' in response.headers)).toBe(false);
});

describe('over a real socket', () => {
  it('sends the 429 with its headers, and serves raw files and thumbnails (exempt) past any limit', async () => {
    const t = await limited({ RATE_LIMIT_IP: '5/60s', RATE_LIMIT_LOGIN: '1/60s' });
    const { token, username } = await t.newUser();
    const file = (await upload(t, token)).json<{ files: { raw_url: string; thumbnail_url: string }[] }>().files[0]!;
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    const base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;

    const signIn = () =>
      fetch(`${base}/api/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username, password: 'wrong password!' }),
      });
    expect((await signIn()).status).toBe(401);
    const refused = await signIn();
    expect(refused.status).toBe(429);
    expect(refused.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(refused.headers.get('ratelimit-policy')).toBe('"ip";q=5;w=60, "login";q=1;w=60');
    expect(refused.headers.get('ratelimit')).toMatch(/^"ip";r=1;t=\d+, "login";r=0;t=\d+$/);
    expect(await refused.json()).toMatchObject({ statusCode: 429, code: 'RATE_LIMITED' });

    // Ten times the address's limit, from memory and through the routes alike.
    for (const url of [file.raw_url, file.thumbnail_url]) {
      for (let i = 0; i < 10; i++) {
        const response = await fetch(`${base}${new URL(url).pathname}`);
        expect(response.status).toBe(200);
        expect(response.headers.has('ratelimit-policy')).toBe(false);
        await response.arrayBuffer();
      }
    }
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect((await fetch(`${base}/healthz`)).status).toBe(429);
  });
});

describe('configuration', () => {
  it('reads RATE_LIMIT=off and RATE_LIMIT_<POLICY>=<max>/<window>, and names every bad value', () => {
    expect(loadConfig({ RATE_LIMIT: 'off' }).rateLimits).toBeNull();
    const limits = loadConfig({ RATE_LIMIT_LOGIN: '5/1m', RATE_LIMIT_BAD_KEY: '100/2h', RATE_LIMIT_IP: ' 50 / 30 ' }).rateLimits!;
    expect(limits).toEqual({
      ...RATE_LIMIT_DEFAULTS,
      login: { max: 5, windowSeconds: 60 },
      badKey: { max: 100, windowSeconds: 7200 },
      ip: { max: 50, windowSeconds: 30 },
    });
    expect(() =>
      loadConfig({ RATE_LIMIT: 'sometimes', RATE_LIMIT_UPLOAD: '10', RATE_LIMIT_BAD_LINK: '0/1m', RATE_LIMIT_REGISTER: '1/2d' }),
    ).toThrow(
      [
        'RATE_LIMIT=sometimes is not valid: expected true or false',
        'RATE_LIMIT_UPLOAD=10 is not valid: expected <requests>/<window>, such as 10/1m, 600/60s or 5/1h (1 to 1000000 requests, a window of 1 s to 24 h)',
        'RATE_LIMIT_REGISTER=1/2d is not valid: expected <requests>/<window>, such as 10/1m, 600/60s or 5/1h (1 to 1000000 requests, a window of 1 s to 24 h)',
        'RATE_LIMIT_BAD_LINK=0/1m is not valid: expected <requests>/<window>, such as 10/1m, 600/60s or 5/1h (1 to 1000000 requests, a window of 1 s to 24 h)',
      ].join('\n'),
    );
  });
});
