import { open } from 'node:fs/promises';
import { ByteReader } from './byte-reader.js';
import { planGif } from './gif-metadata.js';
import type { ImageMime, ReceivedFile } from './image-processor.js';
import { planJpeg } from './jpeg-metadata.js';
import type { OutputPlan } from './output-plan.js';
import { planPng } from './png-metadata.js';
import { planWebp } from './webp-metadata.js';

export type StoredFile = Pick<ReceivedFile, 'path' | 'size' | 'sha256'>;

/**
 * Removes metadata segments without touching pixel data. Returns the input itself when there
 * was nothing to remove (typical screenshots), else the stripped copy written to `scratchPath`.
 * `orientation` is the EXIF orientation to carry over (JPEG and PNG keep it).
 */
export async function stripMetadata(
  input: ReceivedFile,
  mime: ImageMime,
  orientation: number | undefined,
  scratchPath: string,
): Promise<StoredFile> {
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

/** undefined: this format is stored as uploaded. */
function planFor(reader: ByteReader, mime: ImageMime, orientation: number | undefined): Promise<OutputPlan | undefined> {
  switch (mime) {
    case 'image/jpeg':
      return planJpeg(reader, orientation);
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
