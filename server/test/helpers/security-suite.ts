import { expect, it } from 'vitest';
import type { TestApp } from './app.js';

export interface ProtectedRoute {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** `:id` is replaced by a resource id when the route has one. */
  url: string;
  /** A function of the resource id when the body names it. */
  payload?: object | ((id: string) => object);
  /** Creates a resource of `owner` for the "another user's resource" case. */
  resourceOf?: (t: TestApp, ownerToken: string) => Promise<string>;
}

/**
 * The cases every authenticated route must pass (after Unkey's shared suite): no key,
 * a malformed key, a well-formed unknown key, a revoked key, and another user's resource.
 */
export function securitySuite(getApp: () => TestApp, route: ProtectedRoute): void {
  const call = async (headers: Record<string, string>, id = 'AAAAAAAAAA') =>
    getApp().app.inject({
      method: route.method,
      url: route.url.replace(':id', id),
      headers,
      ...(route.payload ? { payload: typeof route.payload === 'function' ? route.payload(id) : route.payload } : {}),
    });
  const expect401 = (response: Awaited<ReturnType<typeof call>>) => {
    expect(response.statusCode).toBe(401);
    expect(response.json()).toMatchObject({ statusCode: 401, code: 'UNAUTHORIZED', error: 'Unauthorized', request_id: expect.any(String) });
  };

  it('refuses a request without a key', async () => expect401(await call({})));
  it('refuses a malformed key', async () => {
    expect401(await call({ token: 'images_api' }));
    expect401(await call({ authorization: 'Basic dXNlcjpwYXNz' }));
  });
  it('refuses an unknown key', async () => expect401(await call({ token: `di_${'A'.repeat(40)}` })));
  it('refuses a revoked key', async () => {
    const t = getApp();
    const { token } = await t.newUser();
    const keys = await t.app.inject({ method: 'GET', url: '/api/keys', headers: { token } });
    for (const key of keys.json<{ id: string }[]>())
      await t.app.inject({ method: 'DELETE', url: `/api/keys/${key.id}`, headers: { token } });
    expect401(await call({ token }));
  });
  if (route.method !== 'GET') {
    it('refuses a cookie-authenticated change without the CSRF token', async () => {
      const t = getApp();
      const { username } = await t.newUser();
      const login = await t.app.inject({
        method: 'POST',
        url: '/api/auth/login',
        payload: { username, password: 'correct horse battery' },
      });
      const cookie = String(login.headers['set-cookie']).split(';')[0]!;
      const attempts: Record<string, string>[] = [{ cookie }, { cookie, 'x-csrf-token': 'forged' }];
      for (const headers of attempts) {
        const response = await call(headers);
        expect(response.statusCode).toBe(403);
        expect(response.json().code).toBe('CSRF_INVALID');
      }
    });
  }
  if (route.resourceOf) {
    const resourceOf = route.resourceOf;
    it("answers 404 for another user's resource, and leaves it alone", async () => {
      const t = getApp();
      const owner = await t.newUser();
      const stranger = await t.newUser();
      const id = await resourceOf(t, owner.token);
      const response = await call({ token: stranger.token }, id);
      expect(response.statusCode).toBe(404);
      const still = await t.app.inject({
        method: 'GET',
        url: route.url.startsWith('/api/keys') ? '/api/keys' : `/api/uploads/${id}`,
        headers: { token: owner.token },
      });
      expect(still.statusCode).toBe(200);
      if (route.url.startsWith('/api/keys')) expect(still.json<{ id: string }[]>().some((k) => k.id === id)).toBe(true);
    });
  }
}
