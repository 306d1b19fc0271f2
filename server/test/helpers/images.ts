/**
 * Test images made with sharp at test time, plus byte-level readers to check what a stripped
 * file contains. Sizes are small: fixtures are decoded whole in tests.
 */
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { crc32 } from 'node:zlib';
import sharp, { type Sharp } from 'sharp';
import type { ReceivedFile } from '../../src/media/image-processor.js';

export interface ImageSize {
  width: number;
  height: number;
}

export interface FixtureOptions extends Partial<ImageSize> {
  /** Flat colour; without it the image is a textured gradient, so scan data is not trivial. */
  color?: string;
}

/** Hashes and sizes a file as the upload path would have. */
export async function receivedFile(path: string): Promise<ReceivedFile> {
  const bytes = await readFile(path);
  return { path, size: bytes.length, sha256: sha256(bytes) };
}

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** A sharp pipeline of a flat colour or, by default, an RGB gradient with a little noise. */
export function baseImage({ width = 64, height = 48, color }: FixtureOptions = {}): Sharp {
  if (color) return sharp({ create: { width, height, channels: 3, background: color } });
  const pixels = Buffer.alloc(width * height * 3);
  let seed = 7;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      const noise = (seed >> 16) % 16;
      const i = (y * width + x) * 3;
      pixels[i] = Math.floor((x * 255) / width) ^ noise;
      pixels[i + 1] = Math.floor((y * 255) / height) ^ noise;
      pixels[i + 2] = 128 ^ noise;
    }
  }
  return sharp(pixels, { raw: { width, height, channels: 3 } });
}

export async function makePng(path: string, options: FixtureOptions = {}): Promise<void> {
  await baseImage(options).png().toFile(path);
}

export async function makeJpeg(path: string, options: FixtureOptions = {}): Promise<void> {
  await baseImage(options).jpeg({ quality: 90 }).toFile(path);
}

/** Camera metadata a user would not want published: GPS position, serial numbers, dates. */
export const PRIVATE_EXIF = {
  IFD0: {
    Make: 'Canon',
    Model: 'Canon EOS R5',
    Artist: 'Jane Doe',
    DateTime: '2024:05:01 12:34:56',
  },
  IFD2: { BodySerialNumber: 'SERIAL-123456789', DateTimeOriginal: '2024:05:01 12:34:56' },
  IFD3: {
    GPSLatitudeRef: 'N',
    GPSLatitude: '48/1 51/1 2942/100',
    GPSLongitudeRef: 'E',
    GPSLongitude: '2/1 17/1 4000/100',
  },
} as const;

export const PRIVATE_XMP =
  '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">' +
  '<rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/" dc:creator="Jane Doe XMP"/></rdf:RDF></x:xmpmeta>';

export const PRIVATE_COMMENT = 'shot at home by Jane Doe';

/**
 * A JPEG as a phone or camera writes it: EXIF with GPS, serial and orientation, XMP, a Display
 * P3 ICC profile, plus a COM comment and a Photoshop APP13 segment inserted after SOI.
 */
export async function makeJpegWithPrivateMetadata(
  path: string,
  { orientation = 6, ...options }: FixtureOptions & { orientation?: number } = {},
): Promise<void> {
  const jpeg = await baseImage(options)
    .jpeg({ quality: 90 })
    .withMetadata({ orientation })
    .withExif(PRIVATE_EXIF)
    .withIccProfile('p3')
    .withXmp(PRIVATE_XMP)
    .toBuffer();
  const comment = jpegSegment(0xfe, Buffer.from(PRIVATE_COMMENT, 'latin1'));
  const photoshop = jpegSegment(0xed, Buffer.from('Photoshop 3.0\0' + '8BIM iptc Jane Doe', 'latin1'));
  await writeFile(path, Buffer.concat([jpeg.subarray(0, 2), comment, photoshop, jpeg.subarray(2)]));
}

/** A JPEG marker segment: FF, marker, 2-byte length (which counts itself), payload. */
export function jpegSegment(marker: number, payload: Uint8Array): Buffer {
  const header = Buffer.from([0xff, marker, 0, 0]);
  header.writeUInt16BE(payload.length + 2, 2);
  return Buffer.concat([header, payload]);
}

export interface JpegSegmentInfo {
  marker: number;
  offset: number;
  /** Bytes from the 0xFF to the end of the segment (2 for markers without a length). */
  length: number;
  /** The first bytes of the payload, to tell e.g. Exif from XMP. */
  identifier: string;
}

