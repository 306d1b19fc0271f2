import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { makeJpegWithPrivateMetadata, makePngBomb, PRIVATE_COMMENT, readExifTags } from '../helpers/images.js';
import { multipart } from '../helpers/multipart.js';
import { tempDir } from '../helpers/temp-dir.js';

describe('what an upload keeps and what it drops, through the API', () => {
  let t: TestApp;
  let token: string;
  let dir: string;
  beforeAll(async () => {
    t = await createTestApp('sqlite', { MAX_PIXELS: '50000000' });
    ({ token } = await t.newUser());
    dir = await tempDir();
  });

  const upload = async (filename: string, data: Buffer) => {
    const body = await multipart([{ filename, data }]);
    return t.app.inject({ method: 'POST', url: '/api/upload', headers: { ...body.headers, token }, payload: body.payload });
  };

  it('removes GPS, serials, XMP and comments from a phone JPEG but keeps orientation, colour profile and pixels', async () => {
    const path = join(dir, 'phone.jpg');
    await makeJpegWithPrivateMetadata(path, { width: 300, height: 200, orientation: 6 });
    const original = await readFile(path);
    const response = await upload('phone.jpg', original);
    expect(response.statusCode).toBe(201);
    const file = response.json().files[0];
    // Displayed upright: orientation 6 turns 300x200 into 200x300.
    expect([file.width, file.height]).toEqual([200, 300]);

    const stored = (await t.app.inject({ method: 'GET', url: `/i/${file.id}.jpg` })).rawPayload;
    expect(stored.length).toBe(file.size);
    expect(stored.length).toBeLessThan(original.length);
    const meta = await sharp(stored).metadata();
    expect(meta.orientation).toBe(6);
    expect(meta.icc).toBeDefined();
    expect(meta.xmp).toBeUndefined();
    const tags = readExifTags(meta.exif!);
    expect(tags.gps).toEqual([]);
    expect(tags.exif).toEqual([]);
    expect(tags.ifd0).toEqual([0x0112]);
    for (const secret of ['Jane Doe', 'SERIAL-123456789', 'Canon', PRIVATE_COMMENT]) {
      expect(stored.includes(Buffer.from(secret, 'latin1')), secret).toBe(false);
    }
    const [before, after] = await Promise.all([sharp(original).raw().toBuffer(), sharp(stored).raw().toBuffer()]);
    expect(after.equals(before)).toBe(true);
  });

  it('refuses a decompression bomb from its header, fast', async () => {
    const path = join(dir, 'bomb.png');
    await makePngBomb(path, 60_000, 60_000);
    const started = performance.now();
    const response = await upload('bomb.png', await readFile(path));
    expect(performance.now() - started).toBeLessThan(1000);
    expect(response.statusCode).toBe(413);
    expect(response.json()).toMatchObject({
      code: 'IMAGE_TOO_LARGE',
      message: 'files[0] (bomb.png) is 60000x60000 pixels, over the limit of 50000000 pixels',
    });
  });
});
