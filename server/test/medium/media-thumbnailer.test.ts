import { randomUUID } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../src/domain/errors.js';
import { thumbnailSize } from '../../src/domain/thumbnail-size.js';
import { Semaphore } from '../../src/media/semaphore.js';
import { isWholeWebp, type Thumbnail, Thumbnailer } from '../../src/media/thumbnailer.js';
import {
  makeAnimatedGifWithMetadata,
  makeJpeg,
  makeJpegWithPrivateMetadata,
  makePng,
  makeWebpWithMetadata,
  sha256,
} from '../helpers/images.js';
import { tempDir } from '../helpers/temp-dir.js';

const thumbnailer = new Thumbnailer({ maxPixels: 100_000_000 });
let dir: string;

beforeAll(async () => {
  dir = await tempDir('di-thumbnailer-');
});

const fresh = (name: string) => join(dir, `${randomUUID()}-${name}`);

/** Renders `input` and checks the result describes its bytes. */
async function render(input: string, using = thumbnailer): Promise<{ thumbnail: Thumbnail; bytes: Buffer }> {
  const thumbnail = await using.render(input);
  const bytes = thumbnail.data;
  expect(thumbnail.size).toBe(bytes.length);
  expect(thumbnail.sha256).toBe(sha256(bytes));
  expect(isWholeWebp(bytes, bytes.length)).toBe(true);
  return { thumbnail, bytes };
}

/** The RGB of one pixel of an encoded image. */
async function pixel(bytes: Buffer, x: number, y: number): Promise<number[]> {
  const { data, info } = await sharp(bytes).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const at = (y * info.width + x) * info.channels;
  return [...data.subarray(at, at + 3)];
}

