/**
 * The deletion link's pages under their strict CSP (http/views/page-headers.ts), in headless
 * Chromium: the confirm page shows with no violation, its form still submits to its own URL,
 * and no other page can frame it (clickjacking the Delete button).
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../server/test/helpers/temp-dir.js';
import { launchChromium } from './helpers/chromium.js';
import { register, type RunningServer, startServer } from './helpers/server.js';
import { pngImage, upload, type Upload } from './helpers/uploads.js';

describe('the deletion page in Chromium', () => {
  let server: RunningServer;
  let browser: Browser;
  let token: string;

  beforeAll(async () => {
    [server, browser] = await Promise.all([startServer({ DATA_DIR: await tempDir() }), launchChromium()]);
    token = await register(server.url);
  }, 120_000); // the real server and Chromium start slowly on a loaded machine
  afterAll(async () => {
    await browser?.close();
    await server?.stop('SIGKILL');
  });

  const uploadOne = async (): Promise<Upload> =>
    (await upload(server.url, token, [{ file: 'shot.png', bytes: await pngImage(32, 24, [40, 40, 40], [200, 50, 50]) }]))[0]!;

  /** A page in a fresh context that records CSP violations (an init script runs outside the page's CSP). */
  async function newPage(): Promise<{ page: Page; violations: () => Promise<string[]>; close: () => Promise<void> }> {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.addInitScript(() => {
      const seen: string[] = [];
      (window as unknown as { cspViolations: string[] }).cspViolations = seen;
      document.addEventListener('securitypolicyviolation', (event) =>
        seen.push(`${event.violatedDirective} blocked ${event.blockedURI || 'inline'}`),
      );
    });
    return {
      page,
      violations: () => page.evaluate(() => (window as unknown as { cspViolations: string[] }).cspViolations),
      close: () => context.close(),
    };
  }

  it('shows the confirm page without a CSP violation, and its Delete button still posts to the link', async () => {
    const file = await uploadOne();
    const { page, violations, close } = await newPage();
    try {
      const response = await page.goto(file.delete_url, { waitUntil: 'load' });
      expect(response?.status()).toBe(200);
      expect(response?.headers()['content-security-policy']).toContain("frame-ancestors 'none'");
      expect(await page.getByRole('button', { name: 'Delete' }).isVisible()).toBe(true);
      expect(await violations()).toEqual([]);
      // form-action must allow the page's own URL, or the browser would never send this POST.
      const [post] = await Promise.all([
        page.waitForRequest((request) => request.method() === 'POST' && request.url() === file.delete_url, { timeout: 10_000 }),
        page.getByRole('button', { name: 'Delete' }).click(),
      ]);
      expect(post.url()).toBe(file.delete_url);
    } finally {
      await close();
    }
  });

  it('cannot be framed, even by a page of its own server', async () => {
    const file = await uploadOne();
    const { page, close } = await newPage();
    try {
      await page.goto(`${server.url}/healthz`);
      const blocked = page.waitForEvent('console', {
        predicate: (message) => message.text().includes('frame-ancestors'),
        timeout: 10_000,
      });
      await page.evaluate((url) => {
        const frame = document.createElement('iframe');
        frame.src = url;
        document.body.append(frame);
      }, file.delete_url);
      await blocked;
      const framed = page.frames().find((frame) => frame !== page.mainFrame());
      expect(await framed?.locator('button').count()).toBe(0);
      // Nothing was deleted by merely opening it.
      expect((await fetch(file.raw_url)).status).toBe(200);
    } finally {
      await close();
    }
  });
});
