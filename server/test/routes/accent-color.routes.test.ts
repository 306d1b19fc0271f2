/**
 * The embed's accent colour (`theme-color`) through the real upload path: screenshots drawn
 * with sharp, uploaded, and the share page read back. The database plays no part in the
 * choice, so one dialect is enough.
 */
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { EMBED_BACKGROUNDS, FALLBACK_ACCENT } from '../../src/domain/accent-color.js';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { multipart } from '../helpers/multipart.js';

const W = 1280;
const H = 720;
const rect = (x: number, y: number, w: number, h: number, fill: string, rx = 0) =>
  `<rect x="${x}" y="${y}" width="${w}" height="${h}" rx="${rx}" fill="${fill}"/>`;
/** Lines of "text": thin bars in the given colours. */
const textLines = (x: number, y: number, count: number, colours: string[]) =>
  Array.from({ length: count }, (_, i) => rect(x, y + i * 28, 300 + ((i * 137) % 500), 10, colours[i % colours.length]!)).join('');
const png = (content: string, background: string) =>
  sharp(Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}">${rect(0, 0, W, H, background)}${content}</svg>`))
    .png()
    .toBuffer();

/** Discord in dark mode: server list, channel list, chat; grey text, a green button and a small pink avatar (under 1% of the image). */
const darkScreenshot = () =>
  png(
    rect(0, 0, 72, H, '#1e1f22') +
      rect(72, 0, 240, H, EMBED_BACKGROUNDS.dark) +
      rect(312, 0, W - 312, H, '#313338') +
      textLines(340, 40, 18, ['#dbdee1', '#949ba4']) +
      rect(340, 560, 360, 100, '#23a55a', 8) +
      `<circle cx="1180" cy="80" r="36" fill="#eb459e"/>`,
    EMBED_BACKGROUNDS.dark,
  );
/** Discord in light mode: white chat, #f2f3f5 channel list, dark grey text, a red button. */
const lightScreenshot = () =>
  png(
    rect(0, 0, 72, H, '#e3e5e8') +
      rect(72, 0, 240, H, EMBED_BACKGROUNDS.light) +
      textLines(340, 40, 18, ['#313338', '#5c5e66']) +
      rect(340, 560, 360, 100, '#f23f43', 8),
    '#ffffff',
  );
/** A strong colour all over: it is both the most common colour and one that stands out. */
const strongColour = () => png(rect(100, 100, 400, 300, '#ffffff', 12) + textLines(600, 120, 10, ['#ffffff']), '#3366cc');
/** Nothing but greys, black and white. */
const allGrey = () =>
  png(rect(0, 0, W / 2, H, '#808080') + rect(100, 100, 300, 300, '#000000') + textLines(700, 60, 20, ['#ffffff', '#c0c0c0']), '#404040');

/** Channel-by-channel distance: sampling mixes edge pixels into a flat colour's bin a little. */
const near = (actual: string, expected: string) => {
  const channels = (hex: string) => [1, 3, 5].map((i) => Number.parseInt(hex.slice(i, i + 2), 16));
  const [a, e] = [channels(actual), channels(expected)];
  return a.every((value, i) => Math.abs(value - e[i]!) <= 12);
};

describe('the accent colour of an embed', () => {
  let t: TestApp;
  let admin: { token: string };
  beforeAll(async () => {
    t = await createTestApp('sqlite');
    admin = await t.newUser(); // the first user is the admin
  });

  const themeColor = async (token: string, image: Buffer, fields?: Record<string, string>) => {
    const body = await multipart([{ filename: 'screenshot.png', data: image }], fields);
    const created = await t.app.inject({ method: 'POST', url: '/api/upload', headers: { ...body.headers, token }, payload: body.payload });
    expect(created.statusCode, created.body).toBe(201);
    const page = await t.app.inject({ method: 'GET', url: `/${created.json().files[0].id}` });
    const color = /<meta name="theme-color" content="(#[0-9a-f]{6})">/.exec(page.body)?.[1];
    expect(page.body).toContain(`<div class="accent" style="background:${color}">`);
    return color!;
  };

  it.each([
    { label: 'a dark-mode screenshot: its green button, not the background', image: darkScreenshot, expected: '#23a55a' },
    { label: 'a light-mode screenshot: its red button, not white or the light background', image: lightScreenshot, expected: '#f23f43' },
    { label: 'an image of one strong colour: that colour', image: strongColour, expected: '#3366cc' },
  ])('$label', async ({ image, expected }) => {
    const { token } = await t.newUser();
    const color = await themeColor(token, await image());
    expect(near(color, expected), `${color} should be about ${expected}`).toBe(true);
  });

  it('an all-grey image gets the configured colour: the uploader’s, the server’s, else blurple', async () => {
    const grey = await allGrey();
    const user = await t.newUser();
    expect(await themeColor(user.token, grey)).toBe(FALLBACK_ACCENT);
    // A flat Discord background: what an upload recorded before accent colours may carry.
    expect(await themeColor(user.token, await png('', EMBED_BACKGROUNDS.dark))).toBe(FALLBACK_ACCENT);

    const patch = (token: string, payload: object, url = '/api/me/embed') =>
      t.app
        .inject({ method: 'PATCH', url, headers: { token }, payload })
        .then((answer) => expect(answer.statusCode, answer.body).toBe(200));
    await patch(admin.token, { color: '#eb459e' }, '/api/admin/embed');
    try {
      // The uploader asks for the image's colour; where it has none, the server's colour shows.
      await patch(user.token, { color: 'auto' });
      expect(await themeColor(user.token, grey)).toBe('#eb459e');
      expect(near(await themeColor(user.token, await darkScreenshot()), '#23a55a')).toBe(true);
      // An upload asks for auto over its uploader's own fixed colour: that colour is the fallback.
      await patch(user.token, { color: '#57f287' });
      expect(await themeColor(user.token, grey, { embed_color: 'auto' })).toBe('#57f287');
    } finally {
      await patch(admin.token, { color: null }, '/api/admin/embed');
    }
  });
});
