import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';

/** Debian's Chromium (`apt-get install chromium`, done by .ci/run): Playwright never downloads a browser here. */
export const CHROMIUM_PATH = '/usr/bin/chromium';

/**
 * Headless, no sandbox (tests run as root), and nothing that phones home: this machine's
 * network is closed, and background connections would only fail, noisily and slowly.
 */
export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * Starts Chromium through playwright-core. Each launch gets a fresh, empty profile: Playwright
 * makes a new temporary --user-data-dir itself (and refuses one passed in `args`).
 */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`${CHROMIUM_PATH} is missing: install Debian's chromium (apt-get install -y chromium), as .ci/run does`);
  }
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_FLAGS, timeout: 30_000 });
}
