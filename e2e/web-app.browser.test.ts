/**
 * The web app in Chromium (issue 10, first slice): sign-up and sign-in at /auth, the first key
 * shown once, the keys page, the gallery, against a real server, checked against the API at
 * every step; axe-core on every page, the phone width, screenshots at desktop and phone sizes
 * (e2e/screenshots/, git-ignored); and how the server serves the built app.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APP_PATHS as SERVER_APP_PATHS } from '../server/src/http/plugins/web.plugin.js';
import { isUploadId } from '../server/src/domain/ids.js';
import { tempDir } from '../server/test/helpers/temp-dir.js';
import { APP_PATHS as WEB_APP_PATHS } from '../web/src/paths.js';
import { launchChromium } from './helpers/chromium.js';
import { type RunningServer, startServer, until } from './helpers/server.js';
import { listUploads, pngImage, upload } from './helpers/uploads.js';
import { accessibilityViolations, buildWebApp, openApp, SCREENSHOTS, scrollsSideways, signIn, VIEWPORTS } from './helpers/web-app.js';

const PASSWORD = 'correct horse battery';
const uniqueName = (prefix: string) => `${prefix}${Math.random().toString(36).slice(2, 10)}`;

interface Registered {
  username: string;
  token: string;
}

async function api(url: string, path: string, init: RequestInit & { token?: string } = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  if (init.token) headers.set('token', init.token);
  if (init.body) headers.set('content-type', 'application/json');
  return fetch(`${url}${path}`, { ...init, headers });
}

async function registerViaApi(url: string, username = uniqueName('u')): Promise<Registered> {
  const response = await api(url, '/api/auth/register', { method: 'POST', body: JSON.stringify({ username, password: PASSWORD }) });
  if (response.status !== 201) throw new Error(`register: ${response.status} ${await response.text()}`);
  return { username, token: ((await response.json()) as { token: string }).token };
}

/** The API's own message for a request, to compare with what the page shows. */
async function apiMessage(url: string, path: string, body: object): Promise<string> {
  const response = await api(url, path, { method: 'POST', body: JSON.stringify(body) });
  expect(response.ok).toBe(false);
  return ((await response.json()) as { message: string }).message;
}

const alertText = async (page: Page): Promise<string> => {
  const alert = page.locator('.banner.error[role="alert"]');
  await alert.waitFor({ state: 'visible', timeout: 10_000 });
  return (await alert.textContent())!.trim();
};

