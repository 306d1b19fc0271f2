/**
 * The container parsers on hand-made byte streams: structure only, no decoder involved, so
 * each case shows exactly which bytes survive.
 */
import { randomUUID } from 'node:crypto';
import { access, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../src/domain/errors.js';
import type { ImageMime } from '../../src/media/image-processor.js';
import { JpegStripper } from '../../src/media/jpeg-metadata.js';
import { stripMetadata } from '../../src/media/metadata-stripper.js';
import { gifExtension, jpegSegment, pngChunk, receivedFile, sha256 } from '../helpers/images.js';
import { tempDir } from '../helpers/temp-dir.js';

let dir: string;
beforeAll(async () => {
  dir = await tempDir('di-strip-');
});

const bytes = (...parts: Array<Uint8Array | number[] | string>) =>
  Buffer.concat(parts.map((part) => (typeof part === 'string' ? Buffer.from(part, 'latin1') : Buffer.from(part))));

/** Strips `input`; returns the stored bytes and whether the upload itself was kept. */
async function strip(mime: ImageMime, input: Buffer, orientation?: number) {
  const path = join(dir, randomUUID());
  await writeFile(path, input);
  const received = await receivedFile(path);
  const scratch = join(dir, randomUUID());
  const stored = await stripMetadata(received, mime, orientation, scratch);
  const output = await readFile(stored.path);
  expect(stored.size).toBe(output.length);
  expect(stored.sha256).toBe(sha256(output));
  return { output, unchanged: stored.path === path };
}

async function expectCorrupt(mime: ImageMime, input: Buffer, reason: RegExp) {
  const scratch = join(dir, randomUUID());
  const path = join(dir, randomUUID());
  await writeFile(path, input);
  const error: unknown = await stripMetadata(await receivedFile(path), mime, undefined, scratch).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(AppError);
  expect(error).toMatchObject({ code: 'CORRUPT_IMAGE' });
  expect((error as AppError).message).toMatch(reason);
  await expect(access(scratch)).rejects.toThrow(); // nothing half-written left behind
}

describe('JPEG', () => {
  const SOI = [0xff, 0xd8];
  const EOI = [0xff, 0xd9];
  const jfif = jpegSegment(0xe0, bytes('JFIF\0', [1, 1, 0, 0, 1, 0, 1, 0, 0]));
  const exif = jpegSegment(0xe1, bytes('Exif\0\0MM\0*', [0, 0, 0, 8], 'GPS and serial'));
  const xmp = jpegSegment(0xe1, bytes('http://ns.adobe.com/xap/1.0/\0<x:xmpmeta/>'));
  const icc = jpegSegment(0xe2, bytes('ICC_PROFILE\0', [1, 1], 'profile'));
  const mpf = jpegSegment(0xe2, bytes('MPF\0', 'offsets'));
  const adobe = jpegSegment(0xee, bytes('Adobe', [0, 100, 0, 0, 0, 0, 1]));
  const comment = jpegSegment(0xfe, bytes('a comment'));
  const tables = jpegSegment(0xdb, bytes([0], Array(64).fill(1)));
  const frame = jpegSegment(0xc2, bytes([8, 0, 16, 0, 16, 1, 1, 0x11, 0]));
  const scanHeader = jpegSegment(0xda, bytes([1, 1, 0, 0, 63, 0]));
  // Scan data with a stuffed 0xFF00, a restart marker, and fill bytes before the next marker.
  const scanData = bytes([0x12, 0xff, 0x00, 0x34, 0xff, 0xd3, 0x56, 0xff, 0xff]);
  const huffman = jpegSegment(0xc4, bytes([0], Array(16).fill(0)));

  it('keeps JFIF, ICC, Adobe, tables and scans; drops EXIF, XMP, MPF, comments and the trailer', async () => {
    const input = bytes(
      SOI,
      jfif,
      exif,
      xmp,
      icc,
      mpf,
      adobe,
      comment,
      tables,
      frame,
      scanHeader,
      scanData,
      comment,
      huffman,
      scanHeader,
      scanData,
      EOI,
      'appended video',
    );
    const { output, unchanged } = await strip('image/jpeg', input);
    expect(unchanged).toBe(false);
    expect(output.equals(bytes(SOI, jfif, icc, adobe, tables, frame, scanHeader, scanData, huffman, scanHeader, scanData, EOI))).toBe(true);
  });

  it('replaces EXIF by an orientation-only APP1 where it was', async () => {
    // IFD0: Orientation 6 and a pointer to GPS data, big-endian.
    const ifd = [0, 2, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 6, 0, 0, 0x88, 0x25, 0, 4, 0, 0, 0, 1, 0, 0, 0, 38, 0, 0, 0, 0];
    const exifWithOrientation = jpegSegment(0xe1, bytes('Exif\0\0MM\0*', [0, 0, 0, 8], ifd, 'GPS 51.5N 0.1W'));
    const input = bytes(SOI, jfif, exifWithOrientation, exif, tables, frame, scanHeader, scanData, EOI);
    const { output } = await strip('image/jpeg', input);
    const orientationOnly = jpegSegment(
      0xe1,
      bytes('Exif\0\0MM\0*', [0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 6, 0, 0, 0, 0, 0, 0]),
    );
    expect(output.equals(bytes(SOI, jfif, orientationOnly, tables, frame, scanHeader, scanData, EOI))).toBe(true);
  });

  it('reads the orientation from little-endian EXIF too, and inserts nothing for orientation 1', async () => {
    const tiff = (order: 'II' | 'MM', orientation: number) => {
      const block = Buffer.alloc(26);
      const le = order === 'II';
      block.write(order, 0, 'latin1');
      const u16 = (value: number, at: number) => (le ? block.writeUInt16LE(value, at) : block.writeUInt16BE(value, at));
      const u32 = (value: number, at: number) => (le ? block.writeUInt32LE(value, at) : block.writeUInt32BE(value, at));
      u16(42, 2);
      u32(8, 4);
      u16(1, 8);
      u16(0x0112, 10);
      u16(3, 12);
      u32(1, 14);
      u16(orientation, 18);
      return jpegSegment(0xe1, bytes('Exif\0\0', block));
    };
    const body = [tables, frame, scanHeader, scanData, EOI];
    const turned = await strip('image/jpeg', bytes(SOI, tiff('II', 8), ...body));
    const orientation8 = jpegSegment(
      0xe1,
      bytes('Exif\0\0MM\0*', [0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 8, 0, 0, 0, 0, 0, 0]),
    );
    expect(turned.output.equals(bytes(SOI, orientation8, ...body))).toBe(true);
    const long = tiff('MM', 0);
    long.writeUInt16BE(4, 4 + 6 + 12); // the Orientation as a LONG, which some writers use
    long.writeUInt32BE(8, 4 + 6 + 18);
    expect((await strip('image/jpeg', bytes(SOI, long, ...body))).output.equals(bytes(SOI, orientation8, ...body))).toBe(true);
    const upright = await strip('image/jpeg', bytes(SOI, tiff('MM', 1), ...body));
    expect(upright.output.equals(bytes(SOI, ...body))).toBe(true);
  });

  it('strips the same however the bytes are cut into chunks', () => {
    const input = bytes(
      SOI,
      [0xff],
      jfif,
      exif,
      comment,
      tables,
      frame,
      scanHeader,
      scanData,
      comment,
      huffman,
      scanHeader,
      scanData,
      EOI,
      'trailer',
    );
    const whole: Buffer[] = [];
    const wholeStripper = new JpegStripper((piece) => whole.push(Buffer.from(piece)));
    wholeStripper.push(input);
    wholeStripper.end();
    expect(
      Buffer.concat(whole).equals(bytes(SOI, [0xff], jfif, tables, frame, scanHeader, scanData, huffman, scanHeader, scanData, EOI)),
    ).toBe(true);
    for (const size of [1, 2, 3, 5, 7, 13]) {
      const pieces: Buffer[] = [];
      const stripper = new JpegStripper((piece) => pieces.push(Buffer.from(piece)));
      for (let at = 0; at < input.length; at += size) stripper.push(input.subarray(at, at + size));
      stripper.end();
      expect([size, stripper.failure, Buffer.concat(pieces).equals(Buffer.concat(whole))]).toEqual([size, undefined, true]);
    }
  });

  it('stays linear when a client sends one byte at a time', () => {
    // A 64 KiB EXIF segment and four runs of 65,000 fill bytes (each ended by a restart
    // marker): held and joined again on every push, these took seconds each.
    const bigExif = jpegSegment(0xe1, bytes('Exif\0\0', Buffer.alloc(65_000, 7)));
    const fills = Array.from({ length: 4 }, () => bytes(Buffer.alloc(65_000, 0xff), [0xd0]));
    const input = bytes(SOI, bigExif, ...fills, tables, frame, scanHeader, scanData, EOI);
    const pieces: Buffer[] = [];
    const stripper = new JpegStripper((piece) => pieces.push(Buffer.from(piece)));
    const started = performance.now();
    for (let at = 0; at < input.length; at++) stripper.push(input.subarray(at, at + 1));
    stripper.end();
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(stripper.failure).toBeUndefined();
    expect(Buffer.concat(pieces).equals(bytes(SOI, ...fills, tables, frame, scanHeader, scanData, EOI))).toBe(true);
  });

  it('keeps fill bytes before kept markers and the upload itself when nothing goes', async () => {
    const input = bytes(SOI, [0xff], jfif, tables, frame, scanHeader, scanData, EOI);
    const { output, unchanged } = await strip('image/jpeg', input);
    expect(unchanged).toBe(true);
    expect(output.equals(input)).toBe(true);
  });

  it("finds metadata and markers megabytes in, across the reader's windows", async () => {
    // 3 MiB of scan data with stuffed 0xFF00 pairs throughout, so markers and stuffing land
    // on every side of the 1 MiB read windows; a comment and a second scan follow.
    const longScan = Buffer.alloc(3 * 1024 ** 2 + 7, 0x5a);
    for (let at = 1000; at < longScan.length - 1; at += 4093) longScan.writeUInt16BE(0xff00, at);
    const input = bytes(SOI, jfif, tables, frame, scanHeader, longScan, comment, huffman, scanHeader, scanData, EOI);
    const { output, unchanged } = await strip('image/jpeg', input);
    expect(unchanged).toBe(false);
    expect(output.equals(bytes(SOI, jfif, tables, frame, scanHeader, longScan, huffman, scanHeader, scanData, EOI))).toBe(true);
  });

  it('refuses broken structure', async () => {
    await expectCorrupt('image/jpeg', bytes(SOI, jfif, [0xff, 0xdb, 0x10, 0x00, 1, 2]), /segment runs past the end/);
    await expectCorrupt('image/jpeg', bytes(SOI, jfif, tables, frame, scanHeader, scanData), /missing JPEG end marker/);
    await expectCorrupt('image/jpeg', bytes(SOI, jfif, [0x00, 0x00]), /expected a JPEG marker/);
    await expectCorrupt('image/jpeg', bytes(SOI, [0xff, 0xdb, 0x00, 0x01]), /bad segment length/);
    // A stream of fill bytes is refused, not held in memory while it lasts.
    await expectCorrupt('image/jpeg', bytes(SOI, Buffer.alloc(1024 ** 2, 0xff)), /endless fill bytes/);
  });
});

describe('PNG', () => {
  const signature = bytes([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const ihdr = pngChunk('IHDR', bytes([0, 0, 0, 1, 0, 0, 0, 1, 8, 2, 0, 0, 0]));
  const idat = pngChunk('IDAT', bytes('compressed'));
  const iend = pngChunk('IEND', bytes());
  const text = pngChunk('tEXt', bytes('Author\0Jane'));
  const time = pngChunk('tIME', bytes([7, 232, 1, 1, 0, 0, 0]));
  const exif = pngChunk('eXIf', bytes('MM\0*', [0, 0, 0, 8], 'camera'));
  const actl = pngChunk('acTL', bytes([0, 0, 0, 1, 0, 0, 0, 0]));

  it('drops text, time, EXIF and bytes after IEND; keeps APNG chunks', async () => {
    const input = bytes(signature, ihdr, text, actl, exif, time, idat, iend, 'junk');
    const { output } = await strip('image/png', input);
    expect(output.equals(bytes(signature, ihdr, actl, idat, iend))).toBe(true);
  });

  it('replaces eXIf by an orientation-only eXIf with a valid CRC', async () => {
    const { output } = await strip('image/png', bytes(signature, ihdr, exif, idat, iend), 3);
    const orientationOnly = pngChunk('eXIf', bytes('MM\0*', [0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 3, 0, 0, 0, 0, 0, 0]));
    expect(output.equals(bytes(signature, ihdr, orientationOnly, idat, iend))).toBe(true);
  });

  it('keeps a PNG without metadata as it is', async () => {
    const { unchanged } = await strip('image/png', bytes(signature, ihdr, idat, iend));
    expect(unchanged).toBe(true);
  });

  it("walks megabytes of IDAT chunks, with headers across the reader's windows, to metadata at the end", async () => {
    // 8 KiB IDAT chunks as libpng writes them, an odd-sized one first so chunk headers do not
    // line up with the 1 MiB read windows; the text chunk sits past the third window.
    const idats = [pngChunk('IDAT', Buffer.alloc(1001, 1)), ...Array.from({ length: 400 }, () => pngChunk('IDAT', Buffer.alloc(8192, 2)))];
    const { output } = await strip('image/png', bytes(signature, ihdr, ...idats, text, iend));
    expect(output.equals(bytes(signature, ihdr, ...idats, iend))).toBe(true);
  });

  it('refuses broken structure', async () => {
    const tooLong = Buffer.from(idat);
    tooLong.writeUInt32BE(1000, 0);
    await expectCorrupt('image/png', bytes(signature, ihdr, tooLong, iend), /IDAT chunk runs past the end/);
    await expectCorrupt('image/png', bytes(signature, ihdr, idat), /missing IEND/);
    await expectCorrupt('image/png', bytes(signature, idat, ihdr, iend), /IHDR is not the first chunk/);
    // Four ASCII letters only: the characters either side of A-Z and a-z, a digit, Latin-1.
    for (const type of ['ID?T', 'ID@T', 'ID[T', 'ID`T', 'ID{T', 'ID4T', 'IDÁT']) {
      const badType = Buffer.from(idat);
      badType.write(type, 4, 'latin1');
      await expectCorrupt('image/png', bytes(signature, ihdr, badType, iend), /bad chunk type/);
    }
  });
});

describe('WebP', () => {
  const chunk = (fourCc: string, data: Buffer) => {
    const header = Buffer.alloc(8);
    header.write(fourCc, 0, 'latin1');
    header.writeUInt32LE(data.length, 4);
    return bytes(header, data, data.length % 2 ? [0] : []);
  };
  const riff = (...chunks: Buffer[]) => {
    const body = bytes('WEBP', ...chunks);
    const header = Buffer.alloc(8);
    header.write('RIFF', 0, 'latin1');
    header.writeUInt32LE(body.length, 4);
    return bytes(header, body);
  };
  const vp8x = (flags: number) => chunk('VP8X', bytes([flags, 0, 0, 0, 9, 0, 0, 9, 0, 0]));
  const bitstream = chunk('VP8L', bytes('lossless!')); // odd length: padded
  const exif = chunk('EXIF', bytes('MM\0*gps'));
  const xmp = chunk('XMP ', bytes('<x:xmpmeta/>'));
  const icc = chunk('ICCP', bytes('profile'));

  it('drops EXIF and XMP, clears their flags and rewrites the RIFF size', async () => {
    const { output } = await strip('image/webp', riff(vp8x(0x2c), icc, bitstream, exif, xmp));
    expect(output.equals(riff(vp8x(0x20), icc, bitstream))).toBe(true);
  });

  it('keeps a WebP without metadata as it is', async () => {
    expect((await strip('image/webp', riff(bitstream))).unchanged).toBe(true);
    expect((await strip('image/webp', riff(vp8x(0x20), icc, bitstream))).unchanged).toBe(true);
  });

  it('drops bytes after the RIFF payload', async () => {
    const { output } = await strip('image/webp', bytes(riff(bitstream), 'junk'));
    expect(output.equals(riff(bitstream))).toBe(true);
  });

  it('refuses broken structure', async () => {
    const input = riff(bitstream);
    await expectCorrupt('image/webp', input.subarray(0, input.length - 4), /RIFF size runs past the end/);
    const lying = riff(bitstream);
    lying.writeUInt32LE(200, 16);
    await expectCorrupt('image/webp', lying, /VP8L chunk runs past the RIFF size/);
  });
});

describe('GIF', () => {
  const header = bytes('GIF89a', [1, 0, 1, 0, 0x80, 0, 0], [0, 0, 0, 255, 255, 255]);
  const frame = bytes([0x2c, 0, 0, 0, 0, 1, 0, 1, 0, 0], [2], [2, 0x4c, 0x01], [0]);
  const graphicControl = bytes([0x21, 0xf9, 4, 0, 10, 0, 0, 0]);
  const loop = gifExtension(0xff, bytes([1, 0, 0]), bytes('NETSCAPE2.0'));
  const xmp = gifExtension(0xff, bytes('<x:xmpmeta/>'.repeat(40)), bytes('XMP DataXMP'));
  const comment = gifExtension(0xfe, bytes('made by Jane'));
  const trailer = bytes([0x3b]);

  it('drops comments and non-loop application extensions and bytes after the trailer', async () => {
    const input = bytes(header, loop, xmp, graphicControl, frame, comment, graphicControl, frame, trailer, 'junk');
    const { output } = await strip('image/gif', input);
    expect(output.equals(bytes(header, loop, graphicControl, frame, graphicControl, frame, trailer))).toBe(true);
  });

  it('accepts a GIF that ends between blocks without a trailer', async () => {
    const input = bytes(header, frame);
    expect((await strip('image/gif', input)).unchanged).toBe(true);
  });

  it('refuses a GIF cut inside its data', async () => {
    await expectCorrupt('image/gif', bytes(header, frame.subarray(0, 12)), /GIF data cut short/);
    await expectCorrupt('image/gif', bytes(header, [0x99]), /unknown GIF block/);
  });
});
