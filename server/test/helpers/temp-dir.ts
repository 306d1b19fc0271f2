import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { atFileEnd } from './cleanup.js';

/** A fresh directory under the OS temp dir, removed after the file's tests. */
export async function tempDir(prefix = 'di-test-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  atFileEnd(() => rm(dir, { recursive: true, force: true }));
  return dir;
}