describe('the web app in Chromium', () => {
  let server: RunningServer;
  let closedServer: RunningServer;
  let browser: Browser;

  beforeAll(async () => {
    buildWebApp();
    mkdirSync(SCREENSHOTS, { recursive: true });
    [server, closedServer, browser] = await Promise.all([
      startServer({ DATA_DIR: await tempDir() }),
      startServer({ DATA_DIR: await tempDir(), REGISTRATION: 'closed' }),
      launchChromium(),
    ]);
  });
  afterAll(async () => {
    await browser?.close();
    await Promise.all([server?.stop('SIGKILL'), closedServer?.stop('SIGKILL')]);
  });

  it('a new user signs up at /auth, sees the key once, copies it, and the key works against the API', async () => {
    const { context, page, problems } = await openApp(browser, server.url);
    try {
      const username = uniqueName('new');
      // Signed out, / sends you to sign in, and back afterwards.
      await page.goto(`${server.url}/`);
      await page.waitForURL(`${server.url}/auth?next=%2F`);
      await page.getByLabel('Username', { exact: true }).fill(username);
      await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
      await page.getByRole('button', { name: 'Sign up', exact: true }).click();

      const keyBox = page.getByRole('textbox', { name: 'API key' });
      await keyBox.waitFor();
      const token = await keyBox.inputValue();
      expect(token).toMatch(/^di_[0-9A-Za-z]{40}$/);
      expect(await page.getByText('it will not be shown again').isVisible()).toBe(true);
      await page.getByRole('button', { name: 'Copy key' }).click();
      await page.getByRole('button', { name: 'Copied', exact: true }).waitFor();
      expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(token);

      // The key is real: the API knows its owner by it.
      const me = await api(server.url, '/api/me', { token });
      expect(me.status).toBe(200);
      expect(((await me.json()) as { username: string }).username).toBe(username);

      // Going on opens the app, signed in; the key is never shown again, not even after a reload.
      await page.getByRole('button', { name: /continue/i }).click();
      await page.waitForURL(`${server.url}/`);
      await page.getByRole('heading', { name: 'Gallery', level: 1 }).waitFor();
      await page.reload();
      await page.getByRole('heading', { name: 'Gallery', level: 1 }).waitFor();
      await page.goto(`${server.url}/keys`);
      await page.getByRole('heading', { name: 'API keys', level: 1 }).waitFor();
      await page.locator('.key-row').first().waitFor();
      expect(await page.content()).not.toContain(token);
      expect(await page.locator('.key-row').count()).toBe(1);
      expect(await page.locator('.key-row code').textContent()).toBe(`${token.slice(0, 7)}…`);
      expect(await problems()).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('signs out, and signs in again, returning to the page asked for', async () => {
    const user = await registerViaApi(server.url);
    const { context, page, problems } = await openApp(browser, server.url);
    try {
      await signIn(page, server.url, user.username, PASSWORD);
      expect(new URL(page.url()).pathname).toBe('/');
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.waitForURL((url) => url.pathname === '/auth');
      // The session is over on the server too: the cookie no longer opens anything.
      const cookies = await context.cookies(server.url);
      const me = await page.evaluate(async () => (await fetch('/api/me')).status);
      expect(me, JSON.stringify(cookies)).toBe(401);

      await page.goto(`${server.url}/keys`);
      await page.waitForURL(`${server.url}/auth?next=%2Fkeys`);
      await page.getByLabel('Username', { exact: true }).fill(user.username);
      await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
      await page.getByLabel('Password', { exact: true }).press('Enter');
      await page.waitForURL(`${server.url}/keys`);
      await page.getByRole('heading', { name: 'API keys', level: 1 }).waitFor();
      expect(await problems()).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('a session that ends while the app is open sends the user to sign in, and back to where they were', async () => {
    const user = await registerViaApi(server.url);
    const { context, page, problems } = await openApp(browser, server.url);
    try {
      await signIn(page, server.url, user.username, PASSWORD);
      await context.clearCookies();
      await page.getByRole('navigation').getByRole('link', { name: 'API keys' }).click();
      await page.waitForURL(`${server.url}/auth?next=%2Fkeys`);
      await page.getByLabel('Username', { exact: true }).fill(user.username);
      await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      await page.waitForURL(`${server.url}/keys`);
      expect(await problems()).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it("a wrong password, a taken name and a weak password show the API's own messages", async () => {
    const user = await registerViaApi(server.url);
    const { context, page, problems } = await openApp(browser, server.url, {}, [400, 401, 409]);
    try {
      await page.goto(`${server.url}/auth`);
      await page.getByLabel('Username', { exact: true }).fill(user.username);
      await page.getByLabel('Password', { exact: true }).fill('not the password');
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      const wrong = await apiMessage(server.url, '/api/auth/login', { username: user.username, password: 'not the password' });
      expect(wrong).toBe('Wrong username or password.');
      await until(async () => (await alertText(page)) === wrong, 10_000, 'wrong-password message');

      await page.getByRole('button', { name: 'Sign up', exact: true }).click();
      const taken = await apiMessage(server.url, '/api/auth/register', { username: user.username, password: 'not the password' });
      expect(taken).toContain('is taken');
      await until(async () => (await alertText(page)) === taken, 10_000, 'taken-name message');

      await page.getByLabel('Username', { exact: true }).fill(uniqueName('weak'));
      await page.getByLabel('Password', { exact: true }).fill('short');
      await page.getByRole('button', { name: 'Sign up', exact: true }).click();
      const weak = await apiMessage(server.url, '/api/auth/register', { username: uniqueName('weak'), password: 'short' });
      expect(weak).toContain('password');
      await until(async () => (await alertText(page)) === weak, 10_000, 'weak-password message');
      // Still on the form, signed out.
      expect(new URL(page.url()).pathname).toBe('/auth');
      expect(await problems()).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('closed sign-ups say so, in the API’s words', async () => {
    // On a closed server only the first account, the admin, may register.
    await registerViaApi(closedServer.url, 'admin');
    const { context, page, problems } = await openApp(browser, closedServer.url, {}, [401, 403]);
    try {
      await page.goto(`${closedServer.url}/auth`);
      await page.getByLabel('Username', { exact: true }).fill(uniqueName('late'));
      await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
      await page.getByRole('button', { name: 'Sign up', exact: true }).click();
      const closed = await apiMessage(closedServer.url, '/api/auth/register', { username: uniqueName('late'), password: PASSWORD });
      expect(closed).toContain('Registration is closed');
      await until(async () => (await alertText(page)) === closed, 10_000, 'closed message');
      expect(await problems()).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('keys created and revoked in the UI agree with the API', async () => {
    const user = await registerViaApi(server.url);
    const { context, page, problems } = await openApp(browser, server.url);
    const listed = async () =>
      ((await (await api(server.url, '/api/keys', { token: user.token })).json()) as { id: string; name: string }[]).map((key) => key.name);
    try {
      await signIn(page, server.url, user.username, PASSWORD, '/auth?next=%2Fkeys');
      await page.getByRole('heading', { name: 'API keys', level: 1 }).waitFor();
      // The heading comes before the list has loaded: wait for its first row.
      await page.locator('.key-row').first().waitFor();
      expect(await page.locator('.key-row strong').allTextContents()).toEqual(await listed());

      const name = 'ShareX on my laptop';
      await page.getByLabel('Key name').fill(name);
      await page.getByRole('button', { name: 'Create key' }).click();
      const keyBox = page.getByRole('textbox', { name: 'API key' });
      await keyBox.waitFor();
      const token = await keyBox.inputValue();
      expect(token).toMatch(/^di_[0-9A-Za-z]{40}$/);
      expect(await page.getByText('it will not be shown again').isVisible()).toBe(true);
      expect(await listed()).toEqual([name, 'default']);
      expect(await page.locator('.key-row strong').allTextContents()).toEqual([name, 'default']);
      expect((await api(server.url, '/api/me', { token })).status).toBe(200);
      // The key was used just now: after a reload the page says when.
      await page.reload();
      await page.locator('.key-row').first().waitFor();
      expect(await page.content()).not.toContain(token);
      expect(await page.locator('.key-row').first().locator('dd').nth(1).textContent()).not.toBe('Never');

      // Revoking asks first; Cancel keeps the key.
      await page.getByRole('button', { name: `Revoke ${name}` }).click();
      const dialog = page.getByRole('dialog', { name: 'Revoke this key?' });
      await dialog.waitFor();
      await dialog.getByRole('button', { name: 'Cancel' }).click();
      await dialog.waitFor({ state: 'hidden' });
      expect(await listed()).toEqual([name, 'default']);

      await page.getByRole('button', { name: `Revoke ${name}` }).click();
      await dialog.getByRole('button', { name: 'Revoke key' }).click();
      await dialog.waitFor({ state: 'hidden' });
      await until(async () => (await page.locator('.key-row').count()) === 1, 10_000, 'the revoked key to leave the list');
      expect(await page.locator('.key-row strong').allTextContents()).toEqual(['default']);
      expect(await listed()).toEqual(['default']);
      expect((await api(server.url, '/api/me', { token })).status).toBe(401);
      expect(await problems()).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('the gallery shows the uploads newest first as thumbnails, and loads more as it scrolls', async () => {
    const user = await registerViaApi(server.url);
    // 65 uploads: more than one batch of the page (60), over several requests of the API.
    for (let start = 0; start < 65; start += 20) {
      const parts = await Promise.all(
        Array.from({ length: Math.min(20, 65 - start) }, async (_, i) => ({
          file: `shot-${start + i}.png`,
          bytes: await pngImage(32, 24, [(start + i) * 3, 80, 200]),
        })),
      );
      await upload(server.url, user.token, parts);
    }
    const expected = (await listUploads(server.url, user.token)).map((item) => item.thumbnail_url);
    expect(expected).toHaveLength(65);
    const { context, page, problems } = await openApp(browser, server.url);
    try {
      await signIn(page, server.url, user.username, PASSWORD);
      await page.getByRole('heading', { name: 'Gallery', level: 1 }).waitFor();
      const tiles = page.locator('.tile img');
      await until(async () => (await tiles.count()) >= 60, 15_000, 'the first batch');
      await page.locator('.sentinel').scrollIntoViewIfNeeded();
      await until(async () => (await tiles.count()) === 65, 15_000, 'the second batch');
      expect(await tiles.evaluateAll((images) => images.map((image) => (image as HTMLImageElement).src))).toEqual(expected);
      // Each tile opens its share page.
      const first = (await listUploads(server.url, user.token))[0]!;
      expect(await page.locator('.tile a').first().getAttribute('href')).toBe(first.url);
      await tiles.first().evaluate((image: HTMLImageElement) => image.decode());
      expect(await problems()).toEqual([]);
    } finally {
      await context.close();
    }
  });

  /** Every page and state, at desktop and phone sizes, dark and light: axe, sideways scroll, a screenshot. */
  it.each(VIEWPORTS)('$label: every page passes axe, fits the width, and is photographed', async ({ label, options }) => {
    const user = await registerViaApi(server.url);
    await upload(
      server.url,
      user.token,
      await Promise.all(
        [0, 1, 2, 3, 4, 5, 6].map(async (i) => ({ file: `s${i}.png`, bytes: await pngImage(320, 200, [40 + i * 30, 90, 220 - i * 20]) })),
      ),
    );
    for (const colorScheme of ['dark', 'light'] as const) {
      const { context, page, problems } = await openApp(browser, server.url, { ...options, colorScheme }, [400, 401]);
      const check = async (name: string) => {
        expect(await accessibilityViolations(page), `${name} (${label}, ${colorScheme})`).toEqual([]);
        expect(await scrollsSideways(page), `${name} scrolls sideways (${label}, ${colorScheme})`).toBe(false);
        await page.screenshot({ path: join(SCREENSHOTS, `${name}-${label}-${colorScheme}.png`), fullPage: true });
      };
      try {
        await page.goto(`${server.url}/auth`);
        await page.getByLabel('Username', { exact: true }).waitFor();
        await check('auth');
        await page.getByLabel('Username', { exact: true }).fill(user.username);
        await page.getByLabel('Password', { exact: true }).fill('short');
        await page.getByRole('button', { name: 'Sign up', exact: true }).click();
        await alertText(page);
        await check('auth-error');

        const fresh = uniqueName('shot');
        await page.getByLabel('Username', { exact: true }).fill(fresh);
        await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
        await page.getByRole('button', { name: 'Sign up', exact: true }).click();
        await page.getByRole('textbox', { name: 'API key' }).waitFor();
        await check('first-key');
        await context.clearCookies();

        await signIn(page, server.url, user.username, PASSWORD);
        await page.getByRole('heading', { name: 'Gallery', level: 1 }).waitFor();
        await until(async () => (await page.locator('.tile img').count()) === 7, 10_000, 'tiles');
        await page.locator('.tile img').evaluateAll((images) => Promise.all(images.map((image) => (image as HTMLImageElement).decode())));
        await check('gallery');

        await page.getByRole('navigation').getByRole('link', { name: 'API keys' }).click();
        await page.getByLabel('Key name').fill('Flameshot on the desktop');
        await page.getByRole('button', { name: 'Create key' }).click();
        await page.getByRole('textbox', { name: 'API key' }).waitFor();
        await check('keys');
        await page.getByRole('button', { name: 'Revoke Flameshot on the desktop' }).click();
        await page.getByRole('dialog').waitFor();
        await check('keys-revoke');
        await page.getByRole('dialog').getByRole('button', { name: 'Revoke key' }).click();
        await page.getByRole('dialog').waitFor({ state: 'hidden' });
        expect(await problems()).toEqual([]);
      } finally {
        await context.close();
      }
    }
  });

  it('the first load of the app needs under 100 KB of JavaScript, compressed', async () => {
    const user = await registerViaApi(server.url);
    const { context, page } = await openApp(browser, server.url);
    try {
      await signIn(page, server.url, user.username, PASSWORD);
      await page.getByRole('heading', { name: 'Gallery', level: 1 }).waitFor();
      const scripts = await page.evaluate(() =>
        performance
          .getEntriesByType('resource')
          .filter((entry) => (entry as PerformanceResourceTiming).initiatorType === 'script' || entry.name.endsWith('.js'))
          .map((entry) => ({ name: entry.name, bytes: (entry as PerformanceResourceTiming).encodedBodySize })),
      );
      expect(scripts.length).toBeGreaterThan(0);
      const total = scripts.reduce((sum, script) => sum + script.bytes, 0);
      expect(total, JSON.stringify(scripts)).toBeLessThan(100_000);
    } finally {
      await context.close();
    }
  });
});

describe('the server serves the built app', () => {
  let server: RunningServer;
  beforeAll(async () => {
    buildWebApp();
    server = await startServer({ DATA_DIR: await tempDir() });
  });
  afterAll(async () => {
    await server?.stop('SIGKILL');
  });

  const get = (path: string, headers: Record<string, string> = {}) => fetch(`${server.url}${path}`, { headers });

  it('index.html at every app path, asked for again each time, compressed, with a strict CSP', async () => {
    for (const path of SERVER_APP_PATHS) {
      const response = await get(path, { 'accept-encoding': 'br' });
      expect(response.status, path).toBe(200);
      expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(response.headers.get('cache-control')).toBe('no-cache');
      expect(response.headers.get('content-encoding')).toBe('br');
      expect(response.headers.get('vary')).toBe('accept-encoding');
      const policy = response.headers.get('content-security-policy')!;
      expect(policy).toContain("default-src 'none'");
      expect(policy).toContain("script-src 'self'");
      expect(policy).not.toContain('unsafe');
      expect(policy).toContain("frame-ancestors 'none'");
      expect(await response.text()).toContain('<div id="app"></div>');
      // Revalidation is cheap: the same index answers 304.
      const again = await get(path, { 'accept-encoding': 'br', 'if-none-match': response.headers.get('etag')! });
      expect(again.status).toBe(304);
    }
  });

  it('hashed assets are cached for a year, immutable, in br, gzip or plain as the client takes', async () => {
    const index = await (await get('/auth')).text();
    const assets = [...index.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((match) => match[1]!);
    expect(assets.length).toBeGreaterThanOrEqual(2);
    for (const asset of assets) {
      const plain = await get(asset, { 'accept-encoding': 'identity' });
      const body = Buffer.from(await plain.arrayBuffer());
      expect(plain.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      expect(plain.headers.get('content-encoding')).toBeNull();
      for (const encoding of ['br', 'gzip']) {
        // Node's fetch decodes the body, which must come back to the same bytes.
        const encoded = await get(asset, { 'accept-encoding': encoding });
        expect(encoded.headers.get('content-encoding'), `${asset} ${encoding}`).toBe(encoding);
        expect(encoded.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
        expect(Buffer.from(await encoded.arrayBuffer()).equals(body)).toBe(true);
      }
      expect((await get(asset, { 'accept-encoding': 'gzip;q=0, br;q=0' })).headers.get('content-encoding')).toBeNull();
    }
    expect((await get('/assets/index-nothere.js')).status).toBe(404);
  });

  it('an app path never shadows a share page, and the app answers only at its own paths', async () => {
    // The browser's router and the server agree on the paths, and none could be an upload id.
    expect([...WEB_APP_PATHS]).toEqual([...SERVER_APP_PATHS]);
    for (const path of SERVER_APP_PATHS) expect(isUploadId(path.slice(1)), path).toBe(false);
    const { token } = await registerViaApi(server.url);
    const [uploaded] = await upload(server.url, token, [{ file: 'keys.png', bytes: await pngImage(40, 30, [200, 30, 30]) }]);
    const share = await get(`/${uploaded!.id}`);
    expect(share.status).toBe(200);
    expect(await share.text()).toContain('og:image');
    // Paths that are not the app's stay the server's: a missing share page, the API, the files.
    for (const path of ['/abcdefghij', '/settings/x', '/auth/x', '/keys/x']) {
      const response = await get(path);
      expect(response.status, path).toBe(404);
      expect(await response.text(), path).not.toContain('<div id="app">');
    }
    expect((await get('/api/me', { accept: 'application/json' })).status).toBe(401);
    expect((await get(`/i/${uploaded!.id}.png`)).status).toBe(200);
  });
});
