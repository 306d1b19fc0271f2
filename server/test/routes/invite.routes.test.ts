import { describe, expect, it } from 'vitest';
import type { InviteView } from '../../src/services/invite.service.js';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { DIALECTS } from '../helpers/database.js';

const password = 'correct horse battery';
const DAY_MS = 24 * 3600 * 1000;

describe.each(DIALECTS)('invites and REGISTRATION=invite on %s', (dialect) => {
  /** An app of its own (tests run shuffled) whose first account, the admin, is alice. */
  const withAdmin = async (registration = 'invite') => {
    const t = await createTestApp(dialect, { REGISTRATION: registration });
    const admin = (await register(t, 'alice')).json<{ token: string }>().token;
    return { t, admin };
  };
  const register = (t: TestApp, username: string, invite?: string) =>
    t.app.inject({
      method: 'POST',
      url: '/api/auth/register',
      payload: { username, password, ...(invite === undefined ? {} : { invite }) },
    });
  const createInvite = async (t: TestApp, token: string, payload: object = {}) => {
    const response = await t.app.inject({ method: 'POST', url: '/api/admin/invites', headers: { token }, payload });
    expect(response.statusCode, response.body).toBe(201);
    return response.json<InviteView>();
  };
  const listInvites = async (t: TestApp, token: string) =>
    (await t.app.inject({ method: 'GET', url: '/api/admin/invites', headers: { token } })).json<InviteView[]>();
  const registration = async (t: TestApp) => (await t.app.inject({ method: 'GET', url: '/api/auth/registration' })).json();

  it('makes a single-use code valid for 7 days by default, which makes one account', async () => {
    const { t, admin } = await withAdmin();
    const before = Date.now();
    const invite = await createInvite(t, admin);
    expect(invite).toMatchObject({ max_uses: 1, uses: 0, created_by: 'alice' });
    expect(invite.code).toMatch(/^[0-9A-Za-z]{24}$/);
    const expires = Date.parse(invite.expires_at!);
    expect(expires).toBeGreaterThanOrEqual(before + 7 * DAY_MS);
    expect(expires).toBeLessThanOrEqual(Date.now() + 7 * DAY_MS);

    const bob = await register(t, 'bob', invite.code);
    expect(bob.statusCode, bob.body).toBe(201);
    expect(bob.json().user).toMatchObject({ username: 'bob', role: 'user' });
    expect((await listInvites(t, admin))[0]).toMatchObject({ id: invite.id, uses: 1 });

    const carol = await register(t, 'carol', invite.code);
    expect(carol.statusCode).toBe(403);
    expect(carol.json()).toMatchObject({ code: 'INVITE_INVALID', message: expect.stringMatching(/ask an admin for a new one/) });
  });

  it('asks for a code, refuses unknown ones, and lets the first account in without one', async () => {
    const t = await createTestApp(dialect, { REGISTRATION: 'invite' });
    expect(await registration(t)).toEqual({ registration: 'open' });
    const first = await register(t, 'alice');
    expect(first.statusCode).toBe(201);
    expect(first.json().user.role).toBe('admin');
    expect(await registration(t)).toEqual({ registration: 'invite' });

    const missing = await register(t, 'bob');
    expect(missing.statusCode).toBe(403);
    expect(missing.json().code).toBe('INVITE_REQUIRED');
    const unknown = await register(t, 'bob', 'A'.repeat(24));
    expect(unknown.statusCode).toBe(403);
    expect(unknown.json().code).toBe('INVITE_INVALID');
    expect(await t.container.database.db.selectFrom('user').select('username').execute()).toEqual([{ username: 'alice' }]);
  });

  it('counts the uses of a multi-use code and gives one back when the name is taken', async () => {
    const { t, admin } = await withAdmin();
    const invite = await createInvite(t, admin, { max_uses: 2, expires_in_days: null });
    expect(invite).toMatchObject({ max_uses: 2, expires_at: null });
    expect((await register(t, 'bob', invite.code)).statusCode).toBe(201);
    const taken = await register(t, 'BOB', invite.code);
    expect(taken.json().code).toBe('USERNAME_TAKEN');
    expect((await listInvites(t, admin))[0]!.uses).toBe(1);
    expect((await register(t, 'carol', invite.code)).statusCode).toBe(201);
    expect((await register(t, 'dave', invite.code)).json().code).toBe('INVITE_INVALID');
    expect((await listInvites(t, admin))[0]!.uses).toBe(2);
  });

  it('refuses an expired code', async () => {
    const { t, admin } = await withAdmin();
    const invite = await createInvite(t, admin, { expires_in_days: 1 });
    await t.container.database.db
      .updateTable('invite')
      .set({ expires_at: new Date(Date.now() - 1000).toISOString() })
      .where('id', '=', invite.id)
      .execute();
    const late = await register(t, 'bob', invite.code);
    expect(late.statusCode).toBe(403);
    expect(late.json().code).toBe('INVITE_INVALID');
    expect((await listInvites(t, admin))[0]!.uses).toBe(0);
  });

  it('revokes a code: it stops working, accounts made with it stay', async () => {
    const { t, admin } = await withAdmin();
    const invite = await createInvite(t, admin, { max_uses: 5 });
    const bob = (await register(t, 'bob', invite.code)).json<{ token: string }>().token;
    const revoke = await t.app.inject({ method: 'DELETE', url: `/api/admin/invites/${invite.id}`, headers: { token: admin } });
    expect(revoke.statusCode).toBe(204);
    expect((await register(t, 'carol', invite.code)).json().code).toBe('INVITE_INVALID');
    expect(await listInvites(t, admin)).toEqual([]);
    expect((await t.app.inject({ method: 'GET', url: '/api/me', headers: { token: bob } })).statusCode).toBe(200);
    const again = await t.app.inject({ method: 'DELETE', url: `/api/admin/invites/${invite.id}`, headers: { token: admin } });
    expect(again.statusCode).toBe(404);
    expect(again.json().code).toBe('INVITE_NOT_FOUND');
  });

  it('lists newest first', async () => {
    const { t, admin } = await withAdmin();
    const ids = [];
    for (let i = 1; i <= 3; i++) ids.push((await createInvite(t, admin, { max_uses: i })).id);
    expect((await listInvites(t, admin)).map((invite) => invite.id)).toEqual(ids.reverse());
  });

  it('is for admins only: a user gets 403 and changes nothing', async () => {
    const { t, admin } = await withAdmin('open');
    const invite = await createInvite(t, admin);
    const user = (await register(t, 'bob')).json<{ token: string }>().token;
    for (const [method, url] of [
      ['GET', '/api/admin/invites'],
      ['POST', '/api/admin/invites'],
      ['DELETE', `/api/admin/invites/${invite.id}`],
    ] as const) {
      const response = await t.app.inject({ method, url, headers: { token: user }, ...(method === 'POST' ? { payload: {} } : {}) });
      expect(response.statusCode, `${method} ${url}`).toBe(403);
      expect(response.json()).toMatchObject({ code: 'FORBIDDEN', message: 'Only an admin can manage invites.' });
    }
    expect((await listInvites(t, admin)).map((row) => row.id)).toEqual([invite.id]);
  });

  it('checks the bounds of a new invite', async () => {
    const { t, admin } = await withAdmin();
    for (const payload of [
      { max_uses: 0 },
      { max_uses: 10_001 },
      { expires_in_days: 0 },
      { expires_in_days: 366 },
      { max_uses: '2' },
      { uses: 3 },
    ]) {
      const response = await t.app.inject({ method: 'POST', url: '/api/admin/invites', headers: { token: admin }, payload });
      expect(response.statusCode, JSON.stringify(payload)).toBe(400);
    }
    expect(await createInvite(t, admin, { max_uses: 10_000, expires_in_days: 365 })).toMatchObject({ max_uses: 10_000 });
  });

  it('says how registration stands in each mode, and ignores a code on an open server', async () => {
    const open = await withAdmin('open');
    expect(await registration(open.t)).toEqual({ registration: 'open' });
    expect((await register(open.t, 'bob', 'not-a-code')).statusCode).toBe(201);
    const closed = await withAdmin('closed');
    expect(await registration(closed.t)).toEqual({ registration: 'closed' });
    const invite = await createInvite(closed.t, closed.admin);
    expect((await register(closed.t, 'bob', invite.code)).json().code).toBe('REGISTRATION_CLOSED');
  });
});
