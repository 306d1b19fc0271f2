import sharp from 'sharp';

/** Deterministic noisy pixels, so encoders cannot shrink fixtures to nothing. */
function noise(width: number, height: number, seed = 1): Buffer {
  const pixels = Buffer.alloc(width * height * 3);
  let state = seed;
  for (let i = 0; i < pixels.length; i++) {
    state = (state * 1103515245 + 12345) >>> 0;
    pixels[i] = state >>> 24;
  }
  return pixels;
}

export const png = (width = 64, height = 48, seed = 1): Promise<Buffer> =>
  sharp(noise(width, height, seed), { raw: { width, height, channels: 3 } })
    .png()
    .toBuffer();

export const jpeg = (width = 64, height = 48, seed = 1): Promise<Buffer> =>
  sharp(noise(width, height, seed), { raw: { width, height, channels: 3 } })
    .jpeg({ quality: 90 })
    .toBuffer();

export const solidPng = (width: number, height: number, color: string): Promise<Buffer> =>
  sharp({ create: { width, height, channels: 3, background: color } })
    .png()
    .toBuffer();
