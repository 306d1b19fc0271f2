/**
 * /docs in headless Chromium with every other origin cut off, as on a server with no way out:
 * Scalar's reference must load from this server alone (its script, the live spec at
 * /api/openapi.json), run under the page's CSP without an error, and show what a reader comes
 * for: the list of endpoints, each operation's curl and JavaScript samples, and the error table.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../server/test/helpers/temp-dir.js';
import { launchChromium } from './helpers/chromium.js';
import { type RunningServer, startServer } from './helpers/server.js';

interface Spec {
  paths: Record<string, Record<string, { summary?: string; 'x-codeSamples'?: { lang: string; label?: string; source: string }[] }>>;
}

describe('/docs in Chromium, offline', () => {
  let server: RunningServer;
  let browser: Browser;
  let spec: Spec;

  beforeAll(async () => {
    [server, browser] = await Promise.all([startServer({ DATA_DIR: await tempDir() }), launchChromium()]);
    spec = (await (await fetch(`${server.url}/api/openapi.json`)).json()) as Spec;
  }, 120_000); // the real server and Chromium start slowly on a loaded machine
  afterAll(async () => {
    await browser?.close();
    await server?.stop('SIGKILL');
  });

  /**
   * A page whose every request to another origin is refused, and written down: the test
   * asserts none was even attempted. Errors (console, uncaught, CSP) are collected too.
   */
  async function offlinePage(): Promise<{ page: Page; context: BrowserContext; elsewhere: string[]; errors: string[] }> {
    const context = await browser.newContext();
    const elsewhere: string[] = [];
    const errors: string[] = [];
    const origin = new URL(server.url).origin;
    await context.route('**', async (route) => {
      const url = route.request().url();
      if (new URL(url).origin === origin) return route.continue();
      elsewhere.push(url);
      return route.abort('blockedbyclient');
    });
    // Requests routing does not see (a service worker's, a WebSocket) still show up here.
    context.on('request', (request) => {
      const url = request.url();
      if (/^https?:|^wss?:/.test(url) && new URL(url).origin !== origin && !elsewhere.includes(url)) elsewhere.push(url);
    });
    context.on('weberror', (error) => errors.push(`uncaught: ${error.error().message}`));
    const page = await context.newPage();
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(`console: ${message.text()}`);
    });
    await page.addInitScript(() => {
      document.addEventListener('securitypolicyviolation', (event) =>
        console.error(`CSP: ${event.violatedDirective} blocked ${event.blockedURI || 'inline'}`),
      );
    });
    return { page, context, elsewhere, errors };
  }

  it('renders the reference from this server alone: endpoints, curl and JavaScript samples, the error table', async () => {
    const { page, context, elsewhere, errors } = await offlinePage();
    try {
      const response = await page.goto(`${server.url}/docs`, { waitUntil: 'load' });
      expect(response?.status()).toBe(200);
      expect(new URL(page.url()).pathname).toBe('/docs/');
      expect(response?.headers()['content-security-policy']).toMatch(/default-src 'none'/);

      // The endpoint list: with every group of the sidebar opened, each operation of the live spec
      // is listed, by its summary (by its path when it has none).
      const operations = Object.values(spec.paths).flatMap((item) =>
        Object.entries(item).map(([method, operation]) => ({ method, label: operation.summary ?? '' })),
      );
      expect(operations.length).toBeGreaterThan(10);
      const sidebar = page.locator('.references-sidebar');
      await sidebar.waitFor({ timeout: 60_000 });
      const closedGroup = sidebar.getByRole('button', { name: /^Open Group - (?!Models$)/ });
      for (let opened = 0; (await closedGroup.count()) > 0; opened++) {
        expect(opened, 'sidebar groups opened').toBeLessThan(50);
        await closedGroup.first().click();
      }
      const listed = await sidebar.innerText();
      for (const [path, item] of Object.entries(spec.paths)) {
        for (const [method, operation] of Object.entries(item)) {
          expect(listed, `the reference lists ${method.toUpperCase()} ${path}`).toContain(operation.summary ?? path);
        }
      }

      // The error table of the spec's description, rendered as a table.
      const errorTable = page.locator('table', { hasText: 'UNSUPPORTED_MEDIA_TYPE' }).first();
      await errorTable.scrollIntoViewIfNeeded({ timeout: 15_000 });
      expect(await errorTable.isVisible()).toBe(true);
      expect(await errorTable.innerText()).toMatch(/413[^\n]*PAYLOAD_TOO_LARGE|PAYLOAD_TOO_LARGE[^\n]*413/);

      // One operation, opened from its link, with its curl sample shown first, then its JavaScript one.
      const samples = spec.paths['/api/upload']!.post!['x-codeSamples'] ?? [];
      const curl = samples.find((sample) => /^(shell|bash|sh|curl)$/i.test(sample.lang) || /curl/i.test(sample.label ?? ''));
      const javascript = samples.find((sample) => /^(javascript|js|node)/i.test(sample.lang));
      expect(curl, 'the spec carries a curl sample for POST /api/upload').toBeDefined();
      expect(javascript, 'the spec carries a JavaScript sample for POST /api/upload').toBeDefined();
      expect(samples[0], 'curl comes first').toBe(curl);
      await page.goto(`${server.url}/docs/#tag/uploads/POST/api/upload`, { waitUntil: 'load' });
      const operation = page.locator('[id$="/POST/api/upload"]').first();
      await operation.waitFor({ timeout: 60_000 });
      const shown = async () => (await operation.innerText()).replace(/\s+/g, ' ');
      const firstLine = (source: string) =>
        source
          .split('\n')
          .find((line) => line.trim() !== '')!
          .trim()
          .replace(/\s+/g, ' ');
      await expect.poll(shown, { timeout: 15_000 }).toContain(firstLine(curl!.source));
      await operation.getByRole('button', { name: curl!.label ?? curl!.lang, exact: true }).click();
      await page
        .getByRole('option', { name: javascript!.label ?? javascript!.lang, exact: true })
        .first()
        .click();
      await expect.poll(shown, { timeout: 15_000 }).toContain(firstLine(javascript!.source));

      expect(elsewhere, 'requests to other origins').toEqual([]);
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
