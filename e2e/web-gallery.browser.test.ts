/**
 * The gallery and the uploader in Chromium (issue 10, points 3 and 4), against a real server
 * whose MAX_FILE_SIZE is small: uploads by the file chooser, a synthetic paste and a synthetic
 * drop, per-file progress and errors in the API's own words, search, the detail view with its
 * facts and copy buttons, deleting one and several, an expired session; the page checked
 * against the API at every step; axe-core, the phone width, screenshots.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../server/test/helpers/temp-dir.js';
import { launchChromium } from './helpers/chromium.js';
import { type RunningServer, startServer, until } from './helpers/server.js';
import { listUploads, pngImage, postUpload, type Upload, upload } from './helpers/uploads.js';
import { accessibilityViolations, buildWebApp, openApp, SCREENSHOTS, scrollsSideways, signIn, VIEWPORTS } from './helpers/web-app.js';

const PASSWORD = 'correct horse battery';
/** The server's MAX_FILE_SIZE here: small, so that a too-large file is quick to make. */
const MAX_FILE_SIZE = 100_000;
/** The quota of each account on the second server. */
const QUOTA = 20_000;
const uniqueName = (prefix: string) => `${prefix}${Math.random().toString(36).slice(2, 10)}`;

interface FileSpec {
  name: string;
  mimeType: string;
  buffer: Buffer;
}

const png = async (name: string, colour: [number, number, number], width = 64, height = 48): Promise<FileSpec> => ({
  name,
  mimeType: 'image/png',
  buffer: await pngImage(width, height, colour),
});
const text = (name: string): FileSpec => ({ name, mimeType: 'text/plain', buffer: Buffer.from('shopping list: milk, eggs\n') });
/** Random bytes do not compress: a file surely over MAX_FILE_SIZE. */
const tooLarge = (name: string): FileSpec => ({ name, mimeType: 'image/png', buffer: randomBytes(MAX_FILE_SIZE * 3) });

