import { describe, expect, it } from 'vitest';
import { newUploadId } from '../../src/domain/ids.js';
import { blobKey, thumbnailKey } from '../../src/services/upload-links.js';
import { createTestApp, PUBLIC_URL, type TestApp } from '../helpers/app.js';
import { DIALECTS } from '../helpers/database.js';
import { png } from '../helpers/fixtures.js';
import { multipart } from '../helpers/multipart.js';

const password = 'correct horse battery';

interface AdminUser {
  id: string;
  username: string;
  role: 'admin' | 'user';
  quota_bytes: number | null;
  disabled: boolean;
  created_at: string;
  usage: { bytes: number; files: number };
}

interface Upload {
  id: string;
  url: string;
  raw_url: string;
  thumbnail_url: string;
  sha256: string;
  size: number;
}

describe.each(DIALECTS)('the admin API on %s', (dialect) => {
  /** An app of its own for each test (tests run shuffled); its first user is the admin. */
  const setup = async () => {
    const t = await createTestApp(dialect);
    const admin = await t.newUser();
    return { t, admin };
  };
  const call = (t: TestApp, token: string, method: 'GET' | 'PATCH' | 'DELETE', url: string, payload?: object) =>
    t.app.inject({ method, url, headers: { token }, ...(payload ? { payload } : {}) });
  const upload = async (t: TestApp, token: string, data: Buffer) => {
    const body = await multipart([{ filename: 'shot.png', data }]);
    return t.app.inject({ method: 'POST', url: '/api/upload', headers: { ...body.headers, token }, payload: body.payload });
  };
  const uploaded = async (t: TestApp, token: string, data: Buffer): Promise<Upload> => {
    const response = await upload(t, token, data);
    expect(response.statusCode, response.body).toBe(201);
    return response.json<{ files: Upload[] }>().files[0]!;
  };
  const path = (url: string) => url.slice(PUBLIC_URL.length);
  const get = (t: TestApp, url: string) => t.app.inject({ method: 'GET', url: path(url) });
  const login = (t: TestApp, username: string) => t.app.inject({ method: 'POST', url: '/api/auth/login', payload: { username, password } });

  it('lists every account newest first with its usage, page by page through Link', async () => {
    const { t, admin } = await setup();
    const bob = await t.newUser();
    const carol = await t.newUser();
    const file = await uploaded(t, bob.token, await png(8, 8, 11));

    const first = await call(t, admin.token, 'GET', '/api/admin/users?limit=2');
    expect(first.statusCode, first.body).toBe(200);
    const page1 = first.json<AdminUser[]>();
    expect(page1.map((user) => user.username)).toEqual([carol.username, bob.username]);
    expect(page1[1]).toEqual({
      id: bob.userId,
      username: bob.username,
      role: 'user',
      quota_bytes: null,
      disabled: false,
      created_at: expect.any(String),
      usage: { bytes: file.size, files: 1 },
    });
    expect(first.headers.link).toBe(`<${PUBLIC_URL}/api/admin/users?limit=2&before=${bob.userId}>; rel="next"`);

    const second = await call(t, admin.token, 'GET', path(/<([^>]+)>/.exec(String(first.headers.link))![1]!));
    expect(second.json<AdminUser[]>().map((user) => [user.username, user.role])).toEqual([[admin.username, 'admin']]);
    expect(second.headers.link).toBeUndefined();

    const all = await call(t, admin.token, 'GET', '/api/admin/users');
    expect(all.json<AdminUser[]>()).toHaveLength(3);
    expect(all.headers.link).toBeUndefined();

    const unknown = await call(t, admin.token, 'GET', '/api/admin/users?before=nobodyhere');
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().code).toBe('VALIDATION_FAILED');
    expect((await call(t, admin.token, 'GET', '/api/admin/users?limit=0')).statusCode).toBe(400);
  });

  it('answers 403 to an account that is not an admin on every admin route, and changes nothing', async () => {
    const { t, admin } = await setup();
    const bob = await t.newUser();
    const attempts = [
      ['GET', '/api/admin/users'],
      ['GET', '/api/admin/stats'],
      ['PATCH', `/api/admin/users/${admin.userId}`, { disabled: true }],
      ['PATCH', `/api/admin/users/${bob.userId}`, { role: 'admin' }],
      ['DELETE', `/api/admin/users/${admin.userId}`],
    ] as const;
    for (const [method, url, payload] of attempts) {
      const response = await call(t, bob.token, method, url, payload);
      expect(response.statusCode, `${method} ${url}`).toBe(403);
      expect(response.json()).toMatchObject({ code: 'FORBIDDEN', message: expect.stringMatching(/^Only an admin can /) });
    }
    const users = (await call(t, admin.token, 'GET', '/api/admin/users')).json<AdminUser[]>();
    expect(users.map((user) => [user.username, user.role, user.disabled])).toEqual([
      [bob.username, 'user', false],
      [admin.username, 'admin', false],
    ]);
  });

  it('changes role, quota and access, keeping what the patch leaves out', async () => {
    const { t, admin } = await setup();
    const bob = await t.newUser();
    const url = `/api/admin/users/${bob.userId}`;

    const quota = await call(t, admin.token, 'PATCH', url, { quota_bytes: 5000 });
    expect(quota.statusCode, quota.body).toBe(200);
    expect(quota.json()).toMatchObject({ id: bob.userId, role: 'user', quota_bytes: 5000, disabled: false });

    const promoted = await call(t, admin.token, 'PATCH', url, { role: 'admin', disabled: true });
    expect(promoted.json()).toMatchObject({ role: 'admin', quota_bytes: 5000, disabled: true });
    const back = await call(t, admin.token, 'PATCH', url, { role: 'user', disabled: false, quota_bytes: null });
    expect(back.json()).toMatchObject({ role: 'user', quota_bytes: null, disabled: false });

    for (const payload of [{}, { quota_bytes: -1 }, { quota_bytes: 1.5 }, { role: 'owner' }, { disabled: 'yes' }, { username: 'x' }]) {
      const response = await call(t, admin.token, 'PATCH', url, payload);
      expect(response.statusCode, JSON.stringify(payload)).toBe(400);
    }
    const missing = await call(t, admin.token, 'PATCH', '/api/admin/users/nobodyhere', { disabled: true });
    expect(missing.statusCode).toBe(404);
    expect(missing.json().code).toBe('NOT_FOUND');
  });

  it('lets a promoted account use the admin routes, and a demoted one no more', async () => {
    const { t, admin } = await setup();
    const bob = await t.newUser();
    expect((await call(t, bob.token, 'GET', '/api/admin/stats')).statusCode).toBe(403);
    await call(t, admin.token, 'PATCH', `/api/admin/users/${bob.userId}`, { role: 'admin' });
    expect((await call(t, bob.token, 'GET', '/api/admin/stats')).statusCode).toBe(200);
    // Another admin may change the first one.
    const demoted = await call(t, bob.token, 'PATCH', `/api/admin/users/${admin.userId}`, { role: 'user' });
    expect(demoted.json()).toMatchObject({ role: 'user' });
    expect((await call(t, admin.token, 'GET', '/api/admin/users')).statusCode).toBe(403);
  });

  it('refuses an admin changing their own role or access, or deleting themselves (409)', async () => {
    const { t, admin } = await setup();
    const own = `/api/admin/users/${admin.userId}`;
    for (const [method, payload] of [
      ['PATCH', { role: 'user' }],
      ['PATCH', { disabled: true }],
      ['PATCH', { quota_bytes: 10, disabled: true }],
      ['DELETE', undefined],
    ] as const) {
      const response = await call(t, admin.token, method, own, payload);
      expect(response.statusCode, `${method} ${JSON.stringify(payload)}`).toBe(409);
      expect(response.json()).toMatchObject({ code: 'SELF_CHANGE_REFUSED', message: expect.stringContaining('another admin') });
    }
    const [me] = (await call(t, admin.token, 'GET', '/api/admin/users')).json<AdminUser[]>();
    expect(me).toMatchObject({ role: 'admin', disabled: false, quota_bytes: null });

    // What changes nothing of the kind is allowed: one's own quota, or restating the present.
    const fine = await call(t, admin.token, 'PATCH', own, { quota_bytes: 1_000_000, role: 'admin', disabled: false });
    expect(fine.statusCode, fine.body).toBe(200);
    expect(fine.json()).toMatchObject({ quota_bytes: 1_000_000 });
  });

  it('refuses a disabled account at sign-in and on its keys and sessions (403), and lets it back once enabled', async () => {
    const { t, admin } = await setup();
    const bob = await t.newUser();
    const signedIn = await login(t, bob.username);
    const cookie = String(signedIn.headers['set-cookie']).split(';')[0]!;
    const me = (headers: Record<string, string>) => t.app.inject({ method: 'GET', url: '/api/me', headers });
    expect((await me({ token: bob.token })).statusCode).toBe(200);
    expect((await me({ cookie })).statusCode).toBe(200);

    await call(t, admin.token, 'PATCH', `/api/admin/users/${bob.userId}`, { disabled: true });
    for (const response of [await me({ token: bob.token }), await me({ authorization: `Bearer ${bob.token}` }), await me({ cookie })]) {
      expect(response.statusCode).toBe(403);
      expect(response.json()).toMatchObject({ code: 'ACCOUNT_DISABLED', message: expect.stringContaining('disabled') });
    }
    expect((await upload(t, bob.token, await png(4, 4, 3))).statusCode).toBe(403);
    const refused = await login(t, bob.username);
    expect(refused.statusCode).toBe(403);
    expect(refused.json().code).toBe('ACCOUNT_DISABLED');
    expect(refused.headers['set-cookie']).toBeUndefined();
    // A wrong password says only that: the account's state is for whoever knows the password.
    const wrong = await t.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { username: bob.username, password: 'not the one' },
    });
    expect(wrong.json().code).toBe('INVALID_CREDENTIALS');

    await call(t, admin.token, 'PATCH', `/api/admin/users/${bob.userId}`, { disabled: false });
    expect((await me({ token: bob.token })).statusCode).toBe(200);
    expect((await me({ cookie })).statusCode).toBe(200);
    expect((await login(t, bob.username)).statusCode).toBe(200);
  });

  it('applies a changed quota from the next upload', async () => {
    const { t, admin } = await setup();
    const bob = await t.newUser();
    const first = await uploaded(t, bob.token, await png(16, 16, 21));
    await call(t, admin.token, 'PATCH', `/api/admin/users/${bob.userId}`, { quota_bytes: first.size + 10 });
    const over = await upload(t, bob.token, await png(16, 16, 22));
    expect(over.statusCode).toBe(413);
    expect(over.json().code).toBe('QUOTA_EXCEEDED');
    await call(t, admin.token, 'PATCH', `/api/admin/users/${bob.userId}`, { quota_bytes: null });
    expect((await upload(t, bob.token, await png(16, 16, 22))).statusCode).toBe(201);
  });

  it('deletes an account with its keys, sessions and uploads: their URLs answer 410 and their bytes leave storage', async () => {
    const { t, admin } = await setup();
    const bob = await t.newUser();
    const carol = await t.newUser();
    const own = await uploaded(t, bob.token, await png(20, 20, 31));
    const shared = await png(20, 20, 32);
    const bobsCopy = await uploaded(t, bob.token, shared);
    const carolsCopy = await uploaded(t, carol.token, shared);
    const bobSession = String((await login(t, bob.username)).headers['set-cookie']).split(';')[0]!;
    // Served once (so held in memory) and thumbnailed, as a real upload would be.
    for (const file of [own, bobsCopy]) {
      expect((await get(t, file.raw_url)).statusCode).toBe(200);
      expect((await get(t, file.thumbnail_url)).statusCode).toBe(200);
    }
    await t.container.thumbnails.idle();
    const { storage } = t.container;
    expect(await storage.head(blobKey(own.sha256))).toBeDefined();
    expect(await storage.head(thumbnailKey(own.sha256))).toBeDefined();

    const deleted = await call(t, admin.token, 'DELETE', `/api/admin/users/${bob.userId}`);
    expect(deleted.statusCode, deleted.body).toBe(204);

    for (const file of [own, bobsCopy]) {
      for (const url of [file.url, file.raw_url, file.thumbnail_url]) expect((await get(t, url)).statusCode, url).toBe(410);
    }
    expect(await storage.head(blobKey(own.sha256))).toBeUndefined();
    expect(await storage.head(thumbnailKey(own.sha256))).toBeUndefined();
    // Carol's upload of the same bytes keeps them.
    expect(await storage.head(blobKey(bobsCopy.sha256))).toBeDefined();
    expect((await get(t, carolsCopy.raw_url)).statusCode).toBe(200);
    const blobs = await t.container.database.db
      .selectFrom('blob')
      .selectAll()
      .where('sha256', 'in', [own.sha256, bobsCopy.sha256])
      .execute();
    expect(blobs.map((blob) => [blob.sha256, Number(blob.ref_count)])).toEqual([[bobsCopy.sha256, 1]]);

    expect((await t.app.inject({ method: 'GET', url: '/api/me', headers: { token: bob.token } })).statusCode).toBe(401);
    expect((await t.app.inject({ method: 'GET', url: '/api/me', headers: { cookie: bobSession } })).statusCode).toBe(401);
    expect((await login(t, bob.username)).statusCode).toBe(401);
    const db = t.container.database.db;
    expect(await db.selectFrom('api_key').where('user_id', '=', bob.userId).selectAll().execute()).toEqual([]);
    expect(await db.selectFrom('session').where('user_id', '=', bob.userId).selectAll().execute()).toEqual([]);
    const users = (await call(t, admin.token, 'GET', '/api/admin/users')).json<AdminUser[]>();
    expect(users.map((user) => user.username)).toEqual([carol.username, admin.username]);

    const again = await call(t, admin.token, 'DELETE', `/api/admin/users/${bob.userId}`);
    expect(again.statusCode).toBe(404);
    expect(again.json().code).toBe('NOT_FOUND');
    // The name is free again.
    expect(
      (await t.app.inject({ method: 'POST', url: '/api/auth/register', payload: { username: bob.username, password } })).statusCode,
    ).toBe(201);
  });

  it('counts accounts, live uploads and bytes, and uploads per day for the last 30 UTC days', async () => {
    const { t, admin } = await setup();
    const bob = await t.newUser();
    const kept = await uploaded(t, bob.token, await png(10, 10, 41));
    const gone = await uploaded(t, bob.token, await png(10, 10, 42));
    await t.app.inject({ method: 'DELETE', url: `/api/uploads/${gone.id}`, headers: { token: bob.token } });
    // Uploads of earlier days, written as the upload service would have then.
    const day = (daysAgo: number) => new Date(Date.now() - daysAgo * 86_400_000).toISOString();
    const db = t.container.database.db;
    for (const [daysAgo, size] of [
      [3, 700],
      [3, 300],
      [29, 50],
      [30, 9000],
    ] as const) {
      await db
        .insertInto('upload')
        .values({
          ...{ id: newUploadId(), user_id: bob.userId, name: 'old.png', mime: 'image/png', ext: 'png', size, width: 1, height: 1 },
          ...{ sha256: kept.sha256, dominant_color: '#000000', created_at: day(daysAgo), embed_overrides: null },
        })
        .execute();
    }

    const response = await call(t, admin.token, 'GET', '/api/admin/stats');
    expect(response.statusCode, response.body).toBe(200);
    const stats = response.json<{
      users: number;
      uploads: number;
      bytes: number;
      days: { date: string; uploads: number; bytes: number }[];
    }>();
    expect(stats).toMatchObject({ users: 2, uploads: 5, bytes: kept.size + 700 + 300 + 50 + 9000 });
    expect(stats.days).toHaveLength(30);
    expect(stats.days[29]).toEqual({ date: day(0).slice(0, 10), uploads: 1, bytes: kept.size });
    expect(stats.days[26]).toEqual({ date: day(3).slice(0, 10), uploads: 2, bytes: 1000 });
    expect(stats.days[0]).toEqual({ date: day(29).slice(0, 10), uploads: 1, bytes: 50 });
    expect(stats.days.map((entry) => entry.date)).toEqual([...stats.days.map((entry) => entry.date)].sort());
    expect(stats.days.reduce((sum, entry) => sum + entry.uploads, 0)).toBe(4);
  });
});
