import { beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { DIALECTS } from '../helpers/database.js';
import { png } from '../helpers/fixtures.js';
import { multipart } from '../helpers/multipart.js';
import { type ProtectedRoute, securitySuite } from '../helpers/security-suite.js';

const uploadOf = async (t: TestApp, token: string): Promise<string> => {
  const body = await multipart([{ filename: 'mine.png', data: await png(5, 5, Math.floor(Math.random() * 1e6)) }]);
  const response = await t.app.inject({ method: 'POST', url: '/api/upload', headers: { ...body.headers, token }, payload: body.payload });
  return response.json<{ files: { id: string }[] }>().files[0]!.id;
};
const keyOf = async (t: TestApp, token: string): Promise<string> =>
  (await t.app.inject({ method: 'POST', url: '/api/keys', headers: { token }, payload: { name: 'theirs' } })).json<{
    key: { id: string };
  }>().key.id;

/** Every route that needs an account; the first test fails when one is missing here. */
const ROUTES: ProtectedRoute[] = [
  { method: 'GET', url: '/api/me' },
  { method: 'GET', url: '/api/keys' },
  { method: 'POST', url: '/api/keys', payload: { name: 'k' } },
  { method: 'DELETE', url: '/api/keys/:id', resourceOf: keyOf },
  { method: 'POST', url: '/api/upload' },
  { method: 'GET', url: '/api/uploads' },
  { method: 'GET', url: '/api/uploads/:id', resourceOf: uploadOf },
  { method: 'DELETE', url: '/api/uploads/:id', resourceOf: uploadOf },
  { method: 'GET', url: '/api/me/embed' },
  { method: 'PATCH', url: '/api/me/embed', payload: { title: 't' } },
  { method: 'GET', url: '/api/me/embed/preview?upload=:id', resourceOf: uploadOf },
  { method: 'POST', url: '/api/me/embed/preview', payload: (id) => ({ upload: id, embed: { title: 't' } }), resourceOf: uploadOf },
  { method: 'GET', url: '/api/admin/embed' },
  { method: 'PATCH', url: '/api/admin/embed', payload: { title: 't' } },
  { method: 'GET', url: '/api/admin/users' },
  { method: 'PATCH', url: '/api/admin/users/:id', payload: { quota_bytes: 1 } },
  { method: 'DELETE', url: '/api/admin/users/:id' },
  { method: 'GET', url: '/api/admin/stats' },
  { method: 'POST', url: '/api/me/password', payload: { current_password: 'correct horse battery', new_password: 'a new password' } },
  { method: 'DELETE', url: '/api/me/sessions' },
  { method: 'GET', url: '/api/admin/invites' },
  { method: 'POST', url: '/api/admin/invites', payload: {} },
  { method: 'DELETE', url: '/api/admin/invites/:id' },
];

it('covers every route declared with auth', async () => {
  const declared = new Set<string>();
  await createTestApp(
    'sqlite',
    {},
    {
      onRoute: (route) => {
        if (route.config?.auth !== true) return;
        // HEAD routes are made from GET ones, with the same options and the same auth hook.
        for (const method of [route.method].flat()) if (method !== 'HEAD') declared.add(`${method} ${route.url}`);
      },
    },
  );
  expect(declared.size).toBeGreaterThan(0);
  expect([...new Set(ROUTES.map(({ method, url }) => `${method} ${url.split('?')[0]}`))].sort()).toEqual([...declared].sort());
});

describe.each(DIALECTS)('security suite on %s', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(dialect);
  });
  describe.each(ROUTES)('$method $url', (route) => securitySuite(() => t, route));
});
