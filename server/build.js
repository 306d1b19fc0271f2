// Builds server/dist/main.js, the server as one bundled file, and server/dist/admin.js, what
// `discord-images admin` runs (src/admin.ts), unless nothing they are made from changed since
// the last build. `npm start` runs this before the server, so a second start
// costs a few milliseconds here instead of a compile. Plain JavaScript, so that checking
// needs no compiler: esbuild is loaded only when a build is due. Types are checked by
// `npm run typecheck`, not here (docs/decisions.md, "Start-up").
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildStamp, filesUnder } from '../scripts/build-stamp.js';

const SERVER = dirname(fileURLToPath(import.meta.url));
const ROOT = dirname(SERVER);
const ENTRIES = ['main', 'admin'];
const OUTS = ENTRIES.map((name) => join(SERVER, 'dist', `${name}.js`));

/**
 * Native addons stay outside the bundle and load from node_modules as usual; so does Scalar's
 * API reference (4.3 MB), imported only when /docs is first asked for (http/plugins/docs.plugin.ts):
 * bundled, it would be parsed at every start.
 */
const EXTERNAL = ['sharp', 'better-sqlite3', 'pg-native', '@scalar/fastify-api-reference'];

const stamp = buildStamp({
  stampFile: join(SERVER, 'dist', '.inputs'),
  root: ROOT,
  // The sources, this script, and the lockfile (a dependency bundled in may have changed).
  inputs: [...filesUnder(join(SERVER, 'src')), fileURLToPath(import.meta.url), join(ROOT, 'package-lock.json')],
  outputs: OUTS,
});
if (!stamp.fresh) {
  const { build } = await import('esbuild');
  await build({
    entryPoints: ENTRIES.map((name) => join(SERVER, 'src', `${name}.ts`)),
    outdir: join(SERVER, 'dist'),
    bundle: true,
    // Not minified: stack traces in the logs keep their names and lines without a source map.
    platform: 'node',
    format: 'esm',
    target: 'node20',
    external: EXTERNAL,
    // Bundled CommonJS dependencies call require(); an ES module has none of its own.
    banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
    logLevel: 'warning',
  });
  stamp.save();
}
