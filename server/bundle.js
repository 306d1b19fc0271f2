// How the server is bundled into one file per entry: used by build.js (npm start) and by the
// tests that restart the server many times (the crash test), so they run what npm start runs.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SERVER = dirname(fileURLToPath(import.meta.url));

/** src/main.ts is the server; src/admin.ts is what `discord-images admin` runs. */
export const ENTRIES = ['main', 'admin'];

/**
 * Native addons stay outside the bundle and load from node_modules as usual; so does Scalar's
 * API reference (4.3 MB), imported only when /docs is first asked for (http/plugins/docs.plugin.ts):
 * bundled, it would be parsed at every start. pino-pretty likewise: only loaded when the logs go to
 * a terminal (logging.ts).
 */
const EXTERNAL = ['sharp', 'better-sqlite3', 'pg-native', '@scalar/fastify-api-reference', 'pino-pretty'];

/** Writes `<entry>.js` for every entry into `outdir` (esbuild is loaded only when called). */
export async function bundleServer(outdir) {
  const { build } = await import('esbuild');
  await build({
    entryPoints: ENTRIES.map((name) => join(SERVER, 'src', `${name}.ts`)),
    outdir,
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
}
