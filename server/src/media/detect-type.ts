import { open } from 'node:fs/promises';
import { fileTypeFromFile } from 'file-type';
import type { ImageMime } from './image-processor.js';
import { unsupportedType } from './media-errors.js';

const SUPPORTED: ReadonlyMap<string, ImageMime> = new Map([
  ['image/png', 'image/png'],
  ['image/apng', 'image/png'], // an animated PNG is a PNG with extra chunks
  ['image/jpeg', 'image/jpeg'],
  ['image/gif', 'image/gif'],
  ['image/webp', 'image/webp'],
  ['image/avif', 'image/avif'],
]);
const TEXT_SNIFF_BYTES = 4096;

/**
 * The image type, from the file's bytes only. Throws UNSUPPORTED_MEDIA_TYPE naming what the
 * bytes look like, so the person uploading knows what went wrong.
 */
export async function detectImageType(path: string): Promise<ImageMime> {
  const detected = (await fileTypeFromFile(path))?.mime;
  const mime = detected === undefined ? undefined : SUPPORTED.get(detected);
  if (mime) return mime;
  throw unsupportedType(await describeUnknown(path, detected));
}

/**
 * file-type knows binary formats only; text (notes, SVG, HTML) is the usual wrong upload,
 * so name it rather than say "unknown type".
 */
async function describeUnknown(path: string, detected: string | undefined): Promise<string | undefined> {
  if (detected !== undefined && detected !== 'application/xml') return detected;
  const head = await readHead(path);
  if (!looksLikeText(head)) return detected;
  return /<svg[\s>]/i.test(head.toString('utf8')) ? 'image/svg+xml' : (detected ?? 'text/plain');
}

async function readHead(path: string): Promise<Buffer> {
  const file = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(TEXT_SNIFF_BYTES);
    const { bytesRead } = await file.read(buffer, 0, buffer.length, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await file.close();
  }
}

/** Control bytes that do not occur in text: all below 0x20 except tab, LF, VT, FF, CR and ESC. */
const isBinaryControl = (byte: number) => byte < 0x20 && !(byte >= 0x09 && byte <= 0x0d) && byte !== 0x1b;

/** Valid UTF-8 without control characters other than whitespace. */
function looksLikeText(head: Buffer): boolean {
  if (head.length === 0 || head.some(isBinaryControl)) return false;
  // The sample may end inside a multi-byte character: allow up to 3 bytes to be cut off.
  for (let cut = 0; cut <= Math.min(3, head.length - 1); cut++) {
    try {
      new TextDecoder('utf-8', { fatal: true }).decode(head.subarray(0, head.length - cut));
      return true;
    } catch {
      // try a shorter sample
    }
  }
  return false;
}
