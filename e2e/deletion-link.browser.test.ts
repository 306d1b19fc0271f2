/**
 * The deletion link as people use it (issue 8, B5): ShareX's history opens delete_url in a
 * browser, which shows the confirm page; clicking Delete submits its form as
 * application/x-www-form-urlencoded. The click must delete and say so on a page, and a wrong
 * or stale link must say what happened and delete nothing.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../server/test/helpers/temp-dir.js';
import { launchChromium } from './helpers/chromium.js';
import { register, type RunningServer, startServer } from './helpers/server.js';
import { pngImage, upload, type Upload } from './helpers/uploads.js';

/** A page that has loaded has its heading: without one (a raw JSON answer) fail now, not at the test's timeout. */
const QUICK = { timeout: 5_000 };

describe('the deletion link in Chromium', () => {
  let server: RunningServer;
  let browser: Browser;
  let token: string;

  // startServer waits up to 60 s for a server starting on a loaded machine: the hook waits longer.
  beforeAll(async () => {
    [server, browser] = await Promise.all([startServer({ DATA_DIR: await tempDir() }), launchChromium()]);
    token = await register(server.url);
  }, 90_000);
  afterAll(async () => {
    await browser?.close();
    await server?.stop('SIGKILL');
  });

  const uploadOne = async (): Promise<Upload> =>
    (await upload(server.url, token, [{ file: 'shot.png', bytes: await pngImage(32, 24, [88, 101, 242]) }]))[0]!;
  const status = async (url: string) => (await fetch(url)).status;

  /** Opens the confirm page of `url` in a fresh page; checks it is the confirm page. */
  async function confirmPage(url: string): Promise<Page> {
    const page = await browser.newPage();
    const response = await page.goto(url);
    expect(response?.status()).toBe(200);
    expect(await page.locator('h1').textContent(QUICK)).toBe('Delete shot.png?');
    return page;
  }

  /** Clicks Delete and waits for the page the form's POST answers with. */
  async function clickDelete(page: Page): Promise<{ status: number | undefined; heading: string | null; text: string }> {
    const [response] = await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Delete' }).click()]);
    return {
      status: response?.status(),
      heading: await page.locator('h1').textContent(QUICK),
      text: await page.locator('main').innerText(QUICK),
    };
  }

  it('deletes on a click: the page says Deleted and the raw URL then answers 410', async () => {
    const uploaded = await uploadOne();
    expect(await status(uploaded.raw_url)).toBe(200);
    const page = await confirmPage(uploaded.delete_url);

    const result = await clickDelete(page);
    expect(result).toMatchObject({ status: 200, heading: 'Deleted' });
    expect(result.text).toContain('The upload and its links are gone.');
    expect(await status(uploaded.raw_url)).toBe(410);
    expect(await status(uploaded.url)).toBe(410);
    await page.close();
  });

  it('shows an error page for a wrong secret, and deletes nothing', async () => {
    const uploaded = await uploadOne();
    const page = await confirmPage(uploaded.delete_url);
    // The same form, posted to the same link with its secret altered.
    const wrong = `${uploaded.delete_url.slice(0, -1)}${uploaded.delete_url.endsWith('A') ? 'B' : 'A'}`;
    await page.locator('form').evaluate((form: HTMLFormElement, action) => (form.action = action), wrong);

    const result = await clickDelete(page);
    expect(result).toMatchObject({ status: 404, heading: 'Not found' });
    expect(result.text).toContain('This deletion link is not valid.');
    expect(await status(uploaded.raw_url)).toBe(200);
    await page.close();
  });

  it('says "already deleted" when the upload went in the meantime (a second tab)', async () => {
    const uploaded = await uploadOne();
    const [first, second] = [await confirmPage(uploaded.delete_url), await confirmPage(uploaded.delete_url)];
    expect((await clickDelete(first)).heading).toBe('Deleted');

    const result = await clickDelete(second);
    expect(result).toMatchObject({ status: 410, heading: 'Deleted' });
    expect(result.text).toContain('This upload has already been deleted.');
    await Promise.all([first.close(), second.close()]);
  });

  it('answers a client asking for JSON in JSON: 204, then the usual error shape', async () => {
    const uploaded = await uploadOne();
    const post = (url: string) => fetch(url, { method: 'POST', headers: { accept: 'application/json' } });
    const wrong = await post(`${uploaded.delete_url.slice(0, -1)}${uploaded.delete_url.endsWith('A') ? 'B' : 'A'}`);
    expect(wrong.status).toBe(404);
    expect(await wrong.json()).toMatchObject({ statusCode: 404, code: 'UPLOAD_NOT_FOUND', message: 'This deletion link is not valid.' });
    expect(await status(uploaded.raw_url)).toBe(200);

    expect((await post(uploaded.delete_url)).status).toBe(204);
    expect(await status(uploaded.raw_url)).toBe(410);
    const again = await post(uploaded.delete_url);
    expect(again.status).toBe(410);
    expect(await again.json()).toMatchObject({ code: 'UPLOAD_GONE' });
  });
});