/** The segments before the first scan, plus that SOS itself (whose payload ends the list). */
export function jpegHeaderSegments(jpeg: Buffer): JpegSegmentInfo[] {
  const segments: JpegSegmentInfo[] = [{ marker: 0xd8, offset: 0, length: 2, identifier: '' }];
  let at = 2;
  while (at < jpeg.length) {
    while (jpeg[at] === 0xff && jpeg[at + 1] === 0xff) at++; // fill bytes
    const marker = jpeg[at + 1]!;
    const length = 2 + jpeg.readUInt16BE(at + 2);
    segments.push({ marker, offset: at, length, identifier: jpeg.toString('latin1', at + 4, at + 16) });
    if (marker === 0xda) break;
    at += length;
  }
  return segments;
}

export interface PngChunk {
  type: string;
  data: Buffer;
}

export function pngChunks(png: Buffer): PngChunk[] {
  const chunks: PngChunk[] = [];
  for (let at = 8; at + 8 <= png.length;) {
    const length = png.readUInt32BE(at);
    chunks.push({ type: png.toString('latin1', at + 4, at + 8), data: png.subarray(at + 8, at + 8 + length) });
    at += 12 + length;
  }
  return chunks;
}

export function pngChunk(type: string, data: Uint8Array): Buffer {
  const typeAndData = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const chunk = Buffer.alloc(typeAndData.length + 8);
  chunk.writeUInt32BE(data.length, 0);
  typeAndData.copy(chunk, 4);
  chunk.writeUInt32BE(crc32(typeAndData), chunk.length - 4);
  return chunk;
}

/** Inserts whole chunks right before the first chunk of type `before`. */
export function insertPngChunks(png: Buffer, before: string, chunks: Buffer[]): Buffer {
  for (let at = 8; at + 8 <= png.length; at += 12 + png.readUInt32BE(at)) {
    if (png.toString('latin1', at + 4, at + 8) === before) {
      return Buffer.concat([png.subarray(0, at), ...chunks, png.subarray(at)]);
    }
  }
  throw new Error(`no ${before} chunk`);
}

/**
 * A PNG with an ICC profile, EXIF (eXIf, with GPS and orientation), XMP (written by sharp
 * as zTXt), and tEXt author, iTXt XMP and tIME chunks added by hand.
 */
export async function makePngWithMetadata(
  path: string,
  { orientation = 1, ...options }: FixtureOptions & { orientation?: number } = {},
): Promise<void> {
  const png = await baseImage(options)
    .png()
    .withMetadata({ orientation })
    .withExif(PRIVATE_EXIF)
    .withIccProfile('p3')
    .withXmp(PRIVATE_XMP)
    .toBuffer();
  const time = Buffer.from([0x07, 0xe8, 5, 1, 12, 34, 56]);
  await writeFile(
    path,
    insertPngChunks(png, 'IDAT', [
      pngChunk('tEXt', Buffer.from('Author\0Jane Doe', 'latin1')),
      pngChunk('iTXt', Buffer.from(`XML:com.adobe.xmp\0\0\0\0\0${PRIVATE_XMP}`, 'utf8')),
      pngChunk('tIME', time),
    ]),
  );
}

/** A valid-looking PNG whose IHDR declares a huge canvas: a decompression bomb. */
export async function makePngBomb(path: string, width: number, height: number): Promise<void> {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  await writeFile(
    path,
    Buffer.concat([signature, pngChunk('IHDR', ihdr), pngChunk('IDAT', Buffer.alloc(1024)), pngChunk('IEND', Buffer.alloc(0))]),
  );
}

const FRAME_COLOURS = ['#ff0000', '#00ff00', '#0000ff', '#ffff00'];

/** Frames of flat colours stacked vertically, as sharp wants animations. */
function animation({ width = 40, height = 30, frames = 3 }: Partial<ImageSize> & { frames?: number }): Sharp {
  const frameBytes = width * height * 4;
  const pixels = Buffer.alloc(frameBytes * frames);
  for (let f = 0; f < frames; f++) {
    const hex = FRAME_COLOURS[f % FRAME_COLOURS.length]!;
    for (let i = 0; i < width * height; i++) {
      const at = f * frameBytes + i * 4;
      pixels[at] = parseInt(hex.slice(1, 3), 16);
      pixels[at + 1] = parseInt(hex.slice(3, 5), 16);
      pixels[at + 2] = parseInt(hex.slice(5, 7), 16);
      pixels[at + 3] = 255;
    }
  }
  return sharp(pixels, { raw: { width, height: height * frames, channels: 4, pageHeight: height } });
}

export interface WebpOptions extends FixtureOptions {
  frames?: number;
}

