/**
 * The SDK's browser build stays small and free of Node: bundled and minified as a web app's
 * bundler would, it must be under 8 KB gzipped (issue 9), and import no `node:` module.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { ROOT } from './helpers/server.js';

const SDK = join(ROOT, 'packages/sdk');
const LIMIT = 8 * 1024;

describe('the SDK browser build', () => {
  it(`is under ${LIMIT} bytes minified and gzipped`, async () => {
    const result = await build({
      entryPoints: [join(SDK, 'src/browser.ts')],
      bundle: true,
      minify: true,
      format: 'esm',
      platform: 'browser',
      write: false,
      metafile: true,
      logLevel: 'silent',
    });
    const minified = result.outputFiles[0]!.contents;
    const gzipped = gzipSync(minified, { level: 9 }).length;
    expect(gzipped).toBeLessThan(LIMIT);
    expect(Object.keys(result.metafile.inputs).filter((input) => input.includes('node:'))).toEqual([]);
  });

  it('imports nothing from Node in the published file', async () => {
    const published = await readFile(join(SDK, 'dist/browser.js'), 'utf8');
    expect(published).not.toMatch(/(?:\bimport|\bfrom|import\()\s*["']node:|\brequire\(/);
  });
});
