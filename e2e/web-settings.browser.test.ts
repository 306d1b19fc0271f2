/**
 * The tool setup page (/setup) and the settings page (/settings) in Chromium against a real
 * server (issue 10, points 5 and 6). The files the setup page downloads are used for real: the
 * .sxcu exactly as ShareX reads it, the script and the one-liner with bash and curl. Settings:
 * embed templates previewed live (unsaved) and saved through the server's preview, markup shown as text,
 * password change, sign out everywhere. The API is asked at every step; axe-core, the phone
 * width and screenshots (e2e/screenshots/, git-ignored) at the end.
 */
import { execFile } from 'node:child_process';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Browser, BrowserContext, Download, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../server/test/helpers/temp-dir.js';
import { launchChromium } from './helpers/chromium.js';
import { type RunningServer, startServer, until } from './helpers/server.js';
import { listUploads, multipart, pngImage, upload } from './helpers/uploads.js';
import { accessibilityViolations, buildWebApp, openApp, SCREENSHOTS, scrollsSideways, signIn, VIEWPORTS } from './helpers/web-app.js';

const run = promisify(execFile);
const PASSWORD = 'correct horse battery';
const uniqueName = (prefix: string) => `${prefix}${Math.random().toString(36).slice(2, 10)}`;

interface Registered {
  username: string;
  token: string;
}

async function api(url: string, path: string, init: RequestInit & { token?: string; cookie?: string } = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  if (init.token) headers.set('token', init.token);
  if (init.cookie) headers.set('cookie', init.cookie);
  if (init.body && typeof init.body === 'string') headers.set('content-type', 'application/json');
  return fetch(`${url}${path}`, { ...init, headers });
}

async function registerViaApi(url: string): Promise<Registered> {
  const username = uniqueName('s');
  const response = await api(url, '/api/auth/register', { method: 'POST', body: JSON.stringify({ username, password: PASSWORD }) });
  if (response.status !== 201) throw new Error(`register: ${response.status} ${await response.text()}`);
  return { username, token: ((await response.json()) as { token: string }).token };
}

const alertText = async (scope: Page | ReturnType<Page['locator']>): Promise<string> => {
  const alert = scope.locator('.banner.error[role="alert"]');
  await alert.waitFor({ state: 'visible', timeout: 10_000 });
  return (await alert.textContent())!.trim();
};

const clipboard = (page: Page): Promise<string> => page.evaluate(() => navigator.clipboard.readText());

/** Clicks a section's copy button, waits for it to say so, and answers the clipboard. */
async function copyFrom(page: Page, section: string, button: string): Promise<string> {
  const region = page.getByRole('region', { name: section });
  await region.getByRole('button', { name: button }).click();
  await region.getByRole('button', { name: 'Copied', exact: true }).waitFor();
  return clipboard(page);
}

/** Clicks a download button and answers the file's suggested name and text. */
async function download(page: Page, button: string): Promise<{ name: string; text: string; file: Download }> {
  const [file] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: button }).click()]);
  const path = await file.path();
  return { name: file.suggestedFilename(), text: await readFile(path, 'utf8'), file };
}

/** ShareX's `{json:files[0].url}`: a path of names and indexes into the answer's JSON. */
function resolveSharexTemplate(template: string, answer: unknown): string {
  return template.replace(/\{json:([^}]+)\}/g, (_, path: string) => {
    let value: unknown = answer;
    for (const step of path.match(/[^.[\]]+/g)!) value = (value as Record<string, unknown>)[step];
    return String(value);
  });
}

/** What ShareX does with a custom uploader: one request built from the file's fields alone. */
async function uploadAsSharex(sxcu: Record<string, unknown>, fileName: string, bytes: Buffer): Promise<{ status: number; json: unknown }> {
  expect(sxcu.Body).toBe('MultipartFormData');
  const { body, contentType } = multipart([{ file: fileName, bytes, field: sxcu.FileFormName as string }]);
  const response = await fetch(sxcu.RequestURL as string, {
    method: sxcu.RequestMethod as string,
    headers: { ...(sxcu.Headers as Record<string, string>), 'content-type': contentType },
    body: new Uint8Array(body),
  });
  return { status: response.status, json: await response.json() };
}

const cookieHeader = async (context: BrowserContext): Promise<string> =>
  (await context.cookies()).map((cookie) => `${cookie.name}=${cookie.value}`).join('; ');

