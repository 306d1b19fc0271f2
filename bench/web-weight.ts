/**
 * The gallery's first-load JavaScript: bytes over the wire (compressed, as the server sends
 * them), measured in Chromium from the responses of a signed-in load of `/` with an empty
 * cache, against the issue's target of 100 KB. Bytes do not vary with the machine's load, so
 * the reference is the target itself; the same files' uncompressed sizes are printed beside.
 */
import { join } from 'node:path';
import type { Response } from 'playwright-core';
import sharp from 'sharp';
import { launchChromium } from '../e2e/helpers/chromium.js';
import { REPO_ROOT, runToCompletion } from './lib/processes.js';
import type { SectionContext, SectionResult } from './lib/section.js';
import { registerUser, startService, stopService, uploadFile } from './lib/service.js';
import { fixed, renderTable } from './lib/table.js';

/** The target, in 1000s as the docs count KB. */
const TARGET_BYTES = 100_000;
/** Tiles on the page while it is measured, so that the gallery is the one a person sees. */
const TILES = 12;

interface Loaded {
  url: string;
  type: string;
  encoding: string;
  /** The body as it came over the wire (compressed when the server compressed it). */
  wireBytes: number;
  /** The body once decoded. */
  bytes: number;
}

/** A flat 320x200 PNG, a different colour each. */
const tile = (i: number): Promise<Buffer> =>
  sharp({ create: { width: 320, height: 200, channels: 3, background: { r: (i * 40) % 256, g: 90, b: 200 - i * 10 } } })
    .png()
    .toBuffer();

const kb = (bytes: number): string => `${fixed(bytes / 1000, 1)} KB`;

export async function benchWebWeight(context: SectionContext): Promise<SectionResult> {
  if (context.serviceUnavailable) throw new Error(context.serviceUnavailable);
  context.log('web-weight: building the web app (web/build.js; skipped when up to date)');
  const build = await runToCompletion(process.execPath, [join(REPO_ROOT, 'web', 'build.js')], { cwd: REPO_ROOT, timeoutMs: 300_000 });
  if (build.code !== 0) throw new Error(`web/build.js failed: ${build.stderr.trim().split('\n').slice(-5).join(' ')}`);

  const service = await startService({ workers: 1, env: { RATE_LIMIT: 'off' } });
  const browser = await launchChromium();
  try {
    const token = await registerUser(service);
    for (let i = 0; i < TILES; i++) {
      await uploadFile(service, token, { bytes: await tile(i), filename: `screenshot-${i}.png`, type: 'image/png' });
    }
    // Signed in through the API in the browser's own context (the session cookie), then a cold load of the gallery.
    const browserContext = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const login = await browserContext.request.post(`${service.baseUrl}/api/auth/login`, {
      data: { username: 'bench', password: 'bench-password-123' },
    });
    if (login.status() !== 200) throw new Error(`sign-in answered ${login.status()}: ${await login.text()}`);
    const page = await browserContext.newPage();
    const responses: Response[] = [];
    page.on('response', (response) => responses.push(response));
    await page.goto(`${service.baseUrl}/`, { waitUntil: 'networkidle' });
    await page.getByRole('heading', { name: 'Gallery', level: 1 }).waitFor({ timeout: 15_000 });
    await page.waitForFunction((count) => document.querySelectorAll('.tile img').length === count, TILES, { timeout: 15_000 });
    await page.waitForLoadState('networkidle');
    if (new URL(page.url()).pathname !== '/') throw new Error(`the gallery load ended at ${page.url()}, not signed in`);

    const loaded: Loaded[] = [];
    for (const response of responses) {
      const request = response.request();
      const sizes = await request.sizes();
      loaded.push({
        url: new URL(response.url()).pathname,
        type: request.resourceType(),
        encoding: (await response.headerValue('content-encoding')) ?? 'none',
        wireBytes: sizes.responseBodySize,
        bytes: (await response.body()).length,
      });
    }
    await browserContext.close();

    const scripts = loaded.filter((item) => item.type === 'script');
    const rest = loaded.filter((item) => item.type !== 'script' && item.type !== 'image');
    const total = scripts.reduce((sum, item) => sum + item.wireBytes, 0);
    const problems: string[] = [];
    if (scripts.length === 0) problems.push('web-weight: the gallery loaded no JavaScript (is the app built?)');
    for (const script of scripts) {
      if (script.encoding === 'none') problems.push(`web-weight: ${script.url} came uncompressed`);
    }
    const ok = total < TARGET_BYTES;
    const missed = ok
      ? []
      : [`web-weight: the gallery's first load needs ${kb(total)} of JavaScript over the wire (target < ${kb(TARGET_BYTES)})`];
    const rows = [
      ...scripts.map((item) => [item.url, item.encoding, kb(item.wireBytes), kb(item.bytes), '']),
      [
        'JavaScript, total',
        '',
        kb(total),
        kb(scripts.reduce((sum, item) => sum + item.bytes, 0)),
        `${fixed((100 * total) / TARGET_BYTES, 0)}% ${ok ? 'ok' : 'MISSED'}`,
      ],
      ...rest.map((item) => [`${item.url} (${item.type})`, item.encoding, kb(item.wireBytes), kb(item.bytes), '']),
    ];
    const table = renderTable(
      `WEB WEIGHT — the gallery's first load in Chromium, signed in, empty cache, ${TILES} tiles`,
      ['response', 'encoding', 'over the wire', 'decoded', `of ${kb(TARGET_BYTES)}`],
      rows,
      [
        'Over the wire = the response body as received (Playwright request.sizes().responseBodySize), before decoding.',
        `Target: JavaScript < ${kb(TARGET_BYTES)} compressed (issue 10). Thumbnails are not counted; the other responses are listed for reference.`,
      ],
    );
    return { table, problems, missed, data: { targetBytes: TARGET_BYTES, totalScriptWireBytes: total, loaded } };
  } finally {
    await browser.close();
    await stopService(service);
  }
}
