// Builds web/dist (Vite), unless nothing it is made from changed since the last build, so that
// `npm install` (the root `prepare` script) and `npm start` cost a few milliseconds when the web
// app did not change. Every built file also gets .br and .gz siblings, compressed once here at
// their best levels, which the server sends as they are (server/src/http/plugins/web.plugin.ts).
// Plain JavaScript, so that checking needs no compiler: Vite is loaded only when a build is due.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { buildStamp, filesUnder } from '../scripts/build-stamp.js';

const WEB = dirname(fileURLToPath(import.meta.url));
const ROOT = dirname(WEB);
const DIST = join(WEB, 'dist');
/** Worth compressing: text. Images and fonts are compressed already. */
const COMPRESSIBLE = /\.(js|css|html|svg|json|txt|webmanifest)$/;

export async function build() {
  const stamp = buildStamp({
    stampFile: join(DIST, '.inputs'),
    root: ROOT,
    // The sources, the page, the configs, this script, the SDK's browser build (bundled in) and the lockfile.
    inputs: [
      ...filesUnder(join(WEB, 'src')),
      join(WEB, 'index.html'),
      join(WEB, 'vite.config.ts'),
      fileURLToPath(import.meta.url),
      join(ROOT, 'packages', 'sdk', 'dist', 'browser.js'),
      join(ROOT, 'package-lock.json'),
    ],
    outputs: [join(DIST, 'index.html')],
  });
  if (stamp.fresh) return false;
  const { build: viteBuild } = await import('vite');
  await viteBuild({ configFile: join(WEB, 'vite.config.ts'), root: WEB, logLevel: 'warn' });
  for (const path of filesUnder(DIST)) {
    if (!COMPRESSIBLE.test(path)) continue;
    const bytes = readFileSync(path);
    writeFileSync(`${path}.br`, brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }));
    writeFileSync(`${path}.gz`, gzipSync(bytes, { level: 9 }));
  }
  stamp.save();
  return true;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await build();