describe('setup and settings pages in Chromium', () => {
  let server: RunningServer;
  let browser: Browser;
  let work: string;

  beforeAll(async () => {
    buildWebApp();
    await mkdir(SCREENSHOTS, { recursive: true });
    work = await tempDir();
    [server, browser] = await Promise.all([startServer({ DATA_DIR: await tempDir() }), launchChromium()]);
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop('SIGKILL');
  });

  it('setup makes a key there; its .sxcu uploads as ShareX does, the script and one-liner upload with bash and curl, copies match', async () => {
    const user = await registerViaApi(server.url);
    const { context, page, problems } = await openApp(browser, server.url, { acceptDownloads: true });
    try {
      await signIn(page, server.url, user.username, PASSWORD);
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Setup' }).click();
      await page.getByRole('heading', { name: 'Tool setup', level: 1 }).waitFor();
      expect(page.url()).toBe(`${server.url}/setup`);
      // No file before a key is chosen.
      expect(await page.locator('pre.code').count()).toBe(0);

      await page.getByLabel('Key name').fill('ShareX on the test machine');
      await page.getByRole('button', { name: 'Create key' }).click();
      const token = await page.getByRole('textbox', { name: 'API key' }).inputValue();
      expect(token).toMatch(/^di_[0-9A-Za-z]{40}$/);
      expect(await page.getByText('it will not be shown again').isVisible()).toBe(true);
      // The API has the key, under its name, and it works.
      const keys = (await (await api(server.url, '/api/keys', { token: user.token })).json()) as { name: string; hint: string }[];
      expect(keys.map((key) => key.name)).toContain('ShareX on the test machine');
      expect((await api(server.url, '/api/me', { token })).status).toBe(200);

      const host = new URL(server.url).host.replace(':', '-');

      // ShareX: the .sxcu downloaded, then used exactly as ShareX reads it.
      const sxcuDownload = await download(page, `Download ${host}.sxcu`);
      expect(sxcuDownload.name).toBe(`${host}.sxcu`);
      const sxcu = JSON.parse(sxcuDownload.text) as Record<string, unknown>;
      expect(sxcu).toMatchObject({
        DestinationType: 'ImageUploader',
        RequestMethod: 'POST',
        RequestURL: `${server.url}/api/upload`,
        Headers: { token },
        FileFormName: 'files[]',
      });
      const shot = await pngImage(200, 120, [88, 101, 242]);
      const sent = await uploadAsSharex(sxcu, 'ShareX_2026-12-05.png', shot);
      expect(sent.status).toBe(201);
      const shareUrl = resolveSharexTemplate(sxcu.URL as string, sent.json);
      const listed = await listUploads(server.url, user.token);
      expect(listed[0]!.url).toBe(shareUrl);
      expect(listed[0]!.name).toBe('ShareX_2026-12-05.png');
      const sharePage = await fetch(shareUrl);
      expect(sharePage.status).toBe(200);
      expect(await sharePage.text()).toContain('og:image');
      const thumbnail = await fetch(resolveSharexTemplate(sxcu.ThumbnailURL as string, sent.json));
      expect(thumbnail.headers.get('content-type')).toBe('image/webp');
      expect(resolveSharexTemplate(sxcu.DeletionURL as string, sent.json)).toBe(listed[0]!.delete_url);
      // An error shows the server's message, through ErrorMessage.
      const refused = await uploadAsSharex(sxcu, 'notes.txt', Buffer.from('not an image'));
      expect(refused.status).toBe(415);
      expect(resolveSharexTemplate(sxcu.ErrorMessage as string, refused.json)).toMatch(/notes\.txt.*not a supported image/);

      expect(await copyFrom(page, '2. ShareX (Windows)', 'Copy .sxcu')).toBe(sxcuDownload.text);

      // The script: downloaded, made runnable, run with bash on real files.
      const script = await download(page, `Download ${host}-upload.sh`);
      expect(script.name).toBe(`${host}-upload.sh`);
      const scriptPath = join(work, script.name);
      await writeFile(scriptPath, script.text);
      await chmod(scriptPath, 0o700);
      const odd = join(work, 'raid, night; boss.png');
      await writeFile(odd, await pngImage(90, 60, [235, 69, 158]));
      const ran = await run(scriptPath, [odd], { cwd: work, env: { PATH: process.env.PATH, HOME: work } });
      const scriptLink = ran.stdout.trim();
      const afterScript = await listUploads(server.url, user.token);
      expect(afterScript[0]!.url).toBe(scriptLink);
      expect(afterScript[0]!.name).toBe('raid, night; boss.png');
      expect((await fetch(scriptLink)).status).toBe(200);
      // A file the server refuses: the script fails with the API's message.
      const text = join(work, 'notes.txt');
      await writeFile(text, 'not an image');
      const failed = await run(scriptPath, [text], { cwd: work, env: { PATH: process.env.PATH, HOME: work } }).catch(
        (error: { code: number; stderr: string }) => error,
      );
      expect('code' in failed && failed.code).toBe(1);
      expect(failed.stderr).toMatch(/^Upload failed \(415\): files\[0\] \(notes\.txt\) is not a supported image/);
      expect(await copyFrom(page, '3. Flameshot, grim or macOS (script)', 'Copy script')).toBe(script.text);

      // The one-liner, run where a screenshot.png is.
      const oneLiner = await download(page, `Download ${host}-curl.sh`);
      await writeFile(join(work, 'screenshot.png'), await pngImage(60, 40, [30, 200, 120]));
      const curled = await run('bash', ['-c', oneLiner.text], { cwd: work });
      const answer = JSON.parse(curled.stdout) as { files: { url: string; name: string }[] };
      expect(answer.files[0]!.name).toBe('screenshot.png');
      expect((await listUploads(server.url, user.token))[0]!.url).toBe(answer.files[0]!.url);
      expect(await copyFrom(page, '4. curl', 'Copy command')).toBe(oneLiner.text);
      expect(await problems()).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('setup with a key the user has: its secret must be pasted, and only its own secret is taken', async () => {
    const user = await registerViaApi(server.url);
    const other = await registerViaApi(server.url);
    const second = (await (
      await api(server.url, '/api/keys', { method: 'POST', token: user.token, body: JSON.stringify({ name: 'Laptop' }) })
    ).json()) as { token: string };
    const { context, page, problems } = await openApp(browser, server.url, {}, [401]);
    try {
      await signIn(page, server.url, user.username, PASSWORD, '/auth?next=%2Fsetup');
      await page.getByRole('heading', { name: 'Tool setup', level: 1 }).waitFor();
      await page.getByLabel('Use a key I have').check();
      const select = page.getByLabel(/^Key$/i);
      await select.selectOption({ label: `Laptop (${second.token.slice(0, 7)}…)` });
      const secret = page.getByLabel('Its secret');
      const use = page.getByRole('button', { name: 'Use this key' });

      await secret.fill('di_short');
      await use.click();
      expect(await alertText(page)).toMatch(/40 letters and digits/);
      // The first key's secret is not the one of "Laptop".
      await secret.fill(user.token);
      await use.click();
      await until(async () => /not the one of “Laptop”/.test(await alertText(page)), 5_000, 'wrong key message');
      // The right start but a mistyped rest: the server refuses it.
      await secret.fill(`${second.token.slice(0, 7)}${'x'.repeat(36)}`);
      await use.click();
      await until(async () => /does not accept this secret/.test(await alertText(page)), 5_000, 'refused secret');
      expect(await page.locator('pre.code').count()).toBe(0);
      // Another account's key with the same start cannot be made here, so its secret fails the hint check.
      expect(other.token.startsWith(second.token.slice(0, 7))).toBe(false);

      await secret.fill(second.token);
      await use.click();
      await page.getByText('The files below use').waitFor();
      expect(await page.locator('.setup-chosen').textContent()).toContain('Laptop');
      // No secret box: the key was not made here.
      expect(await page.getByRole('textbox', { name: 'API key' }).count()).toBe(0);
      const sxcu = JSON.parse((await page.locator('pre.code').first().textContent())!) as { Headers: { token: string } };
      expect(sxcu.Headers.token).toBe(second.token);
      expect(await page.locator('pre.code').nth(2).textContent()).toContain(`token: ${second.token}`);

      await page.getByRole('button', { name: 'Choose another key' }).click();
      expect(await page.locator('pre.code').count()).toBe(0);
      expect(await problems()).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('settings: a title template saved persists, the API agrees, and the preview shows it with the colour bar', async () => {
    const user = await registerViaApi(server.url);
    await upload(server.url, user.token, [{ file: 'raid.png', bytes: await pngImage(320, 180, [40, 160, 90]) }]);
    const { context, page, problems } = await openApp(browser, server.url);
    try {
      await signIn(page, server.url, user.username, PASSWORD);
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Settings' }).click();
      await page.getByRole('heading', { name: 'Settings', level: 1 }).waitFor();
      const before = (await (await api(server.url, '/api/me/embed', { token: user.token })).json()) as {
        defaults: { title: string; description: string; site_name: string };
      };
      const title = page.getByLabel(/^Title$/i);
      expect(await title.inputValue()).toBe('');
      expect(await title.getAttribute('placeholder')).toBe(before.defaults.title);
      expect(await page.getByLabel(/^Description$/i).getAttribute('placeholder')).toBe(before.defaults.description);

      // The preview is the server's: the default title is the file name.
      const embed = page.locator('.discord-embed');
      await embed.waitFor();
      expect(await embed.locator('.discord-title').textContent()).toBe('raid.png');
      expect(await embed.locator('.discord-site').textContent()).toBe(before.defaults.site_name);
      expect(await embed.locator('.discord-author').textContent()).toBe(user.username);
      expect(await embed.locator('img.discord-image').getAttribute('src')).toBe((await listUploads(server.url, user.token))[0]!.raw_url);

      await title.fill('Raid night: {file.name}');
      await page.getByText('with your unsaved changes').waitFor();
      await page.getByLabel('Always this colour').check();
      await page.getByLabel('Colour as hex').fill('#eb459e');
      // The picker follows the hex box.
      expect(await page.getByLabel('Colour picker').inputValue()).toBe('#eb459e');
      // The preview draws the unsaved changes as typed (the server's draft preview), before any save.
      await until(async () => (await embed.locator('.discord-title').textContent()) === 'Raid night: raid.png', 10_000, 'live title');
      await until(
        async () => (await embed.evaluate((element) => getComputedStyle(element).borderLeftColor)) === 'rgb(235, 69, 158)',
        10_000,
        'live colour',
      );
      expect(
        ((await (await api(server.url, '/api/me/embed', { token: user.token })).json()) as { settings: { title: null } }).settings.title,
      ).toBeNull();
      await page.getByRole('button', { name: 'Save embed' }).click();
      await page.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
      await until(async () => (await embed.locator('.discord-title').textContent()) === 'Raid night: raid.png', 10_000, 'preview title');
      expect(await embed.evaluate((element) => getComputedStyle(element).borderLeftColor)).toBe('rgb(235, 69, 158)');

      // The API agrees with the page, and the preview is what the API's preview says.
      const mine = (await (await api(server.url, '/api/me/embed', { token: user.token })).json()) as {
        settings: { title: string | null; color: string | null; description: string | null };
      };
      expect(mine.settings).toMatchObject({ title: 'Raid night: {file.name}', color: '#eb459e', description: null });
      const id = (await listUploads(server.url, user.token))[0]!.id;
      const preview = (await (await api(server.url, `/api/me/embed/preview?upload=${id}`, { token: user.token })).json()) as {
        tags: { key: string; content: string }[];
      };
      expect(preview.tags.find((tag) => tag.key === 'og:title')!.content).toBe('Raid night: raid.png');
      expect(preview.tags.find((tag) => tag.key === 'theme-color')!.content).toBe('#eb459e');

      // A reload shows the saved template.
      await page.reload();
      await page.getByRole('heading', { name: 'Settings', level: 1 }).waitFor();
      await until(async () => (await page.getByLabel(/^Title$/i).inputValue()) === 'Raid night: {file.name}', 10_000, 'title');
      expect(await page.getByLabel('Colour as hex').inputValue()).toBe('#eb459e');

      // Emptying a box goes back to the server default.
      // Emptied, and saved from the keyboard (Enter in the box).
      await page.getByLabel(/^Title$/i).fill('');
      await page.getByLabel(/^Title$/i).press('Enter');
      await until(
        async () => ((await (await api(server.url, '/api/me/embed', { token: user.token })).json()) as typeof mine).settings.title === null,
        10_000,
        'title back to default',
      );
      await until(async () => (await page.locator('.discord-title').textContent()) === 'raid.png', 10_000, 'default title in the preview');

      // Embeds off: the preview is the bare image, as Discord shows it.
      await page.getByLabel(/Show text and colour/).uncheck();
      await page.getByRole('button', { name: 'Save embed' }).click();
      await page.locator('img.discord-bare-image').waitFor();
      expect(await page.locator('.discord-embed').count()).toBe(0);
      expect(
        ((await (await api(server.url, '/api/me/embed', { token: user.token })).json()) as { effective: { enabled: boolean } }).effective
          .enabled,
      ).toBe(false);
      expect(await problems()).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('settings: templates with markup show as text, never HTML; a refused value shows the API message', async () => {
    const user = await registerViaApi(server.url);
    await upload(server.url, user.token, [{ file: '<i>x.png', bytes: await pngImage(64, 48, [200, 60, 60]) }]);
    const { context, page, problems } = await openApp(browser, server.url, {}, [400, 401]);
    try {
      await signIn(page, server.url, user.username, PASSWORD, '/auth?next=%2Fsettings');
      await page.getByRole('heading', { name: 'Settings', level: 1 }).waitFor();
      await page.locator('.discord-embed').waitFor();
      const title = '<b>bold</b> {file.name}';
      const description = '<script>window.injected = 1</script><img src=x onerror="window.injected = 2">';
      await page.getByLabel(/^Title$/i).fill(title);
      await page.getByLabel(/^Description$/i).fill(description);
      await page.getByRole('button', { name: 'Save embed' }).click();
      await expect.poll(() => page.locator('.discord-title').textContent(), { timeout: 10_000 }).toBe('<b>bold</b> <i>x.png');
      expect(await page.locator('.discord-description').textContent()).toBe(description);
      expect(
        await page.locator('.discord-embed b, .discord-embed i, .discord-embed script, .discord-embed img:not(.discord-image)').count(),
      ).toBe(0);
      expect(await page.evaluate(() => (window as unknown as { injected?: number }).injected)).toBeUndefined();

      // The server refuses a link that is not http(s); the page shows its message and keeps the edit.
      await page.getByLabel('Author link').fill('javascript:alert(1)');
      await page.getByRole('button', { name: 'Save embed' }).click();
      const message = await alertText(page.locator('.embed-form'));
      const direct = await api(server.url, '/api/me/embed', {
        method: 'PATCH',
        token: user.token,
        body: JSON.stringify({ author_url: 'javascript:alert(1)' }),
      });
      expect(direct.status).toBe(400);
      expect(message).toBe(((await direct.json()) as { message: string }).message);
      expect(await page.getByLabel('Author link').inputValue()).toBe('javascript:alert(1)');
      expect(await problems()).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('settings: a wrong current password or a weak new one shows the API message; the right one changes it', async () => {
    const user = await registerViaApi(server.url);
    const { context, page, problems } = await openApp(browser, server.url, {}, [400, 401, 403]);
    try {
      await signIn(page, server.url, user.username, PASSWORD, '/auth?next=%2Fsettings');
      await page.getByRole('heading', { name: 'Settings', level: 1 }).waitFor();
      const form = page.locator('.password-form');
      const fill = async (current: string, next: string, confirm = next) => {
        await page.getByLabel('Current password').fill(current);
        await page.getByLabel(/^New password$/i).fill(next);
        await page.getByLabel('Confirm new password').fill(confirm);
        await page.getByRole('button', { name: 'Change password' }).click();
      };
      const apiMessage = async (current: string, next: string) => {
        const response = await api(server.url, '/api/me/password', {
          method: 'POST',
          token: user.token,
          body: JSON.stringify({ current_password: current, new_password: next }),
        });
        expect(response.ok).toBe(false);
        return ((await response.json()) as { message: string }).message;
      };

      await fill('not my password', 'a brand new passphrase');
      expect(await alertText(form)).toBe(await apiMessage('not my password', 'a brand new passphrase'));
      await fill(PASSWORD, 'short');
      await until(async () => (await alertText(form)) === (await apiMessage(PASSWORD, 'short')), 5_000, 'weak password message');
      await fill(PASSWORD, 'a brand new passphrase', 'a brand new passphrasf');
      await until(async () => /differ/.test(await alertText(form)), 5_000, 'mismatch message');
      // Nothing changed so far.
      const login = (password: string) =>
        api(server.url, '/api/auth/login', { method: 'POST', body: JSON.stringify({ username: user.username, password }) });
      expect((await login(PASSWORD)).status).toBe(200);

      await fill(PASSWORD, 'a brand new passphrase');
      await page.getByText('Password changed.').waitFor();
      expect(await form.locator('.banner.error').count()).toBe(0);
      expect(await page.getByLabel('Current password').inputValue()).toBe('');
      expect((await login('a brand new passphrase')).status).toBe(200);
      expect((await login(PASSWORD)).status).toBe(401);
      // This session stays signed in.
      await page.reload();
      await page.getByRole('heading', { name: 'Settings', level: 1 }).waitFor();
      const unexpected = (await problems()).filter((problem) => !/^HTTP (400|403): POST .*\/api\/me\/password$/.test(problem));
      expect(unexpected).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('settings: sign out everywhere asks first, then ends every session and returns to /auth', async () => {
    const user = await registerViaApi(server.url);
    const elsewhere = await api(server.url, '/api/auth/login', {
      method: 'POST',
      body: JSON.stringify({ username: user.username, password: PASSWORD }),
    });
    const elsewhereCookie = elsewhere.headers
      .getSetCookie()
      .map((cookie) => cookie.split(';')[0])
      .join('; ');
    expect((await api(server.url, '/api/me', { cookie: elsewhereCookie })).status).toBe(200);
    const { context, page, problems } = await openApp(browser, server.url);
    try {
      await signIn(page, server.url, user.username, PASSWORD, '/auth?next=%2Fsettings');
      await page.getByRole('heading', { name: 'Settings', level: 1 }).waitFor();
      const cookie = await cookieHeader(context);
      expect((await api(server.url, '/api/me', { cookie })).status).toBe(200);

      // Cancel keeps everything.
      await page.getByRole('button', { name: 'Sign out everywhere' }).click();
      const dialog = page.getByRole('dialog', { name: 'Sign out everywhere?' });
      await dialog.waitFor();
      await page.keyboard.press('Escape');
      await dialog.waitFor({ state: 'detached' });
      expect((await api(server.url, '/api/me', { cookie })).status).toBe(200);

      await page.getByRole('button', { name: 'Sign out everywhere' }).click();
      await dialog.getByRole('button', { name: 'Sign out everywhere' }).click();
      await page.waitForURL((url) => url.pathname === '/auth');
      await page.getByRole('button', { name: 'Sign in', exact: true }).waitFor();
      expect((await api(server.url, '/api/me', { cookie })).status).toBe(401);
      expect((await api(server.url, '/api/me', { cookie: elsewhereCookie })).status).toBe(401);
      // API keys stay valid.
      expect((await api(server.url, '/api/me', { token: user.token })).status).toBe(200);
      expect(await problems()).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it.each(VIEWPORTS)('$label: setup and settings pass axe, fit the width, and are photographed', async ({ label, options }) => {
    const user = await registerViaApi(server.url);
    await upload(server.url, user.token, [{ file: 'screenshot.png', bytes: await pngImage(640, 360, [88, 101, 242]) }]);
    await api(server.url, '/api/me/embed', {
      method: 'PATCH',
      token: user.token,
      body: JSON.stringify({ title: '{file.name} by {user.name}', color: '#eb459e', author_url: 'https://example.com/me' }),
    });
    for (const colorScheme of ['dark', 'light'] as const) {
      const { context, page, problems } = await openApp(browser, server.url, { ...options, colorScheme, acceptDownloads: true });
      const check = async (name: string) => {
        expect(await accessibilityViolations(page), `${name} (${label}, ${colorScheme})`).toEqual([]);
        expect(await scrollsSideways(page), `${name} scrolls sideways (${label}, ${colorScheme})`).toBe(false);
        await page.screenshot({ path: join(SCREENSHOTS, `${name}-${label}-${colorScheme}.png`), fullPage: true });
      };
      try {
        await signIn(page, server.url, user.username, PASSWORD, '/auth?next=%2Fsetup');
        await page.getByRole('heading', { name: 'Tool setup', level: 1 }).waitFor();
        await check('setup');
        await page.getByLabel('Use a key I have').check();
        await page.getByLabel('Its secret').fill('di_wrong');
        await page.getByRole('button', { name: 'Use this key' }).click();
        await alertText(page);
        await check('setup-existing-key');
        await page.getByLabel('Create a new key').check();
        await page.getByRole('button', { name: 'Create key' }).click();
        await page.locator('pre.code').first().waitFor();
        await check('setup-files');

        await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Settings' }).click();
        await page.locator('.discord-image').waitFor();
        await page.locator('.discord-image').evaluate((image) => (image as HTMLImageElement).decode());
        await page.getByText('Placeholders you can use').click();
        await check('settings');
        expect(await problems()).toEqual([]);
      } finally {
        await context.close();
      }
    }
  });
});
