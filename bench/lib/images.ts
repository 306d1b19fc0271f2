import { crc32 } from 'node:zlib';
import sharp from 'sharp';

/** Image generation for the bench only: sharp is a dependency of the server, not used here otherwise. */

/**
 * Calls `render(scale)` and rescales until the output size is within `tolerance` of the target.
 * Random noise compresses at a near-constant rate per pixel, so scaling the linear size by
 * sqrt(target / actual) converges in two or three rounds.
 */
async function fitToSize(render: (scale: number) => Promise<Buffer>, targetBytes: number, tolerance: number): Promise<Buffer> {
  let scale = 1;
  let best: Buffer | undefined;
  for (let round = 0; round < 8; round += 1) {
    const image = await render(scale);
    if (!best || Math.abs(image.length - targetBytes) < Math.abs(best.length - targetBytes)) best = image;
    if (Math.abs(image.length - targetBytes) <= targetBytes * tolerance) return image;
    scale *= Math.sqrt(targetBytes / image.length);
  }
  return best!;
}

const noise = (width: number, height: number) =>
  sharp({
    create: {
      width: Math.max(16, Math.round(width)),
      height: Math.max(16, Math.round(height)),
      channels: 3,
      background: '#808080',
      noise: { type: 'gaussian', mean: 128, sigma: 60 },
    },
  });

/**
 * A JPEG of Gaussian noise (4:3), which JPEG cannot shrink much: about 0.8 byte per pixel at
 * quality 90, so its size stays what we asked for and serving it moves real bytes.
 */
export async function noiseJpeg(targetBytes: number, tolerance = 0.025): Promise<Buffer> {
  const side = Math.sqrt(targetBytes / 0.8 / 12); // initial guess: width 4 units, height 3 units
  return fitToSize(
    (scale) =>
      noise(4 * side * scale, 3 * side * scale)
        .jpeg({ quality: 90 })
        .toBuffer(),
    targetBytes,
    tolerance,
  );
}

const SCREEN_WIDTH = 2560;
const SCREEN_HEIGHT = 1440;

/** Flat panels, avatars and text-like bars in a chat client's colours: compresses like a real UI. */
function chatUiSvg(): string {
  const shapes: string[] = [
    `<rect width="100%" height="100%" fill="#313338"/>`,
    `<rect width="72" height="${SCREEN_HEIGHT}" fill="#1e1f22"/>`,
    `<rect x="72" width="240" height="${SCREEN_HEIGHT}" fill="#2b2d31"/>`,
  ];
  for (let y = 80; y < SCREEN_HEIGHT - 60; y += 34) {
    shapes.push(`<rect x="90" y="${y}" width="${120 + ((y * 37) % 100)}" height="14" rx="4" fill="#949ba4"/>`);
  }
  for (let y = 80; y < SCREEN_HEIGHT - 120; y += 64) {
    shapes.push(
      `<circle cx="360" cy="${y + 16}" r="20" fill="#5865f2"/>`,
      `<rect x="400" y="${y}" width="${300 + ((y * 53) % 900)}" height="12" rx="4" fill="#dbdee1"/>`,
      `<rect x="400" y="${y + 24}" width="${200 + ((y * 71) % 1100)}" height="12" rx="4" fill="#b5bac1"/>`,
    );
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${SCREEN_WIDTH}" height="${SCREEN_HEIGHT}">${shapes.join('')}</svg>`;
}

/**
 * A 2560x1440 RGB PNG that looks like a screenshot of a chat with a photo in it: flat UI
 * (cheap to compress) plus a noise "photo" whose area is tuned until the file hits the target.
 */
export async function screenshotPng(targetBytes: number, tolerance = 0.025): Promise<Buffer> {
  const ui = Buffer.from(chatUiSvg());
  return fitToSize(
    async (scale) => {
      const width = Math.min(SCREEN_WIDTH - 420, Math.round(1400 * scale));
      const height = Math.min(SCREEN_HEIGHT - 160, Math.round(900 * scale));
      const photo = await noise(width, height).png().toBuffer();
      return sharp(ui)
        .composite([{ input: photo, left: 400, top: 120 }])
        .removeAlpha()
        .png()
        .toBuffer();
    },
    targetBytes,
    tolerance,
  );
}

/**
 * The same JPEG with a COM segment carrying `tag` right after SOI: still the same picture,
 * but different bytes, so a content-addressed store cannot deduplicate repeated uploads.
 */
export function uniqueJpeg(jpeg: Buffer, tag: string): Buffer {
  const text = Buffer.from(tag, 'latin1');
  const segment = Buffer.alloc(4 + text.length);
  segment.writeUInt16BE(0xfffe, 0);
  segment.writeUInt16BE(2 + text.length, 2); // the length counts itself
  text.copy(segment, 4);
  return Buffer.concat([jpeg.subarray(0, 2), segment, jpeg.subarray(2)]);
}

function pngChunk(type: string, data: Buffer): Buffer {
  const chunk = Buffer.alloc(12 + data.length);
  chunk.writeUInt32BE(data.length, 0);
  chunk.write(type, 4, 'latin1');
  data.copy(chunk, 8);
  chunk.writeUInt32BE(crc32(chunk.subarray(4, 8 + data.length)), 8 + data.length);
  return chunk;
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const PNG_HEADER_END = 8 + 25; // signature, then the 25-byte IHDR chunk

/** Signature plus a valid IHDR: enough for a type sniffer to call the stream a PNG. */
export function pngHeader(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.writeUInt8(8, 8); // bit depth
  ihdr.writeUInt8(2, 9); // colour type: RGB
  return Buffer.concat([PNG_SIGNATURE, pngChunk('IHDR', ihdr)]);
}

/**
 * The same JPEG with different stored bytes, for benchmarks of work keyed by content: the
 * service strips COM segments at upload, so uniqueJpeg variants are stored identically. A
 * JFIF APP0 segment, which the service keeps, carries `n` (1 to 65535) as its (square) pixel
 * density: decoders ignore it, so the picture and the work to decode it do not change. For
 * JPEGs without a JFIF segment of their own, as sharp writes them.
 */
export function storedUniqueJpeg(jpeg: Buffer, n: number): Buffer {
  const app0 = Buffer.from([0xff, 0xe0, 0, 16, ...Buffer.from('JFIF\0', 'latin1'), 1, 1, 0, 0, 0, 0, 0, 0, 0]); // v1.01, no units
  app0.writeUInt16BE(n, 12); // X density
  app0.writeUInt16BE(n, 14); // Y density
  return Buffer.concat([jpeg.subarray(0, 2), app0, jpeg.subarray(2)]);
}

/**
 * The PNG counterpart of storedUniqueJpeg: the pHYs chunk (kept by the service; sharp writes
 * one) says `n` pixels per metre both ways, so only the resolution a viewer may print at changes.
 */
export function storedUniquePng(png: Buffer, n: number): Buffer {
  const data = Buffer.alloc(9);
  data.writeUInt32BE(n, 0);
  data.writeUInt32BE(n, 4);
  data.writeUInt8(1, 8); // unit: metre
  const chunks: Buffer[] = [png.subarray(0, PNG_HEADER_END), pngChunk('pHYs', data)];
  for (let at = PNG_HEADER_END; at < png.length;) {
    const end = at + 12 + png.readUInt32BE(at);
    if (png.toString('latin1', at + 4, at + 8) !== 'pHYs') chunks.push(png.subarray(at, end));
    at = end;
  }
  return Buffer.concat(chunks);
}