describe('Thumbnailer', () => {
  it.each([
    ['a landscape image', 1200, 600, 400, 200],
    ['a portrait image', 300, 900, 133, 400],
    ['a square image', 1000, 1000, 400, 400],
    ['a smaller image, never enlarged', 120, 50, 120, 50],
  ])('fits %s in the 400 px box, keeping its aspect', async (_name, width, height, expectedWidth, expectedHeight) => {
    const input = fresh('in.png');
    await makePng(input, { width, height });
    const { thumbnail, bytes } = await render(input);
    expect([thumbnail.width, thumbnail.height]).toEqual([expectedWidth, expectedHeight]);
    const metadata = await sharp(bytes).metadata();
    expect([metadata.width, metadata.height]).toEqual([expectedWidth, expectedHeight]);
  });

  it('makes exactly the size that oEmbed announces (domain/thumbnail-size.ts)', async () => {
    for (const [width, height] of [
      [1201, 799],
      [401, 3],
      [3, 401],
      [1919, 1081],
      [999, 333],
      [641, 479],
      [4097, 77],
      [400, 400],
    ] as const) {
      const input = fresh('in.png');
      await makePng(input, { width, height, color: '#808080' });
      const { thumbnail } = await render(input);
      const announced = thumbnailSize(width, height);
      expect([width, height, thumbnail.width, thumbnail.height]).toEqual([width, height, announced.width, announced.height]);
    }
  });

  it('writes WebP, whatever the input, without any metadata', async () => {
    const input = fresh('in.jpg');
    await makeJpegWithPrivateMetadata(input, { width: 200, height: 100, orientation: 1 });
    const { bytes } = await render(input);
    expect(bytes.toString('latin1', 0, 4)).toBe('RIFF');
    expect(bytes.toString('latin1', 8, 12)).toBe('WEBP');
    const metadata = await sharp(bytes).metadata();
    expect(metadata.format).toBe('webp');
    expect(metadata.exif).toBeUndefined();
    expect(metadata.xmp).toBeUndefined();
    expect(metadata.icc).toBeUndefined();
  });

  it('takes a smaller box', async () => {
    const input = fresh('in.jpg');
    await makeJpeg(input, { width: 640, height: 480 });
    const { thumbnail } = await render(input, new Thumbnailer({ maxPixels: 1_000_000, box: 64 }));
    expect([thumbnail.width, thumbnail.height]).toEqual([64, 48]);
  });

  it('applies EXIF orientation 6: a 1200x800 sensor image is shown 800x1200, turned clockwise', async () => {
    const input = fresh('rotated.jpg');
    await makeJpegWithPrivateMetadata(input, { width: 1200, height: 800, orientation: 6 });
    const { thumbnail, bytes } = await render(input);
    expect([thumbnail.width, thumbnail.height]).toEqual([267, 400]);
    expect((await sharp(bytes).metadata()).orientation).toBeUndefined();
    // The fixture's green grows with the sensor's y and red with its x. Turned clockwise,
    // the sensor's bottom-left corner (green, no red) is shown top-left.
    const [red, green] = await pixel(bytes, 2, 2);
    expect(green).toBeGreaterThan(200);
    expect(red).toBeLessThan(60);
  });

  it('renders the first frame of an animated GIF', async () => {
    const input = fresh('anim.gif');
    await makeAnimatedGifWithMetadata(input, { width: 40, height: 30, frames: 3 });
    const { thumbnail, bytes } = await render(input);
    expect([thumbnail.width, thumbnail.height]).toEqual([40, 30]);
    const metadata = await sharp(bytes).metadata();
    expect(metadata.pages ?? 1).toBe(1);
    expect([metadata.width, metadata.height]).toEqual([40, 30]);
    const [red, green, blue] = await pixel(bytes, 20, 15);
    expect(red).toBeGreaterThan(200); // frame 1 is red, frames 2 and 3 green and blue
    expect(green).toBeLessThan(50);
    expect(blue).toBeLessThan(50);
  });

  it('renders the first frame of an animated WebP', async () => {
    const input = fresh('anim.webp');
    await makeWebpWithMetadata(input, { width: 40, height: 30, frames: 3 });
    const { thumbnail, bytes } = await render(input);
    expect([thumbnail.width, thumbnail.height]).toEqual([40, 30]);
    expect((await sharp(bytes).metadata()).pages ?? 1).toBe(1);
    const [red, green] = await pixel(bytes, 20, 15);
    expect(red).toBeGreaterThan(200);
    expect(green).toBeLessThan(50);
  });

  it('refuses an input over maxPixels from its header', async () => {
    const input = fresh('big.png');
    await makePng(input, { width: 200, height: 100 });
    const error: unknown = await new Thumbnailer({ maxPixels: 19_999 }).render(input).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(AppError);
    expect(error).toMatchObject({ code: 'IMAGE_TOO_LARGE', statusCode: 413 });
    // Exactly at the limit is fine.
    await expect(new Thumbnailer({ maxPixels: 20_000 }).render(input)).resolves.toMatchObject({ width: 200 });
  });

  it('refuses bytes that do not decode, without a path in the message', async () => {
    const input = fresh('garbage.png');
    await writeFile(input, Buffer.from('this is not an image at all'));
    const error: unknown = await thumbnailer.render(input).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'CORRUPT_IMAGE' });
    expect((error as Error).message).not.toContain(dir);
  });

  it('tells a whole WebP from one cut short, empty or of another type', async () => {
    const input = fresh('in.png');
    await makePng(input, { width: 300, height: 200 });
    const { bytes } = await render(input);
    expect(isWholeWebp(bytes, bytes.length)).toBe(true);
    expect(isWholeWebp(bytes.subarray(0, bytes.length - 1), bytes.length - 1)).toBe(false);
    expect(isWholeWebp(bytes.subarray(0, 12), 12)).toBe(false);
    expect(isWholeWebp(Buffer.alloc(0), 0)).toBe(false);
    expect(isWholeWebp(Buffer.alloc(bytes.length), bytes.length)).toBe(false);
    const png = await readFile(input);
    expect(isWholeWebp(png, png.length)).toBe(false);
  });

  it('waits for a slot of a semaphore it shares with other sharp work', async () => {
    const slots = new Semaphore(1);
    const shared = new Thumbnailer({ maxPixels: 1_000_000, semaphore: slots });
    const input = fresh('in.png');
    await makePng(input, { width: 80, height: 60 });
    let release!: () => void;
    const occupied = slots.run(() => new Promise<void>((resolve) => (release = resolve)));
    // Watched at the semaphore rather than slept on: the render must ask the shared
    // semaphore for a slot, and its work must not begin before the slot is free.
    const asks: Array<{ started: boolean }> = [];
    const run = slots.run.bind(slots);
    slots.run = <T>(task: () => Promise<T>) => {
      const ask = { started: false };
      asks.push(ask);
      return run(() => {
        ask.started = true;
        return task();
      });
    };
    const rendering = shared.render(input);
    // A free slot is handed over within microtasks, so a turn of the event loop is enough.
    await new Promise((resolve) => setImmediate(resolve));
    expect(asks).toEqual([{ started: false }]);
    release();
    await occupied;
    await expect(rendering).resolves.toMatchObject({ width: 80, height: 60 });
    expect(asks).toEqual([{ started: true }]);
  });
});