/** A WebP (animated when frames > 1) carrying EXIF, XMP and an ICC profile. */
export async function makeWebpWithMetadata(path: string, { frames = 1, ...options }: WebpOptions = {}): Promise<void> {
  const image = frames > 1 ? animation({ ...options, frames }) : baseImage(options);
  await image
    .webp({ quality: 90, ...(frames > 1 ? { loop: 0, delay: Array(frames).fill(100) } : {}) })
    .withExif(PRIVATE_EXIF)
    .withIccProfile('p3')
    .withXmp(PRIVATE_XMP)
    .toFile(path);
}

export interface WebpChunk {
  fourCc: string;
  data: Buffer;
}

export function webpChunks(webp: Buffer): WebpChunk[] {
  const chunks: WebpChunk[] = [];
  for (let at = 12; at + 8 <= webp.length;) {
    const length = webp.readUInt32LE(at + 4);
    chunks.push({ fourCc: webp.toString('latin1', at, at + 4), data: webp.subarray(at + 8, at + 8 + length) });
    at += 8 + length + (length % 2);
  }
  return chunks;
}

/** A GIF extension: introducer, label, data sub-blocks of up to 255 bytes, terminator. */
export function gifExtension(label: number, data: Uint8Array, firstBlock?: Uint8Array): Buffer {
  const parts: Uint8Array[] = [Buffer.from([0x21, label])];
  if (firstBlock) parts.push(Buffer.from([firstBlock.length]), firstBlock);
  for (let at = 0; at < data.length; at += 255) {
    const block = data.subarray(at, at + 255);
    parts.push(Buffer.from([block.length]), block);
  }
  parts.push(Buffer.from([0]));
  return Buffer.concat(parts);
}

/** Where a GIF's first block starts: after the header, screen descriptor and global palette. */
export function gifFirstBlockOffset(gif: Buffer): number {
  const packed = gif[10]!;
  return 13 + (packed & 0x80 ? 3 * 2 ** ((packed & 7) + 1) : 0);
}

/** An animated GIF with a comment and an XMP application extension inserted by hand. */
export async function makeAnimatedGifWithMetadata(path: string, options: Partial<ImageSize> & { frames?: number } = {}): Promise<void> {
  const frames = options.frames ?? 3;
  const gif = await animation({ ...options, frames })
    .gif({ loop: 0, delay: Array(frames).fill(100) })
    .toBuffer();
  const at = gifFirstBlockOffset(gif);
  const comment = gifExtension(0xfe, Buffer.from(PRIVATE_COMMENT, 'latin1'));
  const xmp = gifExtension(0xff, Buffer.from(PRIVATE_XMP, 'utf8'), Buffer.from('XMP DataXMP', 'latin1'));
  await writeFile(path, Buffer.concat([gif.subarray(0, at), comment, xmp, gif.subarray(at)]));
}

export interface ExifTags {
  ifd0: number[];
  exif: number[];
  gps: number[];
  /** The thumbnail directory. */
  ifd1: number[];
}

/**
 * Lists the tags of an EXIF block (as sharp's metadata().exif gives it, "Exif\0\0" prefix
 * optional), following the EXIF and GPS sub-directories: enough to prove what is left.
 */
export function readExifTags(exif: Buffer): ExifTags {
  const tiff = exif.toString('latin1', 0, 6) === 'Exif\0\0' ? exif.subarray(6) : exif;
  const little = tiff.toString('latin1', 0, 2) === 'II';
  const u16 = (at: number) => (little ? tiff.readUInt16LE(at) : tiff.readUInt16BE(at));
  const u32 = (at: number) => (little ? tiff.readUInt32LE(at) : tiff.readUInt32BE(at));
  const entries = (offset: number) => {
    if (offset === 0 || offset + 2 > tiff.length) return { tags: [] as number[], values: new Map<number, number>(), next: 0 };
    const count = u16(offset);
    const tags: number[] = [];
    const values = new Map<number, number>();
    for (let i = 0; i < count; i++) {
      const at = offset + 2 + i * 12;
      tags.push(u16(at));
      values.set(u16(at), u16(at + 2) === 3 ? u16(at + 8) : u32(at + 8));
    }
    return { tags, values, next: u32(offset + 2 + count * 12) };
  };
  const ifd0 = entries(u32(4));
  return {
    ifd0: ifd0.tags,
    exif: entries(ifd0.values.get(0x8769) ?? 0).tags,
    gps: entries(ifd0.values.get(0x8825) ?? 0).tags,
    ifd1: entries(ifd0.next).tags,
  };
}

/** Decoded pixels (all frames), for "nothing was re-encoded" comparisons. */
export function decodedPixels(path: string): Promise<Buffer> {
  return sharp(path, { animated: true }).raw().toBuffer();
}
