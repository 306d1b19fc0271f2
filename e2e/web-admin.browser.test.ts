/**
 * The web app's admin pages in Chromium (issue 10, point 7): invites and sign-up by invite link,
 * accounts (quota, disable, enable, delete with their uploads, paging, your own account),
 * the server's embed defaults and its usage, each checked against the API; what a non-admin
 * sees; axe-core, the phone width and screenshots on every admin page. Servers run with
 * REGISTRATION=invite (the first account, made through the API, is the admin) and closed.
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBase62 } from '../server/src/domain/ids.js';
import { tempDir } from '../server/test/helpers/temp-dir.js';
import { launchChromium } from './helpers/chromium.js';
import { type RunningServer, startServer, until } from './helpers/server.js';
import { pngImage, upload } from './helpers/uploads.js';
import { accessibilityViolations, buildWebApp, openApp, SCREENSHOTS, scrollsSideways, signIn, VIEWPORTS } from './helpers/web-app.js';

const PASSWORD = 'correct horse battery';
const LOOK_TIMEOUT_MS = 180_000;
const uniqueName = (prefix: string) => `${prefix}${Math.random().toString(36).slice(2, 10)}`;

interface Account {
  id: string;
  username: string;
  token: string;
}
interface Invite {
  id: string;
  code: string;
  max_uses: number;
  uses: number;
  expires_at: string | null;
}
interface AdminUser {
  id: string;
  username: string;
  role: string;
  quota_bytes: number | null;
  disabled: boolean;
  usage: { bytes: number; files: number };
}
interface Stats {
  users: number;
  uploads: number;
  bytes: number;
  days: { date: string; uploads: number; bytes: number }[];
}

async function api(url: string, path: string, init: RequestInit & { token?: string } = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  if (init.token) headers.set('token', init.token);
  if (init.body) headers.set('content-type', 'application/json');
  return fetch(`${url}${path}`, { ...init, headers });
}

async function apiJson<T>(url: string, path: string, init: RequestInit & { token?: string } = {}): Promise<T> {
  const response = await api(url, path, init);
  if (!response.ok) throw new Error(`${init.method ?? 'GET'} ${path}: ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

/** The API's error for a request, to compare with what the page shows. */
async function apiError(
  url: string,
  path: string,
  init: RequestInit & { token?: string },
): Promise<{ status: number; code: string; message: string }> {
  const response = await api(url, path, init);
  expect(response.ok, `${path} should fail`).toBe(false);
  return { status: response.status, ...((await response.json()) as { code: string; message: string }) };
}

async function register(url: string, invite?: string, username = uniqueName('u')): Promise<Account> {
  const body = await apiJson<{ user: { id: string }; token: string }>(url, '/api/auth/register', {
    method: 'POST',
    body: JSON.stringify({ username, password: PASSWORD, ...(invite ? { invite } : {}) }),
  });
  return { id: body.user.id, username, token: body.token };
}

const bannerText = async (scope: Page | Locator): Promise<string> => {
  const alert = scope.locator('.banner.error[role="alert"]');
  await alert.waitFor({ state: 'visible', timeout: 10_000 });
  return (await alert.textContent())!.trim();
};

