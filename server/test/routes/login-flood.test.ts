/**
 * Password hashing has two slots and a bounded queue (services/auth.service.ts, HASHING): a flood
 * of sign-ins is refused at once with 503 and Retry-After instead of making every sign-in,
 * real ones included, wait behind it (43.6 s were measured before the bound). Rate limits are
 * off here (the test helper's default), as for a flood from many addresses.
 */
import { expect, it } from 'vitest';
import { HASHING } from '../../src/services/auth.service.js';
import { createTestApp } from '../helpers/app.js';

const FLOOD = 64;

it('refuses a flood of sign-ins beyond the queue at once, waits no longer than the bound, and signs in after it', async () => {
  const t = await createTestApp('sqlite');
  const { username } = await t.newUser();
  const timed = async (remoteAddress: string, password: string) => {
    const started = performance.now();
    const response = await t.app.inject({ method: 'POST', url: '/api/auth/login', remoteAddress, payload: { username, password } });
    return { response, ms: performance.now() - started };
  };
  const flood = await Promise.all(Array.from({ length: FLOOD }, (_, i) => timed(`10.8.${i >> 8}.${i & 255}`, 'wrong password!')));

  const refused = flood.filter(({ response }) => response.statusCode === 503);
  const checked = flood.filter(({ response }) => response.statusCode === 401);
  expect(refused.length + checked.length).toBe(FLOOD);
  // All arrive before the first hash is done: two hash, maxWaiting wait, the rest are refused.
  expect(checked.length).toBeGreaterThanOrEqual(HASHING.slots + HASHING.maxWaiting);
  expect(refused.length).toBeGreaterThan(FLOOD / 2);
  for (const { response } of refused) {
    expect(response.headers['retry-after']).toBe(String(HASHING.retryAfterSeconds));
    expect(response.json()).toMatchObject({
      statusCode: 503,
      code: 'SERVICE_UNAVAILABLE',
      message: expect.stringMatching(/busy checking other passwords: try again in \d+ seconds/),
    });
  }
  expect(Math.max(...refused.map(({ ms }) => ms))).toBeLessThan(3_000);
  // Nobody waited beyond the queue's time bound (plus a hash and a loaded machine's slack).
  expect(Math.max(...flood.map(({ ms }) => ms))).toBeLessThan(HASHING.maxWaitMs + 5_000);

  const after = await timed('10.8.9.9', 'correct horse battery');
  expect(after.response.statusCode).toBe(200);
});
