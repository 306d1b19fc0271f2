import { randomBytes, randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { access, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../src/domain/errors.js';
import { ImageProcessor, type ProcessedImage } from '../../src/media/image-processor.js';
import { receiveImage } from '../../src/media/receive-image.js';
import {
  PRIVATE_COMMENT,
  baseImage,
  decodedPixels,
  jpegHeaderSegments,
  makeAnimatedGifWithMetadata,
  makeJpeg,
  makeJpegWithPrivateMetadata,
  PRIVATE_EXIF,
  makePng,
  makePngBomb,
  makePngWithMetadata,
  makeWebpWithMetadata,
  pngChunks,
  readExifTags,
  receivedFile,
  sha256,
  webpChunks,
} from '../helpers/images.js';
import { tempDir } from '../helpers/temp-dir.js';

const MAX_PIXELS = 100_000_000;
const processor = new ImageProcessor({ maxPixels: MAX_PIXELS, concurrency: 2 });
let dir: string;

beforeAll(async () => {
  dir = await tempDir('di-media-');
});

/** A fresh file path in the test directory. */
const fresh = (name: string) => join(dir, `${randomUUID()}-${name}`);

async function processFile(path: string): Promise<ProcessedImage> {
  return processor.process(await receivedFile(path), fresh('scratch'));
}

async function refusal(path: string): Promise<AppError> {
  const error: unknown = await processFile(path).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(AppError);
  return error as AppError;
}

/** What the caller would check about the stored file: size and hash are those of its bytes. */
async function expectHonestOutput(result: ProcessedImage): Promise<Buffer> {
  const bytes = await readFile(result.path);
  expect(result.size).toBe(bytes.length);
  expect(result.sha256).toBe(sha256(bytes));
  return bytes;
}

const ASCII = (bytes: Buffer) => bytes.toString('latin1');

describe('ImageProcessor: JPEG from a camera', () => {
  let original: string;
  let result: ProcessedImage;
  let stored: Buffer;

  beforeAll(async () => {
    original = fresh('camera.jpg');
    await makeJpegWithPrivateMetadata(original, { width: 300, height: 200, orientation: 6 });
    result = await processFile(original);
    stored = await expectHonestOutput(result);
  });

  it('stores a stripped copy, not the upload', () => {
    expect(result.path).not.toBe(original);
    expect(result).toMatchObject({ mime: 'image/jpeg', ext: 'jpg' });
  });

  it('is stripped the same while it streams in, and that file is then stored as it is (no second copy)', async () => {
    const path = fresh('received');
    // Small chunks, so segments and scan data cross many chunk boundaries.
    const received = await receiveImage(createReadStream(original, { highWaterMark: 997 }), path);
    expect(received.jpeg).toEqual({ changed: true, failure: undefined });
    const processed = await processor.process(received, fresh('scratch'));
    expect([processed.path, processed.size, processed.sha256]).toEqual([path, received.size, received.sha256]);
    expect((await readFile(path)).equals(stored)).toBe(true);
  });

  it('removes GPS, serial numbers, names and dates from EXIF but keeps orientation 6', async () => {
    const metadata = await sharp(result.path).metadata();
    expect(metadata.orientation).toBe(6);
    const tags = readExifTags(metadata.exif!);
    expect(tags).toEqual({ ifd0: [0x0112], exif: [], gps: [], ifd1: [] });
    for (const secret of ['SERIAL-123456789', 'Jane Doe', 'Canon', '2024:05:01', 'adobe:ns:meta']) {
      expect(ASCII(stored)).not.toContain(secret);
    }
  });

  it('proves the fixture had all of it to begin with', async () => {
    const metadata = await sharp(original).metadata();
    const tags = readExifTags(metadata.exif!);
    expect(tags.gps.length).toBeGreaterThan(0);
    expect(metadata.xmp).toBeDefined();
    expect(ASCII(await readFile(original))).toContain(PRIVATE_COMMENT);
  });

  it('removes XMP, the comment and the Photoshop segment', async () => {
    const metadata = await sharp(result.path).metadata();
    expect(metadata.xmp).toBeUndefined();
    expect(metadata.comments ?? []).toEqual([]);
    const markers = jpegHeaderSegments(stored).map((segment) => segment.marker);
    expect(markers).not.toContain(0xfe);
    expect(markers).not.toContain(0xed);
  });

  it('keeps the ICC profile', async () => {
    const [before, after] = await Promise.all([sharp(original).metadata(), sharp(result.path).metadata()]);
    expect(after.icc).toBeDefined();
    expect(after.icc!.equals(before.icc!)).toBe(true);
  });

  it('reports the displayed size (orientation 6 turns 300x200 into 200x300)', () => {
    expect([result.width, result.height]).toEqual([200, 300]);
  });

  it('decodes to exactly the same pixels', async () => {
    expect((await decodedPixels(result.path)).equals(await decodedPixels(original))).toBe(true);
  });

  it('copies everything from the first table to the end of image byte for byte', async () => {
    const input = await readFile(original);
    const firstNonMetadata = (bytes: Buffer) =>
      jpegHeaderSegments(bytes).find((s) => s.marker !== 0xd8 && (s.marker < 0xe0 || s.marker > 0xef) && s.marker !== 0xfe)!;
    const inputTables = firstNonMetadata(input).offset;
    const storedTables = firstNonMetadata(stored).offset;
    expect(stored.subarray(storedTables).equals(input.subarray(inputTables))).toBe(true);
  });
});

describe('ImageProcessor: JPEG edge cases', () => {
  it('stores a JPEG without metadata as uploaded', async () => {
    const path = fresh('plain.jpg');
    await makeJpeg(path, { width: 120, height: 80 });
    const received = await receivedFile(path);
    const scratch = fresh('scratch');
    const result = await processor.process(received, scratch);
    expect(result).toMatchObject({ path, size: received.size, sha256: received.sha256, width: 120, height: 80 });
    await expect(access(scratch)).rejects.toThrow();
  });

  it('drops EXIF entirely when the photo is upright', async () => {
    const path = fresh('upright.jpg');
    await makeJpegWithPrivateMetadata(path, { width: 120, height: 80, orientation: 1 });
    const result = await processFile(path);
    const metadata = await sharp(result.path).metadata();
    expect(metadata.exif).toBeUndefined();
    expect([result.width, result.height]).toEqual([120, 80]);
  });

  it('drops data appended after the end of image (e.g. a motion-photo video)', async () => {
    const path = fresh('trailer.jpg');
    await makeJpeg(path, { width: 64, height: 48 });
    const jpeg = await readFile(path);
    await writeFile(path, Buffer.concat([jpeg, Buffer.from('ftypmp42 video of my living room')]));
    const result = await processFile(path);
    const stored = await expectHonestOutput(result);
    expect(stored.equals(jpeg)).toBe(true);
  });

  it('keeps a progressive JPEG whole while removing its metadata', async () => {
    const path = fresh('progressive.jpg');
    const jpeg = await baseImage({ width: 160, height: 120 })
      .jpeg({ progressive: true })
      .withExif({ IFD0: { Artist: 'Jane Doe' } })
      .toBuffer();
    await writeFile(path, jpeg);
    const result = await processFile(path);
    expect(ASCII(await expectHonestOutput(result))).not.toContain('Jane Doe');
    expect((await decodedPixels(result.path)).equals(await decodedPixels(path))).toBe(true);
  });
});

describe('ImageProcessor: PNG', () => {
  it('removes tEXt, iTXt, zTXt, tIME and eXIf but keeps IHDR, iCCP and the pixels', async () => {
    const path = fresh('meta.png');
    await makePngWithMetadata(path, { width: 90, height: 60 });
    const before = pngChunks(await readFile(path)).map((c) => c.type);
    expect(before).toEqual(expect.arrayContaining(['tEXt', 'iTXt', 'zTXt', 'tIME', 'eXIf', 'iCCP']));

    const result = await processFile(path);
    const stored = await expectHonestOutput(result);
    const after = pngChunks(stored).map((c) => c.type);
    expect(after).toEqual(before.filter((type) => !['tEXt', 'iTXt', 'zTXt', 'tIME', 'eXIf'].includes(type)));
    expect(after[0]).toBe('IHDR');
    expect(after).toContain('iCCP');
    expect(ASCII(stored)).not.toContain('Jane Doe');
    expect((await decodedPixels(result.path)).equals(await decodedPixels(path))).toBe(true);
    expect(result).toMatchObject({ mime: 'image/png', ext: 'png', width: 90, height: 60 });
  });

  it('keeps only the orientation of a rotated PNG', async () => {
    const path = fresh('rotated.png');
    await makePngWithMetadata(path, { width: 90, height: 60, orientation: 8 });
    const result = await processFile(path);
    const metadata = await sharp(result.path).metadata();
    expect(metadata.orientation).toBe(8);
    expect(readExifTags(metadata.exif!)).toEqual({ ifd0: [0x0112], exif: [], gps: [], ifd1: [] });
    expect([result.width, result.height]).toEqual([60, 90]);
  });

  it('stores a PNG without metadata as uploaded', async () => {
    const path = fresh('plain.png');
    await makePng(path, { width: 50, height: 40 });
    const received = await receivedFile(path);
    const result = await processor.process(received, fresh('scratch'));
    expect(result).toMatchObject({ path, size: received.size, sha256: received.sha256 });
  });
});

describe('ImageProcessor: WebP and GIF', () => {
  it('removes EXIF and XMP from a WebP, clears their VP8X flags and fixes the RIFF size', async () => {
    const path = fresh('meta.webp');
    await makeWebpWithMetadata(path, { width: 80, height: 60 });
    const before = webpChunks(await readFile(path));
    expect(before.map((c) => c.fourCc)).toEqual(expect.arrayContaining(['EXIF', 'XMP ']));

    const result = await processFile(path);
    const stored = await expectHonestOutput(result);
    const after = webpChunks(stored);
    expect(after.map((c) => c.fourCc)).toEqual(before.map((c) => c.fourCc).filter((t) => t !== 'EXIF' && t !== 'XMP '));
    expect(stored.readUInt32LE(4)).toBe(stored.length - 8);
    const flags = after.find((c) => c.fourCc === 'VP8X')!.data[0]!;
    expect(flags & 0x0c).toBe(0);
    expect(flags & 0x20).toBe(0x20); // ICC still announced
    const metadata = await sharp(result.path).metadata();
    expect(metadata.exif).toBeUndefined();
    expect(metadata.xmp).toBeUndefined();
    expect(metadata.icc).toBeDefined();
    expect((await decodedPixels(result.path)).equals(await decodedPixels(path))).toBe(true);
  });

  it('keeps every frame of an animated WebP', async () => {
    const path = fresh('anim.webp');
    await makeWebpWithMetadata(path, { width: 40, height: 30, frames: 4 });
    const result = await processFile(path);
    const metadata = await sharp(result.path).metadata();
    expect(metadata.pages).toBe(4);
    expect(metadata.exif).toBeUndefined();
    expect((await decodedPixels(result.path)).equals(await decodedPixels(path))).toBe(true);
    expect(result).toMatchObject({ mime: 'image/webp', width: 40, height: 30, dominantColor: '#ff0000' });
  });

  it('removes comments and XMP from an animated GIF and keeps the frames and the loop', async () => {
    const path = fresh('anim.gif');
    await makeAnimatedGifWithMetadata(path, { width: 40, height: 30, frames: 3 });
    expect(ASCII(await readFile(path))).toContain(PRIVATE_COMMENT);

    const result = await processFile(path);
    const stored = ASCII(await expectHonestOutput(result));
    expect(stored).not.toContain(PRIVATE_COMMENT);
    expect(stored).not.toContain('XMP DataXMP');
    expect(stored).toContain('NETSCAPE2.0');
    const metadata = await sharp(result.path).metadata();
    expect(metadata.pages).toBe(3);
    expect(metadata.loop).toBe(0);
    expect((await decodedPixels(result.path)).equals(await decodedPixels(path))).toBe(true);
    expect(result).toMatchObject({ mime: 'image/gif', ext: 'gif', width: 40, height: 30 });
  });

  it('accepts an AVIF without metadata and stores it as uploaded', async () => {
    const path = fresh('photo.avif');
    await baseImage({ color: '#3366cc', width: 64, height: 32 }).avif().toFile(path);
    const received = await receivedFile(path);
    const result = await processor.process(received, fresh('scratch'));
    expect(result).toMatchObject({ mime: 'image/avif', ext: 'avif', width: 64, height: 32, path });
  });

  it('refuses an AVIF carrying EXIF or XMP, which it cannot strip yet, rather than publish it', async () => {
    const path = fresh('gps.avif');
    await baseImage({ width: 32, height: 32 }).avif().withExif(PRIVATE_EXIF).toFile(path);
    const error = await refusal(path);
    expect(error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    expect(error.message).toMatch(/^is an AVIF with embedded EXIF\/XMP metadata/);
  });
});

describe('ImageProcessor: refusals', () => {
  const expectUnsupported = async (path: string, mime: string) => {
    const error = await refusal(path);
    expect(error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    expect(error.message).toBe(`is not a supported image: ${mime} (supported: PNG, JPEG, GIF, WebP, AVIF)`);
  };

  it('refuses a text file named like a PNG', async () => {
    const path = fresh('notes.png');
    await writeFile(path, 'shopping list: eggs, milk\n');
    await expectUnsupported(path, 'text/plain');
  });

  it('refuses random bytes as an unknown type', async () => {
    const path = fresh('random.jpg');
    await writeFile(path, Buffer.concat([Buffer.from([0x00, 0x01]), randomBytes(4096)]));
    await expectUnsupported(path, 'unknown type');
  });

  it('refuses SVG, TIFF and BMP', async () => {
    const svg = fresh('logo.png');
    await writeFile(svg, '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>');
    await expectUnsupported(svg, 'image/svg+xml');

    const tiff = fresh('scan.png');
    await baseImage({ width: 8, height: 8 }).tiff().toFile(tiff);
    await expectUnsupported(tiff, 'image/tiff');

    const bmp = fresh('paint.png');
    const header = Buffer.alloc(58);
    header.write('BM', 0, 'latin1');
    header.writeUInt32LE(58, 2);
    header.writeUInt32LE(54, 10);
    header.writeUInt32LE(40, 14);
    header.writeInt32LE(1, 18);
    header.writeInt32LE(1, 22);
    header.writeUInt16LE(1, 26);
    header.writeUInt16LE(24, 28);
    await writeFile(bmp, header);
    await expectUnsupported(bmp, 'image/bmp');
  });

  it.each([
    ['JPEG', makeJpeg, 'cut.jpg'],
    ['PNG', makePng, 'cut.png'],
  ])('refuses a truncated %s as corrupt', async (_name, make, name) => {
    const path = fresh(name);
    await make(path, { width: 300, height: 200 });
    const bytes = await readFile(path);
    await writeFile(path, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
    const error = await refusal(path);
    expect(error.code).toBe('CORRUPT_IMAGE');
    expect(error.message).toMatch(/^is a truncated or corrupt image \(.+\)$/);
    expect(error.message).not.toContain(dir);
  });

  it('refuses a PNG declaring 60000x60000 pixels from its header, fast', async () => {
    const path = fresh('bomb.png');
    await makePngBomb(path, 60000, 60000);
    const started = performance.now();
    const error = await refusal(path);
    expect(performance.now() - started).toBeLessThan(200);
    expect(error.code).toBe('IMAGE_TOO_LARGE');
    expect(error.message).toBe(`is 60000x60000 pixels, over the limit of ${MAX_PIXELS} pixels`);
  });

  it('counts pixels per frame against a small limit', async () => {
    const small = new ImageProcessor({ maxPixels: 1000 });
    const path = fresh('wide.png');
    await makePng(path, { width: 50, height: 30 });
    await expect(small.process(await receivedFile(path), fresh('scratch'))).rejects.toMatchObject({
      code: 'IMAGE_TOO_LARGE',
      message: 'is 50x30 pixels, over the limit of 1000 pixels',
    });
  });

  it('refuses an animation whose frames add up to too many pixels', async () => {
    const small = new ImageProcessor({ maxPixels: 1200 }); // animations get 10x: 12000 pixels
    const path = fresh('long.gif');
    await makeAnimatedGifWithMetadata(path, { width: 40, height: 30, frames: 11 });
    await expect(small.process(await receivedFile(path), fresh('scratch'))).rejects.toMatchObject({
      code: 'IMAGE_TOO_LARGE',
      message: 'is an animation of 11 frames of 40x30 pixels, over the limit of 12000 pixels in all frames',
    });
  });
});

describe('ImageProcessor: dominant colour', () => {
  it('is exact for a flat colour', async () => {
    const path = fresh('red.png');
    await makePng(path, { width: 200, height: 100, color: '#ff0000' });
    expect((await processFile(path)).dominantColor).toBe('#ff0000');
  });

  it('is bluish for a mostly blue photo', async () => {
    const path = fresh('sky.jpg');
    await sharp({ create: { width: 200, height: 200, channels: 3, background: '#1e50dc' } })
      .composite([{ input: { create: { width: 200, height: 50, channels: 3, background: '#f0c020' } }, top: 150, left: 0 }])
      .jpeg()
      .toFile(path);
    const colour = (await processFile(path)).dominantColor;
    expect(colour).toMatch(/^#[0-9a-f]{6}$/);
    const [r, g, b] = [1, 3, 5].map((at) => parseInt(colour.slice(at, at + 2), 16)) as [number, number, number];
    expect(b).toBeGreaterThan(180);
    expect(b).toBeGreaterThan(r + 100);
    expect(b).toBeGreaterThan(g + 60);
  });

  it('ignores the transparent surround of a logo', async () => {
    const path = fresh('logo.png');
    await sharp({ create: { width: 100, height: 100, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } } })
      .composite([{ input: { create: { width: 30, height: 30, channels: 4, background: '#00aa44' } }, top: 35, left: 35 }])
      .png()
      .toFile(path);
    expect((await processFile(path)).dominantColor).toBe('#00aa44');
  });
});
