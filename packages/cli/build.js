// Builds dist/cli.js: the command as one small entry file plus chunks loaded only by the
// command that needs them, so `discord-images --version` reads a few kilobytes and starts
// about as fast as Node itself (bench: `npm run bench -- cli-start`). The SDK and tinyglobby
// are bundled into those chunks: the built package has no run-time dependencies, so
// `npm install -g` of its tarball needs nothing from a registry.
import { readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const CLI = dirname(fileURLToPath(import.meta.url));
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