async function registerViaApi(url: string): Promise<{ username: string; token: string }> {
  const username = uniqueName('g');
  const response = await fetch(`${url}/api/auth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password: PASSWORD }),
  });
  if (response.status !== 201) throw new Error(`register: ${response.status} ${await response.text()}`);
  return { username, token: ((await response.json()) as { token: string }).token };
}

/** What the API answers when the file is sent alone, as the page sends each file. */
async function apiRefusal(url: string, token: string, file: FileSpec): Promise<{ status: number; message: string }> {
  const response = await postUpload(url, token, [{ file: file.name, bytes: file.buffer }]);
  return { status: response.status, message: ((await response.json()) as { message: string }).message };
}

async function searchUploads(url: string, token: string, q: string): Promise<Upload[]> {
  return (await (await fetch(`${url}/api/uploads?limit=1000&q=${encodeURIComponent(q)}`, { headers: { token } })).json()) as Upload[];
}

/** Picks files through the Upload button's file chooser, as a person does. */
async function chooseFiles(page: Page, files: FileSpec[]): Promise<void> {
  const [chooser] = await Promise.all([
    page.waitForEvent('filechooser'),
    page.getByRole('button', { name: 'Upload', exact: true }).click(),
  ]);
  expect(chooser.isMultiple()).toBe(true);
  await chooser.setFiles(files);
}

/** A DataTransfer holding the files, made in the page (as the browser makes one for a paste or a drop). */
type Transfer = 'paste' | 'drop';
async function transfer(page: Page, kind: Transfer, files: FileSpec[], screenshot?: string): Promise<void> {
  const serialised = files.map((file) => ({ name: file.name, type: file.mimeType, base64: file.buffer.toString('base64') }));
  await page.evaluate(
    ({ kind, serialised }) => {
      const data = new DataTransfer();
      for (const file of serialised) {
        const bytes = Uint8Array.from(atob(file.base64), (char) => char.charCodeAt(0));
        data.items.add(new File([bytes], file.name, { type: file.type }));
      }
      if (kind === 'paste') {
        document.body.dispatchEvent(new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }));
      } else {
        const target = document.querySelector('main')!;
        target.dispatchEvent(new DragEvent('dragenter', { dataTransfer: data, bubbles: true, cancelable: true }));
        target.dispatchEvent(new DragEvent('dragover', { dataTransfer: data, bubbles: true, cancelable: true }));
        (window as unknown as { dropData: DataTransfer }).dropData = data;
      }
    },
    { kind, serialised },
  );
  if (kind === 'drop') {
    // The overlay shows while files are held over the page; the drop takes them.
    await page.locator('.drop-overlay').waitFor();
    if (screenshot) await page.screenshot({ path: join(SCREENSHOTS, screenshot) });
    await page.evaluate(() => {
      const data = (window as unknown as { dropData: DataTransfer }).dropData;
      document.querySelector('main')!.dispatchEvent(new DragEvent('drop', { dataTransfer: data, bubbles: true, cancelable: true }));
    });
    await page.locator('.drop-overlay').waitFor({ state: 'detached' });
  }
}

/** The uploader's rows: name, progress, and what it says. */
const uploadRows = (page: Page) =>
  page.locator('.upload-item').evaluateAll((rows) =>
    rows.map((row) => {
      const bar = row.querySelector('progress')!;
      return {
        name: row.querySelector('.upload-name')!.textContent,
        complete: bar.value === bar.max && bar.max > 1,
        state: row.querySelector('.upload-state')!.textContent,
        error: row.querySelector('.upload-error[role="alert"]')?.textContent ?? null,
      };
    }),
  );

async function uploadsSettle(page: Page, count: number): Promise<Awaited<ReturnType<typeof uploadRows>>> {
  let rows: Awaited<ReturnType<typeof uploadRows>> = [];
  await until(
    async () => {
      rows = await uploadRows(page);
      return rows.length === count && rows.every((row) => row.state === 'Uploaded' || row.error !== null);
    },
    20_000,
    `${count} uploads to finish`,
  );
  return rows;
}

/** The grid as the page shows it: each tile's name and thumbnail. */
const tiles = (page: Page) =>
  page
    .locator('.tile img')
    .evaluateAll((images) => images.map((image) => ({ name: image.getAttribute('alt'), src: (image as HTMLImageElement).src })));
const asTiles = (uploads: Upload[]) => uploads.map((item) => ({ name: item.name, src: item.thumbnail_url }));

async function gridAgrees(page: Page, expected: () => Promise<Upload[]>, what: string): Promise<void> {
  let want: { name: string; src: string }[] = [];
  let got: { name: string | null; src: string }[] = [];
  try {
    await until(
      async () => {
        want = asTiles(await expected());
        got = await tiles(page);
        return JSON.stringify(want) === JSON.stringify(got);
      },
      15_000,
      what,
    );
  } catch (error) {
    expect(got, (error as Error).message).toEqual(want);
  }
}

describe('the gallery and uploader in Chromium', () => {
  let server: RunningServer;
  /** Every new account may store QUOTA bytes. */
  let quotaServer: RunningServer;
  let browser: Browser;

  beforeAll(async () => {
    buildWebApp();
    mkdirSync(SCREENSHOTS, { recursive: true });
    [server, quotaServer, browser] = await Promise.all([
      startServer({ DATA_DIR: await tempDir(), MAX_FILE_SIZE: String(MAX_FILE_SIZE) }),
      startServer({ DATA_DIR: await tempDir(), DEFAULT_QUOTA: String(QUOTA) }),
      launchChromium(),
    ]);
  });
  afterAll(async () => {
    await browser?.close();
    await Promise.all([server?.stop('SIGKILL'), quotaServer?.stop('SIGKILL')]);
  });

  it('a new user uploads by the file chooser and by paste, searches, opens the detail, copies the share link, deletes one and then two', async () => {
    const { context, page, problems } = await openApp(browser, server.url);
    try {
      // Sign up at /auth, as the gallery sends a signed-out visitor there.
      await page.goto(`${server.url}/`);
      await page.waitForURL(`${server.url}/auth?next=%2F`);
      await page.getByLabel('Username', { exact: true }).fill(uniqueName('new'));
      await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
      await page.getByRole('button', { name: 'Sign up', exact: true }).click();
      const token = await page.getByRole('textbox', { name: 'API key' }).inputValue();
      await page.getByRole('button', { name: /continue/i }).click();
      await page.waitForURL(`${server.url}/`);
      await page.getByText('No uploads yet.').waitFor();
      const listed = () => listUploads(server.url, token);

      // Two images through the file chooser: each gets a progress bar that completes, and the tiles appear without a reload.
      await chooseFiles(page, [await png('red cat.png', [220, 40, 40]), await png('blue dog.png', [40, 40, 220], 80, 60)]);
      const chosen = await uploadsSettle(page, 2);
      expect(chosen.map((row) => [row.name, row.complete, row.state])).toEqual([
        ['red cat.png', true, 'Uploaded'],
        ['blue dog.png', true, 'Uploaded'],
      ]);
      expect((await listed()).map((item) => item.name).sort()).toEqual(['blue dog.png', 'red cat.png']);
      await gridAgrees(page, listed, 'the two chosen files in the grid');

      // A screenshot pasted with Ctrl+V (a paste event carrying a file) goes up too, to the top of the grid.
      await transfer(page, 'paste', [await png('green screenshot.png', [40, 200, 60], 120, 90)]);
      const pasted = await uploadsSettle(page, 3);
      expect(pasted[0]).toEqual({ name: 'green screenshot.png', complete: true, state: 'Uploaded', error: null });
      await gridAgrees(page, listed, 'the pasted file at the top of the grid');
      expect((await tiles(page))[0]!.name).toBe('green screenshot.png');
      const all = await listed();
      expect(all).toHaveLength(3);

      // Search narrows the grid as the API does, case-insensitively, and stays in the address.
      await page.getByRole('searchbox', { name: 'Search by name' }).fill('DOG');
      await page.waitForURL(`${server.url}/?q=DOG`);
      await gridAgrees(page, () => searchUploads(server.url, token, 'DOG'), 'the search for DOG');
      expect(await tiles(page)).toHaveLength(1);
      await page.reload();
      expect(await page.getByRole('searchbox', { name: 'Search by name' }).inputValue()).toBe('DOG');
      await gridAgrees(page, () => searchUploads(server.url, token, 'DOG'), 'the search for DOG after a reload');
      await page.getByRole('searchbox', { name: 'Search by name' }).fill('nothing like it');
      await page.getByText('No uploads have “nothing like it” in their name.').waitFor();
      expect(await searchUploads(server.url, token, 'nothing like it')).toEqual([]);
      await page.getByRole('searchbox', { name: 'Search by name' }).fill('');
      await page.waitForURL(`${server.url}/`);
      await gridAgrees(page, listed, 'the whole gallery again');

      // The detail view: a click on a tile opens it over the grid, at /?u=<id>, with the upload's facts.
      const newest = all[0]!;
      await page.getByRole('link', { name: newest.name }).click();
      const detail = page.getByRole('dialog', { name: newest.name });
      await detail.waitFor();
      expect(new URL(page.url()).search).toBe(`?u=${newest.id}`);
      const fact = (term: string) => detail.locator('.facts div', { has: page.locator('dt', { hasText: term }) }).locator('dd');
      expect(await fact('Size').getAttribute('title')).toBe(`${newest.size.toLocaleString('en-US')} bytes`);
      expect(await fact('Size').textContent()).toMatch(/^[\d.,]+ (bytes|KB)$/);
      expect(await fact('Dimensions').textContent()).toBe(`${newest.width} × ${newest.height}`);
      expect(`${newest.width}×${newest.height}`).toBe('120×90');
      expect(await fact('Type').textContent()).toBe('image/png');
      expect(await fact('Uploaded').locator('time').getAttribute('datetime')).toBe(newest.created_at);
      expect(await detail.locator('.detail-image img').getAttribute('src')).toBe(newest.raw_url);
      expect(await detail.getByLabel('Share link').inputValue()).toBe(newest.url);
      expect(await detail.getByLabel('Raw link').inputValue()).toBe(newest.raw_url);
      expect(await detail.getByLabel('Markdown').inputValue()).toBe(`![${newest.name}](${newest.raw_url})`);
      expect(await detail.getByLabel('BBCode').inputValue()).toBe(`[img]${newest.raw_url}[/img]`);
      expect(await detail.getByLabel('HTML').inputValue()).toBe(`<img src="${newest.raw_url}" alt="${newest.name}">`);

      // The share link is copied, and the share page opens.
      await detail.getByRole('button', { name: 'Copy share link' }).click();
      await detail.getByRole('button', { name: 'Copied', exact: true }).waitFor();
      expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(newest.url);
      await detail.getByRole('button', { name: 'Copy BBCode' }).click();
      await until(
        async () => (await page.evaluate(() => navigator.clipboard.readText())) === `[img]${newest.raw_url}[/img]`,
        5_000,
        'BBCode copied',
      );
      const [sharePage] = await Promise.all([context.waitForEvent('page'), detail.getByRole('link', { name: 'Open share page' }).click()]);
      await sharePage.waitForLoadState();
      expect(sharePage.url()).toBe(newest.url);
      expect(await sharePage.locator('meta[property="og:image"]').getAttribute('content')).toBe(newest.raw_url);
      await sharePage.close();

      // Escape closes it, back at / with the focus on the tile it came from.
      await page.keyboard.press('Escape');
      await detail.waitFor({ state: 'hidden' });
      await page.waitForURL(`${server.url}/`);
      expect(await page.evaluate(() => document.activeElement?.getAttribute('title'))).toBe(newest.name);

      // The detail has an address: opened from it (a reload), it shows the same upload; closing leaves the gallery.
      await page.goto(`${server.url}/?u=${newest.id}`);
      await detail.waitFor();
      expect(await detail.getByLabel('Share link').inputValue()).toBe(newest.url);
      await detail.getByRole('button', { name: 'Close' }).click();
      await detail.waitFor({ state: 'hidden' });
      await page.waitForURL(`${server.url}/`);
      // Opened from the grid, Back closes it.
      await page.getByRole('link', { name: newest.name }).click();
      await detail.waitFor();
      await page.goBack();
      await detail.waitFor({ state: 'hidden' });
      expect(new URL(page.url()).search).toBe('');

      // Keyboard only: Enter on a tile opens it; Delete asks first; Cancel keeps it; confirming deletes it.
      const dog = all.find((item) => item.name === 'blue dog.png')!;
      await page.getByRole('link', { name: dog.name }).focus();
      await page.keyboard.press('Enter');
      const dogDetail = page.getByRole('dialog', { name: dog.name });
      await dogDetail.waitFor();
      await dogDetail.getByRole('button', { name: 'Delete' }).click();
      const confirm = page.getByRole('dialog', { name: 'Delete this upload?' });
      await confirm.waitFor();
      await page.keyboard.press('Escape');
      await confirm.waitFor({ state: 'hidden' });
      expect(await dogDetail.isVisible()).toBe(true);
      expect(await listed()).toHaveLength(3);
      await dogDetail.getByRole('button', { name: 'Delete' }).click();
      await confirm.getByRole('button', { name: 'Delete upload' }).click();
      await dogDetail.waitFor({ state: 'hidden' });
      await page.waitForURL(`${server.url}/`);
      await gridAgrees(page, listed, 'the grid without the deleted upload');
      // The focused tile is gone: the focus is on the page's heading, not lost.
      await until(async () => (await page.evaluate(() => document.activeElement?.tagName)) === 'H1', 5_000, 'focus on the heading');
      expect((await listed()).map((item) => item.name)).not.toContain(dog.name);
      expect((await fetch(dog.raw_url)).status).toBe(410);

      // Multi-select: a checkbox per tile (Space from the keyboard, or a click), then delete the selected.
      await page.getByRole('checkbox', { name: 'Select green screenshot.png' }).focus();
      await page.keyboard.press('Space');
      await page.getByRole('checkbox', { name: 'Select red cat.png' }).click();
      await page.getByText('2 uploads selected').waitFor();
      await page.getByRole('button', { name: 'Delete selected' }).click();
      const bulk = page.getByRole('dialog', { name: 'Delete 2 uploads?' });
      await bulk.waitFor();
      await bulk.getByRole('button', { name: 'Delete', exact: true }).click();
      await bulk.waitFor({ state: 'hidden' });
      await page.getByText('No uploads yet.').waitFor();
      expect(await listed()).toEqual([]);
      expect(await tiles(page)).toEqual([]);
      expect(await problems()).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it("a non-image shows the API's message on that file while the other file of the drop goes up; a too-large file shows the API's message", async () => {
    const user = await registerViaApi(server.url);
    const { context, page, problems } = await openApp(browser, server.url);
    try {
      await signIn(page, server.url, user.username, PASSWORD);
      const notes = text('notes.txt');
      const good = await png('fine.png', [200, 200, 40]);
      const alsoGood = await png('fine too.png', [40, 200, 200]);
      const notImage = await apiRefusal(server.url, user.token, notes);
      expect(notImage.status).toBe(415);
      expect(notImage.message).toContain('notes.txt');

      // Dropped together (more files than go at once): the non-image fails with the API's words, the images go up all the same.
      await transfer(page, 'drop', [notes, good, alsoGood], 'gallery-drop-overlay-desktop-dark.png');
      const rows = await uploadsSettle(page, 3);
      expect(rows).toEqual([
        { name: 'notes.txt', complete: true, state: notImage.message, error: notImage.message },
        { name: 'fine.png', complete: true, state: 'Uploaded', error: null },
        { name: 'fine too.png', complete: true, state: 'Uploaded', error: null },
      ]);
      expect((await listUploads(server.url, user.token)).map((item) => item.name).sort()).toEqual(['fine too.png', 'fine.png']);
      await gridAgrees(page, () => listUploads(server.url, user.token), 'the grid with the good files');

      // Over MAX_FILE_SIZE: 413 and its message on that file.
      const big = tooLarge('huge.png');
      const overSize = await apiRefusal(server.url, user.token, big);
      expect(overSize.status).toBe(413);
      await chooseFiles(page, [big]);
      const afterBig = await uploadsSettle(page, 4);
      expect(afterBig[0]).toMatchObject({ name: 'huge.png', error: overSize.message });
      expect(await listUploads(server.url, user.token)).toHaveLength(2);
      await page.getByText('2 uploaded, 2 failed').waitFor();
      expect(await accessibilityViolations(page)).toEqual([]);

      // The detail of an id that is not the account's (a stale or mistyped link) says so in the API's words.
      const missing = await fetch(`${server.url}/api/uploads/abcdefghij`, { headers: { token: user.token } });
      expect(missing.status).toBe(404);
      const missingMessage = ((await missing.json()) as { message: string }).message;
      await page.goto(`${server.url}/?u=abcdefghij`);
      const detail = page.getByRole('dialog', { name: 'Upload' });
      await detail.waitFor();
      await until(async () => (await detail.getByRole('alert').textContent()) === missingMessage, 10_000, 'the 404 message');
      await page.keyboard.press('Escape');
      await detail.waitFor({ state: 'hidden' });
      await page.waitForURL(`${server.url}/`);
      expect(await problems()).toEqual([
        expect.stringMatching(/^HTTP 415: POST .*\/api\/upload$/),
        expect.stringMatching(/^HTTP 413: POST .*\/api\/upload$/),
        expect.stringMatching(/^HTTP 404: GET .*\/api\/uploads\/abcdefghij$/),
      ]);
    } finally {
      await context.close();
    }
  });

  it("an upload over the account's quota shows the API's message on that file", async () => {
    const user = await registerViaApi(quotaServer.url);
    const { context, page, problems } = await openApp(browser, quotaServer.url);
    try {
      await signIn(page, quotaServer.url, user.username, PASSWORD);
      // Noise does not compress: a PNG of about 15 KB fits once, not twice.
      const noisy = async (name: string): Promise<FileSpec> => ({
        name,
        mimeType: 'image/png',
        buffer: await sharp(randomBytes(70 * 70 * 3), { raw: { width: 70, height: 70, channels: 3 } })
          .png()
          .toBuffer(),
      });
      const first = await noisy('first.png');
      const second = await noisy('second.png');
      expect(first.buffer.length).toBeGreaterThan(QUOTA / 2);
      expect(first.buffer.length).toBeLessThan(QUOTA);
      await chooseFiles(page, [first]);
      await uploadsSettle(page, 1);
      expect(await listUploads(quotaServer.url, user.token)).toHaveLength(1);
      const overQuota = await apiRefusal(quotaServer.url, user.token, second);
      expect(overQuota.status).toBe(413);
      await chooseFiles(page, [second]);
      const rows = await uploadsSettle(page, 2);
      expect(rows[0]).toMatchObject({ name: 'second.png', error: overQuota.message });
      expect(overQuota.message.toLowerCase()).toContain('quota');
      await gridAgrees(page, () => listUploads(quotaServer.url, user.token), 'the grid with the one upload that fits');
      expect(await problems()).toEqual([expect.stringMatching(/^HTTP 413: POST /)]);
    } finally {
      await context.close();
    }
  });

  it('an expired session sends the user to /auth, and back to the gallery after signing in', async () => {
    const user = await registerViaApi(server.url);
    const { context, page, problems } = await openApp(browser, server.url);
    try {
      await signIn(page, server.url, user.username, PASSWORD);
      await page.getByText('No uploads yet.').waitFor();
      // Signed out everywhere by another device (the API, with a key): the page does not know yet.
      const ended = await fetch(`${server.url}/api/me/sessions`, { method: 'DELETE', headers: { token: user.token } });
      expect(ended.status).toBe(204);
      await chooseFiles(page, [await png('late.png', [10, 120, 200])]);
      await page.waitForURL(`${server.url}/auth?next=%2F`);
      expect(await listUploads(server.url, user.token)).toEqual([]);
      await page.getByLabel('Username', { exact: true }).fill(user.username);
      await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      await page.waitForURL(`${server.url}/`);
      // The heading renders before the list arrives: wait for the list, which needs the session.
      await page.getByText('No uploads yet.').waitFor();
      // A search that meets the ended session is carried through signing in again.
      await fetch(`${server.url}/api/me/sessions`, { method: 'DELETE', headers: { token: user.token } });
      await page.getByRole('searchbox', { name: 'Search by name' }).fill('anything');
      await page.waitForURL(`${server.url}/auth?next=${encodeURIComponent('/?q=anything')}`);
      await page.getByLabel('Username', { exact: true }).fill(user.username);
      await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      await page.waitForURL(`${server.url}/?q=anything`);
      expect(await page.getByRole('searchbox', { name: 'Search by name' }).inputValue()).toBe('anything');
      // Another site or a share page is never a `next`: sign-in then lands on the gallery.
      for (const next of ['//evil.example/', 'https://evil.example/', '/abcdefghij']) {
        await page.goto(`${server.url}/auth?next=${encodeURIComponent(next)}`);
        await page.waitForURL(`${server.url}/`);
      }
      expect(await problems()).toEqual([]);
    } finally {
      await context.close();
    }
  });

  /** The gallery with tiles and a selection, the detail view, the uploader with errors: axe, the width, screenshots. */
  it.each(VIEWPORTS)(
    '$label: the gallery, the detail view and the uploader pass axe, fit the width, and are photographed',
    async ({ label, options }) => {
      const user = await registerViaApi(server.url);
      const parts = await Promise.all(
        [0, 1, 2, 3, 4, 5].map(async (i) => ({
          file: `screenshot ${i + 1}.png`,
          bytes: await pngImage(320, 200, [40 + i * 30, 90, 220 - i * 20]),
        })),
      );
      // A name that would be markup if it were ever rendered as HTML.
      parts.push({ file: '<img src=x onerror="document.title=1">.png', bytes: await pngImage(200, 120, [250, 160, 30]) });
      await upload(server.url, user.token, parts);
      const [newest] = await listUploads(server.url, user.token);
      expect(newest!.name).toContain('<img');
      for (const colorScheme of ['dark', 'light'] as const) {
        const { context, page, problems } = await openApp(browser, server.url, { ...options, colorScheme });
        const check = async (name: string) => {
          expect(await accessibilityViolations(page), `${name} (${label}, ${colorScheme})`).toEqual([]);
          expect(await scrollsSideways(page), `${name} scrolls sideways (${label}, ${colorScheme})`).toBe(false);
          await page.screenshot({ path: join(SCREENSHOTS, `${name}-${label}-${colorScheme}.png`), fullPage: true });
        };
        try {
          await signIn(page, server.url, user.username, PASSWORD);
          await until(async () => (await page.locator('.tile img').count()) === 7, 10_000, 'tiles');
          await page.locator('.tile img').evaluateAll((images) => Promise.all(images.map((image) => (image as HTMLImageElement).decode())));
          await page.getByRole('checkbox', { name: 'Select screenshot 2.png' }).check();
          await check('gallery-tiles');

          await page.getByRole('link', { name: newest!.name }).click();
          const detail = page.getByRole('dialog', { name: newest!.name });
          await detail.waitFor();
          await detail.locator('.detail-image img').evaluate((image: HTMLImageElement) => image.decode());
          // The name is text everywhere: the title says it literally, and no element came of it.
          expect(await detail.locator('h2').textContent()).toBe(newest!.name);
          expect(await page.locator('img[src="x"]').count()).toBe(0);
          await check('gallery-detail');
          await page.keyboard.press('Escape');
          await detail.waitFor({ state: 'hidden' });

          await chooseFiles(page, [text('notes.txt'), await png('another screenshot with a long name.png', [90, 90, 90])]);
          await uploadsSettle(page, 2);
          await check('gallery-uploader-errors');
          // What went up is cleaned away for the next round.
          const [added] = await listUploads(server.url, user.token);
          await fetch(`${server.url}/api/uploads/${added!.id}`, { method: 'DELETE', headers: { token: user.token } });
          expect(await problems()).toEqual([expect.stringMatching(/^HTTP 415: POST /)]);
        } finally {
          await context.close();
        }
      }
    },
  );
});
