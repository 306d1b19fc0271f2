/**
 * Bundles the server once per test run, as `npm start` does (server/bundle.js), for the e2e
 * tests to start: a start then costs what a real one does, 1.5 s on a loaded two-core machine
 * against 4 s for the TypeScript sources through tsx, and the suite starts servers by the
 * hundred. Under server/, so that the packages kept outside the bundle resolve.
 */
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import { bundleServer } from '../server/bundle.js';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const outDir = fileURLToPath(new URL(`../server/.e2e-server-${randomBytes(6).toString('hex')}`, import.meta.url));
  await bundleServer(outDir);
  project.provide('serverBundle', join(outDir, 'main.js'));
  return () => rm(outDir, { recursive: true, force: true });
}
