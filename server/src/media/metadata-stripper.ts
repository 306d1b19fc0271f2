import { createReadStream } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import { ByteReader } from './byte-reader.js';
import { planGif } from './gif-metadata.js';
import { corruptImage } from './media-errors.js';
import type { ImageMime, ReceivedFile } from './image-processor.js';
import type { OutputPlan } from './output-plan.js';
import { planPng } from './png-metadata.js';
import { planWebp } from './webp-metadata.js';
import { receiveImage } from './receive-image.js';

export type StoredFile = Pick<ReceivedFile, 'path' | 'size' | 'sha256'>;

/**
 * Removes metadata segments without touching pixel data. Returns the input itself when there
 * was nothing to remove (typical screenshots), else the stripped copy written to `scratchPath`.
 * `orientation` is the EXIF orientation a PNG carries over (a JPEG's comes from its own EXIF).
 */
export async function stripMetadata(
  input: ReceivedFile,
  mime: ImageMime,
  orientation: number | undefined,
  scratchPath: string,
): Promise<StoredFile> {
  if (mime === 'image/jpeg') return stripJpeg(input, scratchPath);
  const file = await open(input.path, 'r');
  let plan: OutputPlan | undefined;
  let size: number;
  try {
    size = (await file.stat()).size;
    plan = await planFor(new ByteReader(file, size), mime, orientation);
  } finally {
    await file.close();
  }
  if (!plan || plan.isCopyOf(0, size)) return { path: input.path, size: input.size, sha256: input.sha256 };
  return { path: scratchPath, ...(await plan.write(input.path, scratchPath)) };
}

/**
 * A JPEG is stripped as it streams in (receive-image.ts); one that was not, a file from
 * elsewhere, goes through the same stripper from its file to the scratch file.
 */
async function stripJpeg(input: ReceivedFile, scratchPath: string): Promise<StoredFile> {
  const asStored = ({ path, size, sha256 }: ReceivedFile): StoredFile => ({ path, size, sha256 });
  if (input.jpeg) {
    if (input.jpeg.failure) throw input.jpeg.failure;
    return asStored(input);
  }
  let copy: ReceivedFile;
  try {
    copy = await receiveImage(createReadStream(input.path), scratchPath);
    if (!copy.jpeg) throw corruptImage('missing JPEG start marker');
    if (copy.jpeg.failure) throw copy.jpeg.failure;
  } catch (error) {
    await rm(scratchPath, { force: true });
    throw error;
  }
  if (copy.jpeg.changed) return asStored(copy);
  await rm(scratchPath, { force: true });
  return asStored(input);
}

/** undefined: this format is stored as uploaded. */
function planFor(
  reader: ByteReader,
  mime: Exclude<ImageMime, 'image/jpeg'>,
  orientation: number | undefined,
): Promise<OutputPlan | undefined> {
  switch (mime) {
    case 'image/png':
      return planPng(reader, orientation);
    case 'image/webp':
      return planWebp(reader);
    case 'image/gif':
      return planGif(reader);
    case 'image/avif':
      // AVIF keeps Exif and XMP as items of an ISOBMFF `meta` box; removing them means
      // rewriting iinf/iloc/iref and every offset after them. Not done yet: ImageProcessor
      // refuses an AVIF that has any, so what reaches here has nothing to strip.
      return Promise.resolve(undefined);
  }
}
