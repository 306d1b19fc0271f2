/**
 * Share pages as Discord sees them: the real server on a real port, real uploads over HTTP,
 * the page fetched with Discord's crawler user agent and a browser's, read by an independent
 * unfurler (unfurl.js, which follows oEmbed discovery) and checked against Discord's rules.
 */
import { createHash } from 'node:crypto';
import { DomUtils, parseDocument } from 'htmlparser2';
import sharp from 'sharp';
import { unfurl } from 'unfurl.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../server/test/helpers/temp-dir.js';
import { CHROME_UA, DISCORDBOT_UA, fetchLikeDiscord } from './helpers/discord-client.js';
import { checkDiscordEmbed, DISCORD_LIMITS, firstValue, isOEmbedLink, lastValue, pageTags, type PageTag } from './helpers/discord-rules.js';
import { register, type RunningServer, startServer } from './helpers/server.js';
import {
  animatedGif,
  jpegImage,
  listUploads,
  mostCommonColour,
  type Part,
  pngImage,
  postUpload,
  upload,
  type Upload,
  utf8Header,
} from './helpers/uploads.js';

type OEmbedJson = Record<string, unknown>;

interface SharePage {
  html: string;
  headers: Headers;
  tags: PageTag[];
  oembed: OEmbedJson | undefined;
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const utf8Bytes = (text: string) => Buffer.byteLength(text, 'utf8');
/** A lone surrogate means a string was cut inside a character. */
const hasBrokenCharacter = (text: string) =>
  text.includes('\uFFFD') || /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(text);
const COPY_SCRIPT_START = "document.querySelectorAll('[data-copy]')";

/** Every element with its attribute names, in order: what user text must never change. */
function domShape(html: string): string[] {
  return DomUtils.findAll(() => true, parseDocument(html).children).map(
    (element) => `${element.name}[${Object.keys(element.attribs).sort().join(' ')}]`,
  );
}

function elements(html: string, name: string) {
  return DomUtils.getElementsByTagName(name, parseDocument(html));
}

const unfurlAsDiscord = (url: string) =>
  unfurl(url, { oembed: true, follow: 5, timeout: 10_000, headers: { 'user-agent': DISCORDBOT_UA, accept: 'text/html' } });

describe('share pages, as Discord unfurls them', () => {
  let server: RunningServer;
  const tokens: Record<string, string> = {};

  beforeAll(async () => {
    server = await startServer({ DATA_DIR: await tempDir() });
    // The first user is the admin; every describe below gets its own user, so settings never leak between them.
    for (const name of ['alice', 'bob', 'carol', 'mallory', 'dave']) tokens[name] = await register(server.url, name);
  });
  afterAll(async () => {
    await server?.stop('SIGKILL');
  });

  const api = (user: string, path: string, init: RequestInit = {}) =>
    fetch(`${server.url}${path}`, {
      ...init,
      headers: { token: tokens[user]!, ...(init.body === undefined ? {} : { 'content-type': 'application/json' }) },
    });
  const patchEmbed = (user: string, body: object) => api(user, '/api/me/embed', { method: 'PATCH', body: JSON.stringify(body) });

  /**
   * Fetches a share page as Discord would and as a browser would (the two must be the same
   * bytes), then its oEmbed JSON through the discovery link, as Discord's crawler again.
   */
  async function fetchSharePage(upload: Upload): Promise<SharePage> {
    const discord = await fetchLikeDiscord(upload.url);
    const browser = await fetchLikeDiscord(upload.url, CHROME_UA);
    expect(discord.response.status).toBe(200);
    expect(discord.redirects).toBe(0);
    expect(discord.elapsedMs).toBeLessThan(10_000);
    expect(browser.response.status).toBe(200);
    expect(browser.body.equals(discord.body), 'the crawler and a browser get byte-identical pages').toBe(true);
    expect(discord.response.headers.get('vary') ?? '', 'no user-agent sniffing for caches to remember').not.toMatch(/user-agent/i);
    const html = discord.body.toString('utf8');
    const tags = pageTags(html);
    const link = tags.find(isOEmbedLink);
    let oembed: OEmbedJson | undefined;
    if (link) {
      const response = await fetch(link.value, { headers: { 'user-agent': DISCORDBOT_UA } });
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^application\/json\b/);
      oembed = (await response.json()) as OEmbedJson;
    }
    return { html, headers: discord.response.headers, tags, oembed };
  }

  /** A page that must be a full, valid embed. */
  async function validSharePage(upload: Upload): Promise<SharePage> {
    const page = await fetchSharePage(upload);
    expect(checkDiscordEmbed(page.html, page.headers, page.oembed)).toEqual([]);
    expect(page.oembed, 'a full embed has oEmbed').toBeDefined();
    return page;
  }

  describe('PNG, JPEG and animated GIF', () => {
    const cases = [
      { kind: 'PNG', name: 'sunset.png', mime: 'image/png', width: 640, height: 360, make: () => pngImage(640, 360, [0x3a, 0x7b, 0xd5]) },
      { kind: 'JPEG', name: 'photo.jpg', mime: 'image/jpeg', width: 800, height: 600, make: () => jpegImage(800, 600, '#e67e22') },
      {
        kind: 'animated GIF',
        name: 'party.gif',
        mime: 'image/gif',
        width: 120,
        height: 90,
        make: () =>
          animatedGif(120, 90, [
            [233, 30, 99],
            [33, 150, 243],
            [76, 175, 80],
          ]),
      },
    ];

    it.each(cases)(
      '$kind: the unfurl shows the name, the image at its size, its dominant colour and the uploader',
      async ({ name, mime, width, height, make }) => {
        const bytes = await make();
        const [uploaded] = await upload(server.url, tokens.alice!, [{ file: name, bytes }]);
        expect(uploaded).toMatchObject({ name, mime, width, height });
        const page = await validSharePage(uploaded!);
        const dominant = await mostCommonColour(bytes);

        const seen = await unfurlAsDiscord(uploaded!.url);
        expect(seen.open_graph.title).toBe(name);
        expect(seen.open_graph.site_name).toBe('Discord Images');
        expect(seen.open_graph.images).toEqual([expect.objectContaining({ url: uploaded!.raw_url, type: mime, width, height })]);
        expect(seen.twitter_card.card).toBe('summary_large_image');
        expect(seen.theme_color).toBe(dominant);
        expect(lastValue(page.tags, 'theme-color')).toBe(dominant);
        expect(seen.oEmbed).toMatchObject({ author_name: 'alice', provider_name: 'Discord Images', provider_url: server.url });

        // Discord's image proxy looks like a browser; the bytes must not depend on who asks.
        const asBrowser = await fetch(uploaded!.raw_url, { headers: { 'user-agent': CHROME_UA } });
        const asDiscord = await fetch(uploaded!.raw_url, { headers: { 'user-agent': DISCORDBOT_UA } });
        expect([asBrowser.status, asDiscord.status]).toEqual([200, 200]);
        expect(asBrowser.headers.get('content-type')).toBe(mime);
        expect(asDiscord.headers.get('content-type')).toBe(mime);
        expect(asDiscord.headers.get('vary') ?? '').not.toMatch(/user-agent/i);
        const browserBytes = Buffer.from(await asBrowser.arrayBuffer());
        expect(browserBytes.equals(Buffer.from(await asDiscord.arrayBuffer()))).toBe(true);
        expect(sha256(browserBytes)).toBe(uploaded!.sha256);
        if (mime === 'image/gif') expect((await sharp(browserBytes).metadata()).pages, 'the GIF is still animated').toBe(3);

        // oEmbed's thumbnail facts are the real thumbnail's.
        const thumbnail = await fetch(page.oembed!.thumbnail_url as string, { headers: { 'user-agent': DISCORDBOT_UA } });
        expect(thumbnail.status).toBe(200);
        expect(thumbnail.headers.get('content-type')).toBe('image/webp');
        const thumbMeta = await sharp(Buffer.from(await thumbnail.arrayBuffer())).metadata();
        expect({ width: page.oembed!.thumbnail_width, height: page.oembed!.thumbnail_height }).toEqual({
          width: thumbMeta.width,
          height: thumbMeta.height,
        });
      },
    );

    it('sends the page inline as HTML, with the image facts right after og:image', async () => {
      const [uploaded] = await upload(server.url, tokens.alice!, [{ file: 'inline.png', bytes: await pngImage(64, 48, [10, 20, 30]) }]);
      const { response } = await fetchLikeDiscord(uploaded!.url);
      expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(response.headers.get('content-disposition')).toBeNull();
      // og:image:type/width/height sit right after og:image, so Discord lays the image out without fetching it.
      const keys = (await validSharePage(uploaded!)).tags.map((tag) => tag.key);
      const at = keys.indexOf('og:image');
      expect(keys.slice(at, at + 4)).toEqual(['og:image', 'og:image:type', 'og:image:width', 'og:image:height']);
    });
  });

  describe('embed settings (PATCH /api/me/embed)', () => {
    it('templates and colour change the unfurl, for uploads made before the change too', async () => {
      const [uploaded] = await upload(server.url, tokens.bob!, [{ file: 'cat.png', bytes: await pngImage(300, 200, [200, 120, 40]) }]);
      const patched = await patchEmbed('bob', {
        title: '{file.name} by {user.name}',
        color: '#5865f2',
        description: 'Uploaded by {user.name} · {file.width}×{file.height}',
      });
      expect(patched.status).toBe(200);
      expect((await patched.json()).effective).toMatchObject({ title: '{file.name} by {user.name}', color: '#5865f2' });

      const page = await validSharePage(uploaded!);
      expect(firstValue(page.tags, 'og:title')).toBe('cat.png by bob');
      const seen = await unfurlAsDiscord(uploaded!.url);
      expect(seen.open_graph.title).toBe('cat.png by bob');
      expect(seen.open_graph.description).toBe('Uploaded by bob · 300×200');
      expect(seen.theme_color).toBe('#5865f2');
      expect(seen.oEmbed).toMatchObject({ title: 'cat.png by bob', author_name: 'bob' });

      // Another user's pages are untouched.
      const [other] = await upload(server.url, tokens.alice!, [{ file: 'dog.png', bytes: await pngImage(40, 30, [1, 2, 3]) }]);
      expect(firstValue((await validSharePage(other!)).tags, 'og:title')).toBe('dog.png');
    });

    it('enabled:false leaves only the image tags: no text, colour or oEmbed', async () => {
      const [uploaded] = await upload(server.url, tokens.bob!, [{ file: 'bare.png', bytes: await pngImage(320, 240, [90, 30, 160]) }]);
      expect((await patchEmbed('bob', { enabled: false })).status).toBe(200);

      const page = await fetchSharePage(uploaded!);
      expect(checkDiscordEmbed(page.html, page.headers, undefined, { embeds: false })).toEqual([]);
      const embedKeys = page.tags
        .filter((tag) => tag.key.startsWith('og:') || tag.key.startsWith('twitter:') || tag.key === 'theme-color' || isOEmbedLink(tag))
        .map((tag) => tag.key);
      expect(embedKeys).toEqual(['og:image', 'og:image:type', 'og:image:width', 'og:image:height', 'og:image:alt', 'twitter:card']);
      expect(page.tags.some(isOEmbedLink)).toBe(false);
      const seen = await unfurlAsDiscord(uploaded!.url);
      expect(seen.open_graph.title).toBeUndefined();
      expect(seen.open_graph.description).toBeUndefined();
      expect(seen.theme_color).toBeUndefined();
      expect(seen.oEmbed).toBeUndefined();
      expect(seen.open_graph.images).toEqual([expect.objectContaining({ url: uploaded!.raw_url, width: 320, height: 240 })]);

      // null goes back to the default: a full embed again.
      expect((await patchEmbed('bob', { enabled: null, title: null, color: null, description: null })).status).toBe(200);
      const restored = await validSharePage(uploaded!);
      expect(firstValue(restored.tags, 'og:title')).toBe('bare.png');
    });
  });

  describe('per-upload overrides', () => {
    it('multipart fields embed_title and embed_color shape that upload only', async () => {
      const bytes = await pngImage(200, 100, [0, 128, 128]);
      const [shaped] = await upload(server.url, tokens.carol!, [
        { field: 'embed_title', value: 'Override: {file.name} 🎉' },
        { field: 'embed_color', value: '#00ff00' },
        { file: 'shaped.png', bytes },
      ]);
      const page = await validSharePage(shaped!);
      expect(firstValue(page.tags, 'og:title')).toBe('Override: shaped.png 🎉');
      expect(lastValue(page.tags, 'theme-color')).toBe('#00ff00');
      const seen = await unfurlAsDiscord(shaped!.url);
      expect(seen.open_graph.title).toBe('Override: shaped.png 🎉');
      expect(seen.theme_color).toBe('#00ff00');

      const [plain] = await upload(server.url, tokens.carol!, [{ file: 'plain.png', bytes }]);
      const plainPage = await validSharePage(plain!);
      expect(firstValue(plainPage.tags, 'og:title')).toBe('plain.png');
      expect(lastValue(plainPage.tags, 'theme-color')).toBe('#008080');
    });

    it('headers x-embed-title and x-embed-description (UTF-8, as ShareX sends them)', async () => {
      const [uploaded] = await upload(server.url, tokens.carol!, [{ file: 'header.png', bytes: await pngImage(100, 100, [250, 250, 0]) }], {
        'x-embed-title': utf8Header('Header title ✨ {user.name}'),
        'x-embed-description': utf8Header('Described in a header — naïve café, {file.width}px'),
      });
      const page = await validSharePage(uploaded!);
      expect(firstValue(page.tags, 'og:title')).toBe('Header title ✨ carol');
      expect(firstValue(page.tags, 'og:description')).toBe('Described in a header — naïve café, 100px');
      const seen = await unfurlAsDiscord(uploaded!.url);
      expect(seen.open_graph.title).toBe('Header title ✨ carol');
      expect(seen.open_graph.description).toBe('Described in a header — naïve café, 100px');
    });

    it('refuses a bad override with 400 and stores nothing', async () => {
      const before = (await listUploads(server.url, tokens.carol!)).length;
      const bytes = await pngImage(20, 20, [1, 1, 1]);
      const badColour = await postUpload(server.url, tokens.carol!, [
        { field: 'embed_color', value: 'red' },
        { file: 'x.png', bytes },
      ]);
      expect(badColour.status).toBe(400);
      const unknownField = await postUpload(server.url, tokens.carol!, [{ file: 'x.png', bytes }], { 'x-embed-nonsense': 'x' });
      expect(unknownField.status).toBe(400);
      expect((await listUploads(server.url, tokens.carol!)).length).toBe(before);
    });
  });

  describe('hostile input', () => {
    let baseline: Upload;
    let baselineShape: string[];

    beforeAll(async () => {
      [baseline] = (await upload(server.url, tokens.mallory!, [{ file: 'plain.png', bytes: await pngImage(160, 120, [40, 40, 40]) }])) as [
        Upload,
      ];
      baselineShape = domShape((await fetchSharePage(baseline)).html);
    });

    /** Valid for Discord, and user text added no element or attribute: the page has the benign page's exact shape. */
    async function inertSharePage(upload: Upload): Promise<SharePage> {
      const page = await validSharePage(upload);
      expect(domShape(page.html)).toEqual(baselineShape);
      const scripts = elements(page.html, 'script');
      expect(scripts).toHaveLength(1);
      expect(DomUtils.textContent(scripts[0]!).startsWith(COPY_SCRIPT_START)).toBe(true);
      return page;
    }

    /** Text cut to `max` bytes with an ellipsis, or whole. */
    function expectClampedFrom(value: string | undefined, full: string, maxBytes: number) {
      expect(value).toBeDefined();
      expect(utf8Bytes(value!)).toBeLessThanOrEqual(maxBytes);
      expect(hasBrokenCharacter(value!)).toBe(false);
      if (value !== full) {
        expect(value!.endsWith('…')).toBe(true);
        expect(full.startsWith(value!.slice(0, -1).trimEnd())).toBe(true);
      }
    }

    it('a file name with markup, quotes, entities and emoji stays text everywhere', async () => {
      // No "/" or "\": multipart parsers keep only the part after the last one (a path).
      const name = `"><script>alert(1)<script><img src=x onerror=alert(1)> 'single' "double" &amp; 🐱‍👤.png`;
      const [uploaded] = await upload(server.url, tokens.mallory!, [{ file: name, bytes: await pngImage(50, 50, [9, 9, 9]) }]);
      expect(uploaded!.name).toBe(name);

      const page = await inertSharePage(uploaded!);
      const document = parseDocument(page.html);
      const h1 = DomUtils.getElementsByTagName('h1', document);
      expect(h1.map((element) => DomUtils.textContent(element))).toEqual([name]);
      expect(DomUtils.getElementsByTagName('img', document).map((img) => img.attribs.alt)).toEqual([name]);
      expect(DomUtils.getElementsByTagName('a', document).find((a) => 'download' in a.attribs)?.attribs.download).toBe(name);
      expectClampedFrom(firstValue(page.tags, 'og:title'), name, DISCORD_LIMITS.titleBytes);
      expectClampedFrom(page.oembed!.title as string, name, DISCORD_LIMITS.titleBytes);
      expect(page.tags.find((tag) => tag.key === 'og:image:alt')?.value).toBe(name);
    });

    it('a 10 KB file name is sanitised to at most 255 bytes and the page keeps every limit', async () => {
      const name = `${'A'.repeat(10_000)}.png`;
      const [uploaded] = await upload(server.url, tokens.mallory!, [{ file: name, bytes: await pngImage(50, 50, [9, 9, 9]) }]);
      expect(utf8Bytes(uploaded!.name)).toBeLessThanOrEqual(255);
      expect(uploaded!.name).toMatch(/^A+\.png$/);
      const page = await inertSharePage(uploaded!);
      expectClampedFrom(firstValue(page.tags, 'og:title'), uploaded!.name, DISCORD_LIMITS.titleBytes);
    });

    it('emoji names are cut on character boundaries, in the name and in the title', async () => {
      const name = `${'🐱'.repeat(100)}.png`;
      const [uploaded] = await upload(server.url, tokens.mallory!, [{ file: name, bytes: await pngImage(50, 50, [9, 9, 9]) }]);
      expect(utf8Bytes(uploaded!.name)).toBeLessThanOrEqual(255);
      expect(hasBrokenCharacter(uploaded!.name)).toBe(false);
      expect(uploaded!.name).toMatch(/^(🐱)+\.png$/u);
      const page = await inertSharePage(uploaded!);
      const title = firstValue(page.tags, 'og:title');
      expectClampedFrom(title, uploaded!.name, DISCORD_LIMITS.titleBytes);
      expect((await unfurlAsDiscord(uploaded!.url)).open_graph.title).toBe(title);
    });

    it('templates with markup and quotes are rendered as text', async () => {
      const templates = {
        title: `"><script>alert(1)</script>{file.name}`,
        description: `</script><img src=x onerror=alert(1)> 'single' "double" & <!-- c --> 🐱 {user.name}`,
        site_name: `<b>Mallory's</b> "images" & co`,
      };
      expect((await patchEmbed('mallory', templates)).status).toBe(200);
      try {
        const page = await inertSharePage(baseline);
        expect(firstValue(page.tags, 'og:title')).toBe(`"><script>alert(1)</script>plain.png`);
        expect(firstValue(page.tags, 'og:description')).toBe(
          `</script><img src=x onerror=alert(1)> 'single' "double" & <!-- c --> 🐱 mallory`,
        );
        expect(firstValue(page.tags, 'og:site_name')).toBe(templates.site_name);
        expect(DomUtils.textContent(elements(page.html, 'title')[0]!)).toBe(`"><script>alert(1)</script>plain.png`);
        expect(page.oembed).toMatchObject({ title: `"><script>alert(1)</script>plain.png`, provider_name: templates.site_name });
      } finally {
        await patchEmbed('mallory', { title: null, description: null, site_name: null });
      }
    });

    it('refuses templates over 1,000 characters with 400, and cuts long ones to Discord limits', async () => {
      for (const body of [
        { title: 'x'.repeat(10_000) },
        { description: 'x'.repeat(1001) },
        { site_name: '🐱'.repeat(1001) },
        { author_url: 'javascript:alert(1)' },
        { color: 'red' },
      ]) {
        const response = await patchEmbed('mallory', body);
        expect(response.status, JSON.stringify(body).slice(0, 40)).toBe(400);
        expect((await response.json()).statusCode).toBe(400);
      }
      expect((await (await api('mallory', '/api/me/embed')).json()).settings).toMatchObject({
        title: null,
        description: null,
        site_name: null,
      });

      expect(
        (await patchEmbed('mallory', { title: '€'.repeat(1000), description: `${'€'.repeat(999)}\n`, site_name: '🐱'.repeat(1000) }))
          .status,
      ).toBe(200);
      try {
        const page = await inertSharePage(baseline);
        expectClampedFrom(firstValue(page.tags, 'og:title'), '€'.repeat(1000), DISCORD_LIMITS.titleBytes);
        expectClampedFrom(firstValue(page.tags, 'og:description'), '€'.repeat(999), DISCORD_LIMITS.descriptionBytes);
        const siteName = firstValue(page.tags, 'og:site_name')!;
        expect([...siteName].length).toBeLessThanOrEqual(DISCORD_LIMITS.siteNameChars);
        expect(hasBrokenCharacter(siteName)).toBe(false);
      } finally {
        await patchEmbed('mallory', { title: null, description: null, site_name: null });
      }
    });

    it('refuses 10 KB per-upload overrides (fields and headers) with 400 and stores nothing', async () => {
      const before = (await listUploads(server.url, tokens.mallory!)).length;
      const bytes = await pngImage(20, 20, [1, 1, 1]);
      const parts: Part[] = [
        { field: 'embed_title', value: 'x'.repeat(10_000) },
        { file: 'long.png', bytes },
      ];
      expect((await postUpload(server.url, tokens.mallory!, parts)).status).toBe(400);
      expect(
        (await postUpload(server.url, tokens.mallory!, [{ file: 'long.png', bytes }], { 'x-embed-description': 'y'.repeat(10_000) }))
          .status,
      ).toBe(400);
      expect((await listUploads(server.url, tokens.mallory!)).length).toBe(before);
    });
  });

  describe('gone and unknown', () => {
    it('a deleted upload answers 410 with an HTML page, and so do its image and oEmbed', async () => {
      const [uploaded] = await upload(server.url, tokens.dave!, [{ file: 'bye.png', bytes: await pngImage(30, 30, [5, 5, 5]) }]);
      expect((await api('dave', `/api/uploads/${uploaded!.id}`, { method: 'DELETE' })).status).toBe(204);

      for (const userAgent of [DISCORDBOT_UA, CHROME_UA]) {
        const { response, body } = await fetchLikeDiscord(uploaded!.url, userAgent);
        expect(response.status).toBe(410);
        expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
        const html = body.toString('utf8');
        expect(DomUtils.textContent(elements(html, 'h1')[0]!)).toBe('Deleted');
        expect(pageTags(html).some((tag) => tag.key === 'og:image')).toBe(false);
      }
      expect((await fetch(uploaded!.raw_url, { headers: { 'user-agent': CHROME_UA } })).status).toBe(410);
      expect((await fetch(`${server.url}/api/oembed?url=${encodeURIComponent(uploaded!.url)}`)).status).toBe(410);
    });

    it('an unknown id answers 404 with an HTML page', async () => {
      for (const path of ['/AAAAAAAAAA', '/not-an-upload-id']) {
        const { response, body } = await fetchLikeDiscord(`${server.url}${path}`);
        expect(response.status, path).toBe(404);
        expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
        const html = body.toString('utf8');
        expect(elements(html, 'h1')).toHaveLength(1);
        expect(pageTags(html).some((tag) => tag.key === 'og:image')).toBe(false);
      }
    });
  });
});
