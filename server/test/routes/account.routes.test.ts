import { describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { DIALECTS } from '../helpers/database.js';

const password = 'correct horse battery';

describe.each(DIALECTS)('accounts, sessions and keys on %s', (dialect) => {
  const register = (t: TestApp, username: string) =>
    t.app.inject({ method: 'POST', url: '/api/auth/register', payload: { username, password } });
  const login = (t: TestApp, username: string, pw = password) =>
    t.app.inject({ method: 'POST', url: '/api/auth/login', payload: { username, password: pw } });
  /** An app of its own for each test (tests run shuffled), whose first user, the admin, is alice. */
  const withAlice = async () => {
    const t = await createTestApp(dialect, { REGISTRATION: 'closed' });
    const first = await register(t, 'Alice');
    return { t, first };
  };

  it('makes the first user admin with a first key, then honours REGISTRATION=closed', async () => {
    const { t, first } = await withAlice();
    expect(first.statusCode).toBe(201);
    const body = first.json();
    expect(body.user).toMatchObject({ username: 'alice', role: 'admin' });
    expect(body.token).toMatch(/^di_[0-9A-Za-z]{40}$/);
    expect(body.key).toMatchObject({ name: 'default', hint: body.token.slice(0, 7) });
    expect(JSON.stringify(body.key)).not.toContain(body.token);

    const second = await register(t, 'bob');
    expect(second.statusCode).toBe(403);
    expect(second.json().code).toBe('REGISTRATION_CLOSED');
  });

  it('stores only hashes of keys and passwords', async () => {
    const { t } = await withAlice();
    const users = await t.container.database.db.selectFrom('user').selectAll().execute();
    const keys = await t.container.database.db.selectFrom('api_key').selectAll().execute();
    expect(users[0]!.password_hash).toMatch(/^scrypt\$/);
    expect(users[0]!.password_hash).not.toContain(password);
    for (const key of keys) expect(key.key_hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('rejects bad registration bodies with 400', async () => {
    const { t } = await withAlice();
    for (const payload of [
      {},
      { username: 'a', password },
      { username: 'ok_name', password: 'short' },
      { username: '../x', password },
      { username: 'x'.repeat(33), password },
      { username: 'fine', password, admin: true },
    ]) {
      const response = await t.app.inject({ method: 'POST', url: '/api/auth/register', payload });
      expect(response.statusCode, JSON.stringify(payload)).toBe(400);
    }
  });

  it('logs in with an HttpOnly SameSite cookie; cookie changes need the CSRF token', async () => {
    const { t } = await withAlice();
    expect((await login(t, 'alice', 'wrong password')).statusCode).toBe(401);
    expect((await login(t, 'nobody')).statusCode).toBe(401);

    const session = await login(t, 'ALICE');
    expect(session.statusCode).toBe(200);
    const setCookie = String(session.headers['set-cookie']);
    expect(setCookie).toMatch(/^di_session=/);
    expect(setCookie).toMatch(/HttpOnly/i);
    expect(setCookie).toMatch(/SameSite=Lax/i);
    const cookie = setCookie.split(';')[0]!;
    const csrf = session.json().csrf_token as string;

    const me = await t.app.inject({ method: 'GET', url: '/api/me', headers: { cookie } });
    expect(me.statusCode).toBe(200);
    expect(me.json()).toMatchObject({
      username: 'alice',
      role: 'admin',
      usage: { bytes: 0, files: 0 },
      quota_bytes: null,
      csrf_token: csrf,
    });

    const noCsrf = await t.app.inject({ method: 'POST', url: '/api/keys', headers: { cookie }, payload: { name: 'x' } });
    expect(noCsrf.statusCode).toBe(403);
    expect(noCsrf.json().code).toBe('CSRF_INVALID');
    const withCsrf = await t.app.inject({
      method: 'POST',
      url: '/api/keys',
      headers: { cookie, 'x-csrf-token': csrf },
      payload: { name: 'laptop' },
    });
    expect(withCsrf.statusCode).toBe(201);

    const logout = await t.app.inject({ method: 'POST', url: '/api/auth/logout', headers: { cookie } });
    expect(logout.statusCode).toBe(204);
    expect((await t.app.inject({ method: 'GET', url: '/api/me', headers: { cookie } })).statusCode).toBe(401);
  });

  it('creates, lists (without secrets) and revokes keys; a revoked key is refused', async () => {
    const { t } = await withAlice();
    const session = await login(t, 'alice');
    const cookie = String(session.headers['set-cookie']).split(';')[0]!;
    const csrf = session.json().csrf_token as string;
    const created = await t.app.inject({
      method: 'POST',
      url: '/api/keys',
      headers: { cookie, 'x-csrf-token': csrf },
      payload: { name: 'ShareX' },
    });
    expect(created.statusCode).toBe(201);
    const { key, token: secret } = created.json();
    expect(secret).toMatch(/^di_/);

    const viaKey = await t.app.inject({ method: 'GET', url: '/api/keys', headers: { token: secret } });
    expect(viaKey.statusCode).toBe(200);
    expect(viaKey.body).not.toContain(secret);
    expect(viaKey.json().map((k: { name: string }) => k.name)).toContain('ShareX');
    const listed = viaKey.json().find((k: { id: string }) => k.id === key.id);
    expect(listed.last_used_at).not.toBeNull();

    const bearer = await t.app.inject({ method: 'GET', url: '/api/me', headers: { authorization: `Bearer ${secret}` } });
    expect(bearer.statusCode).toBe(200);

    const revoke = await t.app.inject({ method: 'DELETE', url: `/api/keys/${key.id}`, headers: { token: secret } });
    expect(revoke.statusCode).toBe(204);
    const after = await t.app.inject({ method: 'GET', url: '/api/me', headers: { token: secret } });
    expect(after.statusCode).toBe(401);
    expect(after.json().message).toMatch(/revoked/);
  });

  /** A signed-in session of alice: its cookie and the headers of a change. */
  const sessionOf = async (t: TestApp, pw = password) => {
    const response = await login(t, 'alice', pw);
    expect(response.statusCode).toBe(200);
    const cookie = String(response.headers['set-cookie']).split(';')[0]!;
    return { cookie, change: { cookie, 'x-csrf-token': response.json().csrf_token as string } };
  };
  const meWith = async (t: TestApp, headers: Record<string, string>) =>
    (await t.app.inject({ method: 'GET', url: '/api/me', headers })).statusCode;
  const changePassword = (t: TestApp, headers: Record<string, string>, current_password: string, new_password: string) =>
    t.app.inject({ method: 'POST', url: '/api/me/password', headers, payload: { current_password, new_password } });

  it('changes the password: the old one stops working, other sessions end, this session and the keys stay', async () => {
    const { t, first } = await withAlice();
    const key = first.json().token as string;
    const mine = await sessionOf(t);
    const other = await sessionOf(t);
    const changed = await changePassword(t, mine.change, password, 'a much newer password');
    expect(changed.statusCode, changed.body).toBe(204);
    expect(await meWith(t, { cookie: mine.cookie })).toBe(200);
    expect(await meWith(t, { cookie: other.cookie })).toBe(401);
    expect(await meWith(t, { token: key })).toBe(200);
    expect((await login(t, 'alice')).statusCode).toBe(401);
    expect((await login(t, 'alice', 'a much newer password')).statusCode).toBe(200);
  });

  it('ends every session when the password is changed with an API key', async () => {
    const { t, first } = await withAlice();
    const session = await sessionOf(t);
    expect((await changePassword(t, { token: first.json().token }, password, 'a much newer password')).statusCode).toBe(204);
    expect(await meWith(t, { cookie: session.cookie })).toBe(401);
  });

  it('refuses a wrong current password with 403 WRONG_PASSWORD and a weak new one with 400, changing nothing', async () => {
    const { t } = await withAlice();
    const mine = await sessionOf(t);
    const other = await sessionOf(t);
    const wrong = await changePassword(t, mine.change, 'not my password', 'a much newer password');
    expect(wrong.statusCode).toBe(403);
    expect(wrong.json()).toMatchObject({ code: 'WRONG_PASSWORD', message: expect.stringMatching(/current password is wrong/) });
    const weak = await changePassword(t, mine.change, password, 'short');
    expect(weak.statusCode).toBe(400);
    expect(weak.json().code).toBe('VALIDATION_FAILED');
    expect(await meWith(t, { cookie: other.cookie })).toBe(200);
    expect((await login(t, 'alice')).statusCode).toBe(200);
  });

  it('signs out everywhere: every session ends, this one too, and its cookie is cleared; keys stay', async () => {
    const t = await createTestApp(dialect);
    const first = await register(t, 'Alice');
    const mine = await sessionOf(t);
    const other = await sessionOf(t);
    const bob = (await t.newUser()).username;
    const bobs = await login(t, bob);
    const bobCookie = String(bobs.headers['set-cookie']).split(';')[0]!;
    const out = await t.app.inject({ method: 'DELETE', url: '/api/me/sessions', headers: mine.change });
    expect(out.statusCode).toBe(204);
    expect(String(out.headers['set-cookie'])).toMatch(/^di_session=;.*Expires=Thu, 01 Jan 1970/);
    expect(await meWith(t, { cookie: mine.cookie })).toBe(401);
    expect(await meWith(t, { cookie: other.cookie })).toBe(401);
    expect(await meWith(t, { cookie: bobCookie })).toBe(200);
    expect(await meWith(t, { token: first.json().token })).toBe(200);
  });
});
