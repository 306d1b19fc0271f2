// `npm install` / `npm ci` run this (root "prepare"): builds every package under packages/
// that has a build.js, the SDK first because the others import it. Each build.js skips
// itself when nothing it is made from changed, so this is cheap on a second install.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';

const PACKAGES = join(dirname(dirname(fileURLToPath(import.meta.url))), 'packages');
const names = readdirSync(PACKAGES)
  .filter((name) => existsSync(join(PACKAGES, name, 'build.js')))
  .sort((a, b) => Number(b === 'sdk') - Number(a === 'sdk') || a.localeCompare(b));
for (const name of names) {
  const result = spawnSync(process.execPath, [join(PACKAGES, name, 'build.js')], { stdio: 'inherit' });
  if (result.status !== 0) {
    process.stderr.write(`packages/${name}: build failed\n`);
    process.exit(result.status ?? 1);
  }
}
