// Builds server/dist/main.js, the server as one bundled file, and server/dist/admin.js, what
// `discord-images admin` runs (src/admin.ts), unless nothing they are made from changed since
// the last build. `npm start` runs this before the server, so a second start
// costs a few milliseconds here instead of a compile. Plain JavaScript, so that checking
// needs no compiler: esbuild is loaded only when a build is due. Types are checked by
// `npm run typecheck`, not here (docs/decisions.md, "Start-up").
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildStamp, filesUnder } from '../scripts/build-stamp.js';
import { bundleServer, ENTRIES } from './bundle.js';

const SERVER = dirname(fileURLToPath(import.meta.url));
const ROOT = dirname(SERVER);
const OUTS = ENTRIES.map((name) => join(SERVER, 'dist', `${name}.js`));

const stamp = buildStamp({
  stampFile: join(SERVER, 'dist', '.inputs'),
  root: ROOT,
  // The sources, these scripts, and the lockfile (a dependency bundled in may have changed).
  inputs: [...filesUnder(join(SERVER, 'src')), fileURLToPath(import.meta.url), join(SERVER, 'bundle.js'), join(ROOT, 'package-lock.json')],
  outputs: OUTS,
});
if (!stamp.fresh) {
  await bundleServer(join(SERVER, 'dist'));
  stamp.save();
}
