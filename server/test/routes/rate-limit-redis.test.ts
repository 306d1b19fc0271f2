/**
 * Rate limits with their counters in Redis (REDIS_URL): the same classes, answers and headers
 * as the memory store (rate-limit.test.ts), counted under the deployment's REDIS_PREFIX. The
 * machine's Redis (CI's too), a fresh prefix per test; what happens across real nodes and when
 * Redis goes away is in e2e/redis.e2e.test.ts.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { expect, it } from 'vitest';
import { until } from '../../../e2e/helpers/server.js';
import { atFileEnd } from '../helpers/cleanup.js';
import { createTestApp, type TestApp } from '../helpers/app.js';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

const newPrefix = () => `test-${randomBytes(6).toString('hex')}:`;

/** An app counting in Redis under `prefix`, once its connection is up (before, it counts in memory). */
async function limited(env: Record<string, string>, prefix = newPrefix()): Promise<TestApp> {
  const t = await createTestApp('sqlite', { RATE_LIMIT: 'on', REDIS_URL, REDIS_PREFIX: prefix, ...env });
  await until(() => t.container.redis?.available === true, 10_000, 'the Redis connection');
  return t;
}

const health = (t: TestApp, remoteAddress: string) => t.app.inject({ method: 'GET', url: '/healthz', remoteAddress });

it('answers 429 with the same message and RateLimit headers, and again 200 after the window', async () => {
  const t = await limited({ RATE_LIMIT_IP: '3/1s' });
  for (let i = 0; i < 3; i++) {
    const response = await health(t, '10.1.0.1');
    expect(response.statusCode).toBe(200);
    expect(response.headers['ratelimit-policy']).toBe('"ip";q=3;w=1');
    expect(response.headers.ratelimit).toBe(`"ip";r=${2 - i};t=1`);
  }
  const refused = await health(t, '10.1.0.1');
  expect(refused.statusCode).toBe(429);
  expect(refused.json()).toMatchObject({
    code: 'RATE_LIMITED',
    message: 'Too many requests from your address (at most 3 a second): try again in 1 second.',
  });
  expect(refused.headers['retry-after']).toBe('1');
  await until(async () => (await health(t, '10.1.0.1')).statusCode === 200, 10_000, 'the window to reset');
});

it('keeps its counters under REDIS_PREFIX: apps with one prefix count together, another prefix apart', async () => {
  const prefix = newPrefix();
  const [first, second, other] = [
    await limited({ RATE_LIMIT_IP: '2/60s' }, prefix),
    await limited({ RATE_LIMIT_IP: '2/60s' }, prefix),
    await limited({ RATE_LIMIT_IP: '2/60s' }),
  ];
  expect((await health(first, '10.2.0.1')).statusCode).toBe(200);
  expect((await health(second, '10.2.0.1')).statusCode).toBe(200);
  expect((await health(first, '10.2.0.1')).statusCode).toBe(429);
  expect((await health(second, '10.2.0.1')).statusCode).toBe(429);
  expect((await health(other, '10.2.0.1')).statusCode).toBe(200);

  const redis = new Redis(REDIS_URL);
  atFileEnd(() => redis.quit());
  const keys = await redis.keys(`${prefix}*`);
  expect(keys).toEqual([`${prefix}rate:ip:10.2.0.1`]);
  expect(Number(await redis.get(keys[0]!))).toBe(4);
  expect(await redis.pttl(keys[0]!)).toBeGreaterThan(50_000);
});

it('refuses an address that keeps presenting wrong keys (failures read without counting), but not other addresses', async () => {
  const t = await limited({ RATE_LIMIT_BAD_KEY: '3/60s' });
  const { token } = await t.newUser();
  const me = (headers: Record<string, string>, remoteAddress = '10.5.0.66') =>
    t.app.inject({ method: 'GET', url: '/api/me', remoteAddress, headers });
  for (let i = 0; i < 5; i++) expect((await me({})).statusCode).toBe(401);
  for (let i = 0; i < 3; i++) expect((await me({ token: `di_${'x'.repeat(39)}${i}` })).statusCode).toBe(401);
  const refused = await me({ token });
  expect(refused.statusCode).toBe(429);
  expect(refused.json().message).toMatch(
    /^Too many requests with a wrong API key or session from your address \(at most 3 a minute\): try again in 60 seconds\.$/,
  );
  expect((await me({ token }, '10.5.0.1')).statusCode).toBe(200);
});

it('reports Redis on /readyz', async () => {
  const t = await limited({});
  const response = await t.app.inject({ method: 'GET', url: '/readyz' });
  expect(response.json()).toEqual({ status: 'ready', storage: 'local', redis: 'ready' });
  const without = await createTestApp('sqlite');
  expect((await without.app.inject({ method: 'GET', url: '/readyz' })).json()).toEqual({ status: 'ready', storage: 'local' });
});
