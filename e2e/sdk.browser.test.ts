/**
 * The SDK's browser build (packages/sdk/dist/browser.js, what a bundler picks through the
 * `browser` export condition) in headless Chromium against the real server: a File uploaded
 * with XMLHttpRequest progress events, and a session sign-in that uses the cookie and the
 * CSRF token it learns. The page and the bundle are served on the server's own origin by
 * Playwright (the server has no such page); every API request goes to the real server.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../server/test/helpers/temp-dir.js';
import { launchChromium } from './helpers/chromium.js';
import { register, type RunningServer, ROOT, startServer } from './helpers/server.js';

interface PageResult {
  uploads: { name: string; size: number; mime: string }[];
  events: { loaded: number; total: number | undefined }[];
  fileSize: number;
}

describe('the SDK browser build in Chromium', () => {
  let server: RunningServer;
  let browser: Browser;
  let bundle: string;
  let image: Buffer;

  beforeAll(async () => {
    [server, browser, bundle, image] = await Promise.all([
      startServer({ DATA_DIR: await tempDir() }),
      launchChromium(),
      readFile(join(ROOT, 'packages/sdk/dist/browser.js'), 'utf8'),
      // ~1.4 MB of noise, so that the upload takes more than one progress step.
      sharp({ create: { width: 700, height: 700, channels: 3, background: '#808080', noise: { type: 'gaussian', mean: 128, sigma: 60 } } })
        .png()
        .toBuffer(),
    ]);
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await server?.stop('SIGKILL');
  });

  /** A blank page on the server's origin that can import the SDK from /__sdk/browser.js. */
  async function sdkPage(): Promise<{ page: Page; close: () => Promise<void> }> {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.route(`${server.url}/__sdk/**`, (route) =>
      route.request().url().endsWith('.js')
        ? route.fulfill({ contentType: 'text/javascript', body: bundle })
        : route.fulfill({
            contentType: 'text/html',
            // A page script, not page.evaluate: Vitest rewrites import() in functions it sees.
            body: `<!doctype html><title>sdk</title><script type="module">import * as sdk from '/__sdk/browser.js'; window.sdk = sdk;</script>`,
          }),
    );
    await page.goto(`${server.url}/__sdk/index.html`);
    await page.waitForFunction(() => 'sdk' in window);
    return { page, close: () => context.close() };
  }

  it('uploads a File with a key, reporting progress events that end at the total', async () => {
    const token = await register(server.url);
    const { page, close } = await sdkPage();
    // 4 MB/s up, so that the upload takes several of Chromium's progress steps (one every
    // 50 ms) instead of one on loopback.
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: 4_000_000 });
    try {
      const result: PageResult = await page.evaluate(
        async ({ baseUrl, token, base64 }) => {
          const { DiscordImages } = (window as unknown as { sdk: typeof import('@discord-images/sdk') }).sdk;
          const bytes = Uint8Array.from(atob(base64), (char) => char.charCodeAt(0));
          const file = new File([bytes], 'écran.png', { type: 'image/png' });
          const di = new DiscordImages({ baseUrl, token });
          const events: { loaded: number; total: number | undefined }[] = [];
          const uploads = await di.upload([file, { data: bytes, name: 'bytes.png' }], {
            onProgress: (progress: { loaded: number; total: number | undefined }) => events.push(progress),
          });
          return { uploads, events, fileSize: file.size };
        },
        { baseUrl: server.url, token, base64: image.toString('base64') },
      );
      expect(result.uploads.map((upload) => [upload.name, upload.size, upload.mime])).toEqual([
        ['écran.png', image.length, 'image/png'],
        ['bytes.png', image.length, 'image/png'],
      ]);
      expect(result.events.length).toBeGreaterThan(3);
      const total = result.events[0]!.total!;
      expect(total).toBeGreaterThan(2 * image.length);
      expect(total).toBeLessThan(2 * image.length + 1000);
      expect(result.events.every((event) => event.total === total)).toBe(true);
      expect(result.events.every((event, i) => i === 0 || event.loaded > result.events[i - 1]!.loaded)).toBe(true);
      expect(result.events.at(-1)!.loaded).toBe(total);
    } finally {
      await close();
    }
  });

  it('signs in with the session cookie, sends the CSRF token on changes, and throws ApiError once signed out', async () => {
    const username = `b${Math.random().toString(36).slice(2, 10)}`;
    await register(server.url, username);
    const { page, close } = await sdkPage();
    try {
      const result = await page.evaluate(
        async ({ baseUrl, username, base64 }) => {
          const { DiscordImages, ApiError } = (window as unknown as { sdk: typeof import('@discord-images/sdk') }).sdk;
          const di = new DiscordImages({ baseUrl });
          await di.auth.login(username, 'correct horse battery');
          const me = await di.me();
          const bytes = Uint8Array.from(atob(base64), (char) => char.charCodeAt(0));
          const events: number[] = [];
          const [upload] = await di.upload(new Blob([bytes]), { onProgress: ({ loaded }: { loaded: number }) => events.push(loaded) });
          const { key } = await di.keys.create('from the browser');
          await di.auth.logout();
          const error = await di.me().catch((reason: unknown) => reason);
          return {
            username: me.username,
            uploaded: upload!.size,
            progressEvents: events.length,
            key: key.name,
            error: {
              isApiError: error instanceof ApiError,
              status: (error as InstanceType<typeof ApiError>).status,
              code: (error as InstanceType<typeof ApiError>).code,
            },
          };
        },
        { baseUrl: server.url, username, base64: image.toString('base64') },
      );
      expect(result).toEqual({
        username,
        uploaded: image.length,
        progressEvents: expect.any(Number),
        key: 'from the browser',
        error: { isApiError: true, status: 401, code: 'UNAUTHORIZED' },
      });
      expect(result.progressEvents).toBeGreaterThan(0);
    } finally {
      await close();
    }
  });
});
