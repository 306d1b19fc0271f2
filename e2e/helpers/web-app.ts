import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Browser, BrowserContext, BrowserContextOptions, Page } from 'playwright-core';
import { ROOT } from './server.js';

/** Builds web/dist if its sources changed since the last build (cheap when it is fresh). */
export function buildWebApp(): void {
  execFileSync(process.execPath, [join(ROOT, 'web', 'build.js')], { cwd: ROOT, stdio: 'inherit' });
}

export const VIEWPORTS: { label: string; options: BrowserContextOptions }[] = [
  { label: 'desktop', options: { viewport: { width: 1280, height: 800 } } },
  { label: 'phone', options: { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 } },
];

export const SCREENSHOTS = join(ROOT, 'e2e', 'screenshots');

export interface AppPage {
  context: BrowserContext;
  page: Page;
  /** Console errors, failed responses other than `allowedStatuses`, page errors and CSP violations seen so far. */
  problems: () => Promise<string[]>;
}

/**
 * A fresh context and page on the app, recording everything that went wrong: a console error,
 * an uncaught exception, a CSP violation (the page's policy is strict: a blocked script or style
 * would break it quietly), an answer of 400 or more other than the expected ones.
 */
export async function openApp(
  browser: Browser,
  baseUrl: string,
  options: BrowserContextOptions = {},
  allowedStatuses: number[] = [401],
): Promise<AppPage> {
  const context = await browser.newContext(options);
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: baseUrl });
  const page = await context.newPage();
  const seen: string[] = [];
  page.on('console', (message) => {
    // The browser logs every failed request as a console error too; those are judged below.
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) seen.push(`console: ${message.text()}`);
  });
  page.on('response', (answer) => {
    if (answer.status() >= 400 && !allowedStatuses.includes(answer.status()))
      seen.push(`HTTP ${answer.status()}: ${answer.request().method()} ${answer.url()}`);
  });
  page.on('pageerror', (error) => seen.push(`page error: ${error.message}`));
  await page.addInitScript(() => {
    const violations: string[] = [];
    (window as unknown as { cspViolations: string[] }).cspViolations = violations;
    document.addEventListener('securitypolicyviolation', (event) =>
      violations.push(`${event.violatedDirective} blocked ${event.blockedURI || 'inline'}`),
    );
  });
  return {
    context,
    page,
    problems: async () => {
      const violations = await page
        .evaluate(() => (window as unknown as { cspViolations?: string[] }).cspViolations ?? [])
        .catch(() => [] as string[]);
      return [...seen, ...violations.map((violation) => `CSP: ${violation}`)];
    },
  };
}

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/**
 * axe-core's serious and critical findings on the page as it is now. The engine goes in through
 * the DevTools protocol (page.evaluate), which the page's CSP does not govern, so the policy
 * under test stays as strict as it is in production.
 */
export async function accessibilityViolations(page: Page): Promise<string[]> {
  await page.evaluate(AXE_SOURCE);
  const results = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(context: Document, options: object): Promise<AxeResults> } }).axe;
    return axe.run(document, { resultTypes: ['violations'] });
  });
  return results.violations
    .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
    .map(
      (violation) =>
        `${violation.impact} ${violation.id}: ${violation.help} — ${violation.nodes
          .slice(0, 3)
          .map((node) => node.target.join(' '))
          .join(', ')}`,
    );
}

interface AxeResults {
  violations: { id: string; impact?: string | null; help: string; nodes: { target: string[] }[] }[];
}

/** Whether the page scrolls sideways (the phone check). */
export const scrollsSideways = (page: Page): Promise<boolean> =>
  page.evaluate(() => document.scrollingElement!.scrollWidth > window.innerWidth);

/** Signs in through the form, as a person does, and waits for the app to open. */
export async function signIn(page: Page, baseUrl: string, username: string, password: string, path = '/auth'): Promise<void> {
  await page.goto(`${baseUrl}${path}`);
  await page.getByLabel('Username', { exact: true }).fill(username);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.waitForURL((url) => url.pathname !== '/auth');
  // The app has settled on the page it went to.
  await page.locator('main h1').waitFor();
}
