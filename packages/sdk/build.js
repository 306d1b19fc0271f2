// Builds dist/: the browser and Node bundles (esbuild) and the type declarations (tsc), unless
// nothing they are made from changed since the last build, so that `npm install` (the root
// `prepare` script) costs a few milliseconds when the SDK did not change.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';
import { buildStamp } from '../../scripts/build-stamp.js';

const SDK = dirname(fileURLToPath(import.meta.url));
const SRC = join(SDK, 'src');
const DIST = join(SDK, 'dist');

/** Both bundles, as published. Exported for the size test, which builds the browser one minified. */
export const BUNDLES = [
  { entry: 'browser.ts', outfile: 'browser.js', platform: 'browser' },
  { entry: 'node.ts', outfile: 'node.js', platform: 'node' },
];

export async function build() {
  const stamp = buildStamp({
    stampFile: join(DIST, '.inputs'),
    root: SDK,
    inputs: [...readdirSync(SRC).map((name) => join(SRC, name)), fileURLToPath(import.meta.url), join(SDK, 'tsconfig.json')],
    outputs: BUNDLES.map((bundle) => join(DIST, bundle.outfile)),
  });
  if (stamp.fresh) return false;
  rmSync(DIST, { recursive: true, force: true });
  mkdirSync(DIST, { recursive: true });
  const esbuild = await import('esbuild');
  await Promise.all(
    BUNDLES.map(({ entry, outfile, platform }) =>
      esbuild.build({
        entryPoints: [join(SRC, entry)],
        outfile: join(DIST, outfile),
        bundle: true,
        format: 'esm',
        platform,
        target: platform === 'node' ? 'node20' : 'es2022',
        external: platform === 'node' ? ['node:*'] : [],
        logLevel: 'warning',
      }),
    ),
  );
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-p', join(SDK, 'tsconfig.json')], { stdio: 'inherit' });
  // tsc emits no .d.ts for a .d.ts source; the generated API types are one.
  copyFileSync(join(SRC, 'openapi.d.ts'), join(DIST, 'types', 'openapi.d.ts'));
  stamp.save();
  return true;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await build();
