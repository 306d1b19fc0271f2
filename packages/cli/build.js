// Builds dist/cli.js: the command as one small entry file plus chunks loaded only by the
// command that needs them, so `discord-images --version` reads a few kilobytes and starts
// about as fast as Node itself (bench: `npm run bench -- cli-start`). The SDK and tinyglobby
// are bundled into those chunks: the built package has no run-time dependencies, so
// `npm install -g` of its tarball needs nothing from a registry. Skipped when nothing it is
// made from changed since the last build (the root prepare script runs it at every install).
import { readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildStamp, filesUnder } from '../../scripts/build-stamp.js';

const CLI = dirname(fileURLToPath(import.meta.url));
const ROOT = join(CLI, '..', '..');

const stamp = buildStamp({
  stampFile: join(CLI, 'dist', '.inputs'),
  root: ROOT,
  // The sources, this script, the package's manifest, the built SDK it bundles, and the lockfile.
  inputs: [
    ...filesUnder(join(CLI, 'src')),
    ...filesUnder(join(ROOT, 'packages', 'sdk', 'dist')),
    fileURLToPath(import.meta.url),
    join(CLI, 'package.json'),
    join(ROOT, 'package-lock.json'),
  ],
  outputs: [join(CLI, 'dist', 'cli.js')],
});
if (!stamp.fresh) {
  const { build } = await import('esbuild');
  const { version } = JSON.parse(readFileSync(join(CLI, 'package.json'), 'utf8'));
  rmSync(join(CLI, 'dist'), { recursive: true, force: true });
  await build({
    entryPoints: { cli: join(CLI, 'src', 'main.ts') },
    outdir: join(CLI, 'dist'),
    entryNames: '[name]',
    chunkNames: 'chunks/[name]-[hash]',
    bundle: true,
    splitting: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    define: { CLI_VERSION: JSON.stringify(version) },
    logLevel: 'warning',
  });
  stamp.save();
}