describe('the admin pages in Chromium', () => {
  let server: RunningServer;
  /** The invite-only server's DATA_DIR, where its SQLite file is. */
  let dataDir: string;
  let closedServer: RunningServer;
  let browser: Browser;
  let admin: Account;

  /** A user on the invite server, made with a fresh invite from the admin. */
  const newUser = async (username?: string): Promise<Account> => {
    const invite = await apiJson<Invite>(server.url, '/api/admin/invites', { method: 'POST', token: admin.token, body: '{}' });
    return register(server.url, invite.code, username);
  };
  const accounts = async (): Promise<AdminUser[]> =>
    apiJson<AdminUser[]>(server.url, '/api/admin/users?limit=1000', { token: admin.token });
  const userRow = (page: Page, username: string) => page.getByRole('listitem').filter({ has: page.getByText(username, { exact: true }) });
  /** An account's row, once the first page is in, after "Show more accounts" as often as it takes (the admin, the oldest, comes last). */
  const findUserRow = async (page: Page, username: string): Promise<Locator> => {
    const row = userRow(page, username);
    await page.getByRole('list', { name: 'Accounts' }).getByRole('listitem').first().waitFor();
    const more = page.getByRole('button', { name: 'Show more accounts' });
    await until(
      async () => {
        if ((await row.count()) > 0) return true;
        if (await more.isEnabled()) await more.click();
        return false;
      },
      20_000,
      `${username}'s row`,
    );
    return row;
  };

  beforeAll(async () => {
    buildWebApp();
    mkdirSync(SCREENSHOTS, { recursive: true });
    [server, closedServer, browser] = await Promise.all([
      startServer({ DATA_DIR: (dataDir = await tempDir()), REGISTRATION: 'invite' }),
      startServer({ DATA_DIR: await tempDir(), REGISTRATION: 'closed' }),
      launchChromium(),
    ]);
    // The first account on a server is its admin, whatever REGISTRATION says (docs/configuration.md).
    admin = await register(server.url, undefined, 'boss');
    await register(closedServer.url, undefined, 'boss');
  });
  afterAll(async () => {
    await browser?.close();
    await Promise.all([server?.stop('SIGKILL'), closedServer?.stop('SIGKILL')]);
  });

  it('the admin makes a 2-use invite and copies its link; a newcomer signs up through it; a wrong code gets the API’s words', async () => {
    const adminApp = await openApp(browser, server.url);
    const guestApp = await openApp(browser, server.url, {}, [401, 403]);
    const { page } = adminApp;
    try {
      await signIn(page, server.url, admin.username, PASSWORD);
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Admin' }).click();
      await page.waitForURL(`${server.url}/admin/users`);
      await page.getByRole('navigation', { name: 'Admin' }).getByRole('link', { name: 'Invites' }).click();
      await page.waitForURL(`${server.url}/admin/invites`);
      await page.getByRole('heading', { name: 'Invites', level: 1 }).waitFor();

      await page.getByLabel('Uses', { exact: true }).fill('2');
      await page.getByLabel('Expires in (days)').fill('3');
      await page.getByRole('button', { name: 'Create invite' }).click();
      const codeBox = page.getByRole('textbox', { name: 'Invite code' });
      await codeBox.waitFor();
      const code = await codeBox.inputValue();
      const made = (await apiJson<Invite[]>(server.url, '/api/admin/invites', { token: admin.token })).find(
        (invite) => invite.code === code,
      );
      expect(made).toMatchObject({ max_uses: 2, uses: 0 });
      const days = (Date.parse(made!.expires_at!) - Date.now()) / 86_400_000;
      expect(days).toBeGreaterThan(2.9);
      expect(days).toBeLessThan(3.1);

      await page.getByRole('button', { name: 'Copy sign-up link' }).click();
      await page.getByRole('button', { name: 'Copied', exact: true }).waitFor();
      const link = await page.evaluate(() => navigator.clipboard.readText());
      expect(link).toBe(`${server.url}/auth?invite=${code}`);

      // Someone without a code, then with a wrong one: the form asks for it, the API's message says why not.
      const guest = guestApp.page;
      await guest.goto(`${server.url}/auth`);
      const inviteField = guest.getByLabel('Invite code');
      await inviteField.waitFor();
      expect(await inviteField.inputValue()).toBe('');
      await guest.getByLabel('Username', { exact: true }).fill(uniqueName('nocode'));
      await guest.getByLabel('Password', { exact: true }).fill(PASSWORD);
      await guest.getByRole('button', { name: 'Sign up', exact: true }).click();
      const required = await apiError(server.url, '/api/auth/register', {
        method: 'POST',
        body: JSON.stringify({ username: uniqueName('nocode'), password: PASSWORD }),
      });
      expect(required.code).toBe('INVITE_REQUIRED');
      await until(async () => (await bannerText(guest)) === required.message, 10_000, 'invite required message');
      await inviteField.fill('not-a-real-code');
      await guest.getByRole('button', { name: 'Sign up', exact: true }).click();
      const invalid = await apiError(server.url, '/api/auth/register', {
        method: 'POST',
        body: JSON.stringify({ username: uniqueName('bad'), password: PASSWORD, invite: 'not-a-real-code' }),
      });
      expect(invalid.code).toBe('INVITE_INVALID');
      await until(async () => (await bannerText(guest)) === invalid.message, 10_000, 'invalid invite message');

      // The link: the code is filled in, Sign up comes first, and the account lands on its first key.
      const newcomer = uniqueName('invited');
      await guest.goto(link);
      await guest.getByRole('heading', { name: 'You are invited to Discord Images' }).waitFor();
      expect(await guest.getByLabel('Invite code').inputValue()).toBe(code);
      await guest.getByLabel('Username', { exact: true }).fill(newcomer);
      await guest.getByLabel('Password', { exact: true }).fill(PASSWORD);
      await guest.getByLabel('Password', { exact: true }).press('Enter');
      const keyBox = guest.getByRole('textbox', { name: 'API key' });
      await keyBox.waitFor();
      const token = await keyBox.inputValue();
      const me = await apiJson<{ username: string; role: string }>(server.url, '/api/me', { token });
      expect(me).toMatchObject({ username: newcomer, role: 'user' });
      await guest.getByRole('button', { name: /continue/i }).click();
      await guest.getByRole('heading', { name: 'Gallery', level: 1 }).waitFor();

      // The admin's list says one use is left, as the API does.
      await page.reload();
      const row = page.getByRole('listitem').filter({ has: page.getByText(code, { exact: true }) });
      await until(async () => (await row.locator('.invite-uses').textContent()) === '1 of 2 used · 1 use left', 10_000, 'uses');
      expect(
        (await apiJson<Invite[]>(server.url, '/api/admin/invites', { token: admin.token })).find((i) => i.code === code),
      ).toMatchObject({
        uses: 1,
        max_uses: 2,
      });
      await row.getByRole('button', { name: 'Copy link' }).click();
      await row.getByRole('button', { name: 'Copied', exact: true }).waitFor();
      expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(link);

      // Revoked, with a confirmation naming the code: gone from the page and the API, and the code stops working.
      await row.getByRole('button', { name: `Revoke invite ${code}` }).click();
      const dialog = page.getByRole('dialog', { name: 'Revoke this invite?' });
      expect(await dialog.textContent()).toContain(code);
      await dialog.getByRole('button', { name: 'Revoke invite' }).click();
      await dialog.waitFor({ state: 'detached' });
      await row.waitFor({ state: 'detached' });
      expect((await apiJson<Invite[]>(server.url, '/api/admin/invites', { token: admin.token })).some((i) => i.code === code)).toBe(false);
      const revoked = await apiError(server.url, '/api/auth/register', {
        method: 'POST',
        body: JSON.stringify({ username: uniqueName('late'), password: PASSWORD, invite: code }),
      });
      expect(revoked.code).toBe('INVITE_INVALID');

      expect(await adminApp.problems()).toEqual([]);
      expect(await guestApp.problems()).toEqual([]);
    } finally {
      await Promise.all([adminApp.context.close(), guestApp.context.close()]);
    }
  });

  it('a never-expiring single-use code, and numbers the API refuses in its own words', async () => {
    const { context, page, problems } = await openApp(browser, server.url, {}, [400, 401]);
    try {
      await signIn(page, server.url, admin.username, PASSWORD, '/auth?next=%2Fadmin%2Finvites');
      await page.getByRole('heading', { name: 'Invites', level: 1 }).waitFor();
      await page.getByLabel('Uses', { exact: true }).fill('0');
      await page.getByRole('button', { name: 'Create invite' }).click();
      const refused = await apiError(server.url, '/api/admin/invites', { method: 'POST', token: admin.token, body: '{"max_uses":0}' });
      await until(async () => (await bannerText(page)) === refused.message, 10_000, 'max_uses message');

      await page.getByLabel('Uses', { exact: true }).fill('1');
      await page.getByLabel('Never expires').check();
      expect(await page.getByLabel('Expires in (days)').isDisabled()).toBe(true);
      await page.getByRole('button', { name: 'Create invite' }).click();
      const code = await page.getByRole('textbox', { name: 'Invite code' }).inputValue();
      const made = (await apiJson<Invite[]>(server.url, '/api/admin/invites', { token: admin.token })).find((i) => i.code === code);
      expect(made).toMatchObject({ max_uses: 1, uses: 0, expires_at: null });
      const row = page.getByRole('listitem').filter({ has: page.getByText(code, { exact: true }) });
      expect(await row.textContent()).toContain('Never');
      expect(await row.locator('.invite-uses').textContent()).toBe('0 of 1 used · 1 use left');
      expect(await problems()).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('the admin changes a quota, disables (the key gets 403 ACCOUNT_DISABLED), enables, and deletes an account with its uploads', async () => {
    const user = await newUser();
    const uploads = await upload(server.url, user.token, [
      { file: 'one.png', bytes: await pngImage(64, 48, [200, 40, 40]) },
      { file: 'two.png', bytes: await pngImage(48, 64, [40, 200, 40]) },
    ]);
    const { context, page, problems } = await openApp(browser, server.url);
    try {
      await signIn(page, server.url, admin.username, PASSWORD, '/auth?next=%2Fadmin%2Fusers');
      await page.getByRole('heading', { name: 'Users', level: 1 }).waitFor();
      const row = userRow(page, user.username);
      await row.waitFor();
      expect(await row.textContent()).toContain('2 uploads');

      // Quota: 1.5 GiB, in bytes at the API.
      await row.getByRole('button', { name: `Edit ${user.username}` }).click();
      const edit = page.getByRole('dialog', { name: `Edit ${user.username}` });
      if (await edit.getByLabel('Unlimited').isChecked()) await edit.getByLabel('Unlimited').uncheck();
      await edit.getByLabel('Quota amount').fill('1.5');
      await edit.getByLabel('Quota unit').selectOption('GiB');
      await edit.getByRole('button', { name: 'Save' }).click();
      await edit.waitFor({ state: 'detached' });
      await until(async () => (await row.textContent())!.includes('1.5 GiB'), 10_000, 'quota shown');
      expect((await accounts()).find((account) => account.id === user.id)?.quota_bytes).toBe(1.5 * 1024 ** 3);

      // Disabled: the page says so, and the API refuses the user's key.
      await row.getByRole('button', { name: `Disable ${user.username}` }).click();
      const confirmDisable = page.getByRole('dialog', { name: `Disable ${user.username}?` });
      await confirmDisable.getByRole('button', { name: 'Disable account' }).click();
      await confirmDisable.waitFor({ state: 'detached' });
      await row.getByRole('button', { name: `Enable ${user.username}` }).waitFor();
      expect(await row.locator('.badge.danger').textContent()).toBe('Disabled');
      const refused = await apiError(server.url, '/api/me', { token: user.token });
      expect(refused).toMatchObject({ status: 403, code: 'ACCOUNT_DISABLED' });
      expect((await accounts()).find((account) => account.id === user.id)?.disabled).toBe(true);

      await row.getByRole('button', { name: `Enable ${user.username}` }).click();
      await row.getByRole('button', { name: `Disable ${user.username}` }).waitFor();
      expect((await api(server.url, '/api/me', { token: user.token })).status).toBe(200);

      // Deleted with the uploads the confirmation counts: the account and its files are gone at the API.
      await row.getByRole('button', { name: `Delete ${user.username}` }).click();
      const confirmDelete = page.getByRole('dialog', { name: `Delete ${user.username} and 2 uploads?` });
      await confirmDelete.waitFor();
      await confirmDelete.getByRole('button', { name: `Delete ${user.username}` }).click();
      await confirmDelete.waitFor({ state: 'detached' });
      await row.waitFor({ state: 'detached' });
      expect((await accounts()).some((account) => account.id === user.id)).toBe(false);
      expect((await api(server.url, '/api/me', { token: user.token })).status).toBe(401);
      for (const gone of uploads) {
        expect((await fetch(gone.raw_url)).status).toBe(410);
        expect((await fetch(gone.url)).status).toBe(410);
      }
      expect(await problems()).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('the admin’s own account: the API refuses to demote, disable or delete it, and the page shows why', async () => {
    const { context, page, problems } = await openApp(browser, server.url, {}, [401, 409]);
    try {
      await signIn(page, server.url, admin.username, PASSWORD, '/auth?next=%2Fadmin%2Fusers');
      const row = await findUserRow(page, admin.username);
      expect(await row.locator('.badge').allTextContents()).toEqual(['You', 'Admin']);

      const selfDisable = await apiError(server.url, `/api/admin/users/${admin.id}`, {
        method: 'PATCH',
        token: admin.token,
        body: '{"disabled":true}',
      });
      expect(selfDisable).toMatchObject({ status: 409, code: 'SELF_CHANGE_REFUSED' });
      await row.getByRole('button', { name: `Disable ${admin.username}` }).click();
      await page.getByRole('dialog').getByRole('button', { name: 'Disable account' }).click();
      await until(async () => (await bannerText(row)) === selfDisable.message, 10_000, 'self-disable message');

      const selfDemote = await apiError(server.url, `/api/admin/users/${admin.id}`, {
        method: 'PATCH',
        token: admin.token,
        body: '{"role":"user"}',
      });
      await row.getByRole('button', { name: `Edit ${admin.username}` }).click();
      const edit = page.getByRole('dialog', { name: `Edit ${admin.username}` });
      await edit.getByLabel('Role').selectOption('user');
      await edit.getByRole('button', { name: 'Save' }).click();
      await until(async () => (await bannerText(edit)) === selfDemote.message, 10_000, 'self-demote message');
      await edit.getByRole('button', { name: 'Cancel' }).click();

      const selfDelete = await apiError(server.url, `/api/admin/users/${admin.id}`, { method: 'DELETE', token: admin.token });
      await row.getByRole('button', { name: `Delete ${admin.username}` }).click();
      await page
        .getByRole('dialog')
        .getByRole('button', { name: `Delete ${admin.username}` })
        .click();
      await until(async () => (await bannerText(row)) === selfDelete.message, 10_000, 'self-delete message');

      expect((await accounts()).find((account) => account.id === admin.id)).toMatchObject({ role: 'admin', disabled: false });
      expect(await problems()).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('pages through the accounts as the API does', async () => {
    // More than a page of accounts (USERS_PAGE = 25), written straight into the server's SQLite
    // file: this is about the page, and 27 sign-ups would spend a minute hashing passwords on a
    // busy machine. They are ordinary accounts to the API (never signed in: the hash is a dummy).
    const have = (await accounts()).length;
    const database = new Database(join(dataDir, 'discord-images.db'));
    try {
      const insert = database.prepare(
        "insert into user (id, username, password_hash, role, quota_bytes, created_at, disabled) values (?, ?, 'seeded', 'user', null, ?, 0)",
      );
      for (let i = have; i < 27; i++) insert.run(randomBase62(16), uniqueName('seeded'), new Date(Date.now() - i * 1000).toISOString());
    } finally {
      database.close();
    }
    const all = await accounts();
    expect(all.length).toBeGreaterThan(25);
    const { context, page, problems } = await openApp(browser, server.url);
    try {
      await signIn(page, server.url, admin.username, PASSWORD, '/auth?next=%2Fadmin%2Fusers');
      const rows = page.getByRole('list', { name: 'Accounts' }).getByRole('listitem');
      await until(async () => (await rows.count()) === 25, 10_000, 'first page');
      expect(await rows.locator('strong').allTextContents()).toEqual(all.slice(0, 25).map((account) => account.username));
      await page.getByRole('button', { name: 'Show more accounts' }).click();
      await until(async () => (await rows.count()) === all.length, 10_000, 'every account');
      expect(await rows.locator('strong').allTextContents()).toEqual(all.map((account) => account.username));
      if (all.length <= 50) expect(await page.getByRole('button', { name: 'Show more accounts' }).count()).toBe(0);
      expect(await problems()).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('the admin changes the server’s embed title and resets it; the API agrees; a bad colour gets the API’s words', async () => {
    const { context, page, problems } = await openApp(browser, server.url, {}, [400, 401]);
    const defaults = () => apiJson<Record<string, unknown>>(server.url, '/api/admin/embed', { token: admin.token });
    try {
      await signIn(page, server.url, admin.username, PASSWORD, '/auth?next=%2Fadmin%2Fembed');
      await page.getByRole('heading', { name: 'Embed defaults', level: 1 }).waitFor();
      const title = page.getByLabel('Title', { exact: true });
      const builtIn = (await defaults()).title;
      expect(await title.inputValue()).toBe(builtIn);

      const mine = `Raid shots: {file.name} <b>${uniqueName('')}</b>`;
      await title.fill(mine);
      await page.getByRole('button', { name: 'Save defaults' }).click();
      await page.getByRole('status').filter({ hasText: 'Saved' }).waitFor();
      expect((await defaults()).title).toBe(mine);
      await page.reload();
      expect(await page.getByLabel('Title', { exact: true }).inputValue()).toBe(mine);

      await page.getByLabel('Colour', { exact: true }).fill('red');
      await page.getByRole('button', { name: 'Save defaults' }).click();
      const refused = await apiError(server.url, '/api/admin/embed', { method: 'PATCH', token: admin.token, body: '{"color":"red"}' });
      await until(async () => (await bannerText(page)) === refused.message, 10_000, 'colour message');
      await page.getByRole('button', { name: 'Undo changes' }).click();

      await page.getByRole('button', { name: 'Reset Title to the built-in value' }).click();
      await page.getByRole('status').filter({ hasText: 'back to the built-in value' }).waitFor();
      expect((await defaults()).title).toBe(builtIn);
      expect(await page.getByLabel('Title', { exact: true }).inputValue()).toBe(builtIn);
      expect(await problems()).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('the usage page’s numbers are GET /api/admin/stats', async () => {
    const user = await newUser();
    await upload(server.url, user.token, [
      { file: 'a.png', bytes: await pngImage(80, 60, [10, 20, 200]) },
      { file: 'b.png', bytes: await pngImage(60, 80, [200, 20, 10]) },
      { file: 'c.png', bytes: await pngImage(70, 70, [20, 200, 10]) },
    ]);
    const { context, page, problems } = await openApp(browser, server.url);
    try {
      await signIn(page, server.url, admin.username, PASSWORD, '/auth?next=%2Fadmin%2Fusage');
      await page.getByRole('heading', { name: 'Usage', level: 1 }).waitFor();
      await page.locator('[data-stat="users"]').waitFor();
      const stats = await apiJson<Stats>(server.url, '/api/admin/stats', { token: admin.token });
      const count = (n: number) => n.toLocaleString('en-US');
      expect(await page.locator('[data-stat="users"]').textContent()).toBe(count(stats.users));
      expect(await page.locator('[data-stat="uploads"]').textContent()).toBe(count(stats.uploads));
      expect(await page.locator('[data-stat="bytes"] .exact').textContent()).toBe(`${count(stats.bytes)} bytes`);
      expect(stats.days).toHaveLength(30);
      expect(stats.days.at(-1)!.uploads).toBeGreaterThanOrEqual(3);

      // The chart: a bar per day, today's the tallest it can be when it is the peak; the table has every day's numbers.
      const bars = page.locator('svg.bars rect');
      expect(await bars.count()).toBe(30);
      const peak = Math.max(...stats.days.map((day) => day.uploads));
      const heights = await bars.evaluateAll((rects) => rects.map((rect) => Number(rect.getAttribute('height'))));
      expect(heights.map((height) => Math.round((height / 100) * peak))).toEqual(stats.days.map((day) => day.uploads));
      await page.getByText('Show the numbers as a table').click();
      const rows = await page
        .locator('.chart-table tbody tr')
        .evaluateAll((trs) =>
          trs.map((tr) => ({ date: tr.getAttribute('data-date'), uploads: tr.querySelectorAll('td')[0]!.textContent })),
        );
      expect(rows).toEqual([...stats.days].reverse().map((day) => ({ date: day.date, uploads: count(day.uploads) })));
      expect(await page.locator('.chart-summary').textContent()).toContain(
        `${count(stats.days.reduce((sum, day) => sum + day.uploads, 0))} uploads in all`,
      );

      // Refresh after another upload shows the new numbers.
      await upload(server.url, user.token, [{ file: 'd.png', bytes: await pngImage(50, 50, [120, 120, 10]) }]);
      await page.getByRole('button', { name: 'Refresh' }).click();
      await until(
        async () => (await page.locator('[data-stat="uploads"]').textContent()) === count(stats.uploads + 1),
        10_000,
        'refreshed uploads',
      );
      expect(await problems()).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('a non-admin sees no Admin link, gets the admins-only message, and the API answers 403', async () => {
    const user = await newUser();
    const { context, page, problems } = await openApp(browser, server.url);
    try {
      await signIn(page, server.url, user.username, PASSWORD);
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'API keys' }).waitFor();
      expect(await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Admin' }).count()).toBe(0);
      for (const path of ['/admin/users', '/admin/invites', '/admin/embed', '/admin/usage']) {
        await page.goto(`${server.url}${path}`);
        await page.getByRole('heading', { name: 'Admins only', level: 1 }).waitFor();
        expect(await page.getByRole('status').textContent()).toContain('is not one');
        expect(await page.getByRole('navigation', { name: 'Admin' }).count()).toBe(0);
      }
      for (const path of ['/api/admin/users', '/api/admin/invites', '/api/admin/embed', '/api/admin/stats']) {
        expect(await apiError(server.url, path, { token: user.token })).toMatchObject({ status: 403, code: 'FORBIDDEN' });
      }
      expect(await problems()).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('/admin leads to the users page, and signed out an admin page leads to sign-in and back', async () => {
    const { context, page, problems } = await openApp(browser, server.url);
    try {
      await page.goto(`${server.url}/admin/usage`);
      await page.waitForURL(`${server.url}/auth?next=%2Fadmin%2Fusage`);
      await page.getByLabel('Username', { exact: true }).fill(admin.username);
      await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
      await page.getByLabel('Password', { exact: true }).press('Enter');
      await page.waitForURL(`${server.url}/admin/usage`);
      await page.getByRole('heading', { name: 'Usage', level: 1 }).waitFor();
      await page.goto(`${server.url}/admin`);
      await page.waitForURL(`${server.url}/admin/users`);
      await page.getByRole('heading', { name: 'Users', level: 1 }).waitFor();
      expect(await page.getByRole('navigation', { name: 'Admin' }).getByRole('link', { name: 'Users' }).getAttribute('aria-current')).toBe(
        'page',
      );
      expect(await problems()).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('closed registration: no invite field, a clear note, and the API’s message; the invites page says codes do not work', async () => {
    const { context, page, problems } = await openApp(browser, closedServer.url, {}, [401, 403]);
    try {
      await page.goto(`${closedServer.url}/auth?invite=whatever`);
      await page.getByText('Sign-ups are closed on this server').waitFor();
      expect(await page.getByLabel('Invite code').count()).toBe(0);
      await page.getByLabel('Username', { exact: true }).fill(uniqueName('late'));
      await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
      await page.getByRole('button', { name: 'Sign up', exact: true }).click();
      const closed = await apiError(closedServer.url, '/api/auth/register', {
        method: 'POST',
        body: JSON.stringify({ username: uniqueName('late'), password: PASSWORD }),
      });
      expect(closed.code).toBe('REGISTRATION_CLOSED');
      await until(async () => (await bannerText(page)) === closed.message, 10_000, 'closed message');

      await signIn(page, closedServer.url, 'boss', PASSWORD, '/auth?next=%2Fadmin%2Finvites');
      await page.getByRole('heading', { name: 'Invites', level: 1 }).waitFor();
      await page.getByText('Registration on this server is closed now').waitFor();
      expect(await problems()).toEqual([]);
    } finally {
      await context.close();
    }
  });

  /** Every admin page at desktop and phone sizes, dark and light (a test each): axe, sideways scroll, a screenshot. */
  const looks = VIEWPORTS.flatMap((viewport) => (['dark', 'light'] as const).map((colorScheme) => ({ ...viewport, colorScheme })));
  it.each(looks)(
    '$label, $colorScheme: every admin page passes axe, fits the width, and is photographed',
    async ({ label, options, colorScheme }) => {
      const user = await newUser(uniqueName('long-name.'));
      await upload(server.url, user.token, [{ file: 'shot.png', bytes: await pngImage(120, 80, [88, 101, 242]) }]);
      await apiJson(server.url, '/api/admin/invites', { method: 'POST', token: admin.token, body: '{"max_uses":5,"expires_in_days":30}' });
      const { context, page, problems } = await openApp(browser, server.url, { ...options, colorScheme }, [401, 409]);
      const check = async (name: string) => {
        expect(await accessibilityViolations(page), `${name} (${label}, ${colorScheme})`).toEqual([]);
        expect(await scrollsSideways(page), `${name} scrolls sideways (${label}, ${colorScheme})`).toBe(false);
        await page.screenshot({ path: join(SCREENSHOTS, `admin-${name}-${label}-${colorScheme}.png`), fullPage: true });
      };
      try {
        const invite = await apiJson<Invite>(server.url, '/api/admin/invites', { method: 'POST', token: admin.token, body: '{}' });
        await page.goto(`${server.url}/auth?invite=${invite.code}`);
        await page.getByLabel('Invite code').waitFor();
        await check('auth-invite');

        await signIn(page, server.url, admin.username, PASSWORD, '/auth?next=%2Fadmin%2Fusers');
        await userRow(page, user.username).waitFor();
        await check('users');
        const own = await findUserRow(page, admin.username);
        await own.getByRole('button', { name: `Disable ${admin.username}` }).click();
        await page.getByRole('dialog').getByRole('button', { name: 'Disable account' }).click();
        await bannerText(own);
        await check('users-self-refused');
        await userRow(page, user.username)
          .getByRole('button', { name: `Edit ${user.username}` })
          .click();
        await page.getByRole('dialog').waitFor();
        await check('users-edit');
        await page.keyboard.press('Escape');
        await page.getByRole('dialog').waitFor({ state: 'detached' });
        await userRow(page, user.username)
          .getByRole('button', { name: `Delete ${user.username}` })
          .click();
        await page.getByRole('dialog').waitFor();
        await check('users-delete');
        await page.getByRole('dialog').getByRole('button', { name: 'Cancel' }).click();

        await page.getByRole('navigation', { name: 'Admin' }).getByRole('link', { name: 'Invites' }).click();
        await page.getByRole('list', { name: 'Invites' }).waitFor();
        await check('invites');
        await page.getByRole('button', { name: 'Create invite' }).click();
        await page.getByRole('textbox', { name: 'Invite code' }).waitFor();
        await check('invites-created');

        await page.getByRole('navigation', { name: 'Admin' }).getByRole('link', { name: 'Embed defaults' }).click();
        await page.getByLabel('Title', { exact: true }).waitFor();
        await check('embed');

        await page.getByRole('navigation', { name: 'Admin' }).getByRole('link', { name: 'Usage' }).click();
        await page.locator('svg.bars').waitFor();
        await page.getByText('Show the numbers as a table').click();
        await check('usage');

        await context.clearCookies();
        await signIn(page, server.url, user.username, PASSWORD, '/auth?next=%2Fadmin%2Fusers');
        await page.getByRole('heading', { name: 'Admins only', level: 1 }).waitFor();
        await check('admins-only');
        expect(await problems()).toEqual([]);
      } finally {
        await context.close();
      }
    },
    // Eleven pages, each through axe and a full-page screenshot: over a minute on a loaded two-core machine.
    LOOK_TIMEOUT_MS,
  );
});
