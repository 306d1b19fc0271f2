/**
 * Uploading over HTTP as clients do, with multipart bodies built by hand: FormData percent-
 * escapes quotes in file names, and the share page tests need names with quotes, markup and
 * emoji to reach the server exactly as typed.
 */
import { randomBytes } from 'node:crypto';
import sharp from 'sharp';
import type { UploadView } from '../../server/src/services/upload-links.js';

/** The upload object of SPEC.md, as the server types it. */
export type Upload = UploadView;

export type Part = { field: string; value: string } | { file: string; bytes: Buffer; field?: string };

/** A multipart/form-data body; file names are quoted strings with `\` escapes (RFC 2616). */
export function multipart(parts: Part[]): { body: Buffer; contentType: string } {
  const boundary = `----e2e${randomBytes(12).toString('hex')}`;
  const chunks: Buffer[] = [];
  const quote = (text: string) => `"${text.replace(/[\\"]/g, (char) => `\\${char}`)}"`;
  for (const part of parts) {
    if ('value' in part) {
      chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name=${quote(part.field)}\r\n\r\n${part.value}\r\n`));
    } else {
      chunks.push(
        Buffer.from(
          `--${boundary}\r\nContent-Disposition: form-data; name=${quote(part.field ?? 'files[]')}; filename=${quote(part.file)}\r\nContent-Type: application/octet-stream\r\n\r\n`,
        ),
        part.bytes,
        Buffer.from('\r\n'),
      );
    }
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(chunks), contentType: `multipart/form-data; boundary=${boundary}` };
}

/** HTTP header values are bytes: UTF-8 text travels as its bytes, the way ShareX sends it. */
export const utf8Header = (text: string): string => Buffer.from(text, 'utf8').toString('latin1');

export async function postUpload(
  baseUrl: string,
  token: string,
  parts: Part[],
  headers: Record<string, string> = {},
  signal?: AbortSignal,
): Promise<Response> {
  const { body, contentType } = multipart(parts);
  return fetch(`${baseUrl}/api/upload`, {
    method: 'POST',
    headers: { ...headers, token, 'content-type': contentType },
    body: new Uint8Array(body),
    signal,
  });
}

/** Uploads and insists on 201. */
export async function upload(baseUrl: string, token: string, parts: Part[], headers: Record<string, string> = {}): Promise<Upload[]> {
  const response = await postUpload(baseUrl, token, parts, headers);
  const text = await response.text();
  if (response.status !== 201) throw new Error(`upload: ${response.status} ${text}`);
  return (JSON.parse(text) as { files: Upload[] }).files;
}

export async function listUploads(baseUrl: string, token: string): Promise<Upload[]> {
  return (await (await fetch(`${baseUrl}/api/uploads?limit=1000`, { headers: { token } })).json()) as Upload[];
}

type Rgb = readonly [number, number, number];

/** A flat-colour image with a smaller block of a second colour: the first is clearly dominant. */
function twoColourPixels(width: number, height: number, background: Rgb, block: Rgb): Buffer {
  const pixels = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const inBlock = x >= width / 4 && x < width / 2 && y >= height / 4 && y < height / 2;
      pixels.set(inBlock ? block : background, (y * width + x) * 3);
    }
  }
  return pixels;
}

export const pngImage = (width: number, height: number, background: Rgb, block: Rgb = [255, 255, 255]): Promise<Buffer> =>
  sharp(twoColourPixels(width, height, background, block), { raw: { width, height, channels: 3 } })
    .png()
    .toBuffer();

/** A flat JPEG: every 8×8 block is uniform, so its decoded pixels are exactly one colour. */
export const jpegImage = (width: number, height: number, colour: string): Promise<Buffer> =>
  sharp({ create: { width, height, channels: 3, background: colour } })
    .jpeg({ quality: 90 })
    .toBuffer();

/** An animated GIF, one flat colour per frame. */
export async function animatedGif(width: number, height: number, frames: Rgb[]): Promise<Buffer> {
  const pixels = Buffer.alloc(width * height * 3 * frames.length);
  frames.forEach((colour, frame) => {
    for (let i = 0; i < width * height; i++) pixels.set(colour, (frame * width * height + i) * 3);
  });
  return sharp(pixels, { raw: { width, height: height * frames.length, channels: 3, pageHeight: height } })
    .gif({ loop: 0, delay: frames.map(() => 200) })
    .toBuffer();
}

/**
 * The most common exact colour of an image's first frame, decoded independently of the
 * server, as #rrggbb. For the test images (one colour covering most of the frame) this is the
 * dominant colour whatever binning the server uses.
 */
export async function mostCommonColour(bytes: Buffer): Promise<string> {
  const { data, info } = await sharp(bytes, { page: 0 }).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const counts = new Map<number, number>();
  for (let i = 0; i + 2 < data.length; i += info.channels) {
    const key = (data[i]! << 16) | (data[i + 1]! << 8) | data[i + 2]!;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const [best] = [...counts.entries()].reduce((a, b) => (b[1] > a[1] ? b : a));
  return `#${best.toString(16).padStart(6, '0')}`;
}
