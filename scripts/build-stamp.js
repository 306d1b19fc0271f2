// What the build scripts (server/, packages/*/, web/) share: a build is skipped when nothing it
// is made from changed. Each records its inputs (path and modification time) in a stamp file
// beside its output; a different list, or a missing output, means build again.
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';

/** Every file under `dir`, at any depth; none when it does not exist. */
export function* filesUnder(dir) {
  if (!existsSync(dir)) return;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* filesUnder(path);
    else yield path;
  }
}

/**
 * `fresh` when `outputs` all exist and were made from `inputs` as they are now; `save()` after a
 * build records them. Paths in the stamp are relative to `root`; a missing input counts as such.
 */
export function buildStamp({ stampFile, root, inputs, outputs }) {
  const stamp = inputs.map((path) => `${relative(root, path)} ${existsSync(path) ? statSync(path).mtimeMs : 'missing'}`).join('\n');
  return {
    fresh: outputs.every((path) => existsSync(path)) && existsSync(stampFile) && readFileSync(stampFile, 'utf8') === stamp,
    save: () => writeFileSync(stampFile, stamp),
  };
}
