import { randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { detectImageType } from '../../src/media/detect-type.js';
import { makePng } from '../helpers/images.js';
import { tempDir } from '../helpers/temp-dir.js';

let dir: string;
beforeAll(async () => {
  dir = await tempDir('di-detect-');
});

async function file(contents: string | Buffer, name: string = randomUUID()): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, contents);
  return path;
}

const refusedAs = (path: string) =>
  detectImageType(path).then(
    () => 'accepted',
    (error: Error) => /is not a supported image: (.+) \(supported/.exec(error.message)?.[1],
  );

describe('detectImageType', () => {
  it('trusts the bytes, not the name', async () => {
    const png = join(dir, 'really-a-png.txt');
    await makePng(png);
    await expect(detectImageType(png)).resolves.toBe('image/png');
  });

  it('names text, even when the sample cuts a multi-byte character', async () => {
    expect(await refusedAs(await file('é'.repeat(3000), 'x.png'))).toBe('text/plain');
  });

  it('names SVG with or without an XML declaration', async () => {
    expect(await refusedAs(await file('<svg viewBox="0 0 1 1"></svg>'))).toBe('image/svg+xml');
    expect(await refusedAs(await file('<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"/>'))).toBe('image/svg+xml');
  });

  it('calls binary it does not know an unknown type, and an empty file too', async () => {
    expect(await refusedAs(await file(Buffer.from([0, 1, 2, 3, 250, 251])))).toBe('unknown type');
    expect(await refusedAs(await file(''))).toBe('unknown type');
  });
});
