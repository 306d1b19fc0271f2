import { describe, expect, it } from 'vitest';
import { checkDiscordEmbed, pageTags } from './helpers/discord-rules.js';

interface Tag {
  attribute: 'property' | 'name' | 'link';
  key: string;
  content: string;
}

const escape = (text: string) => text.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
const IMAGE = 'https://img.example/i/abc.png';

/** A page shaped like a share page that Discord unfurls exactly as meant. */
const goodTags = (): Tag[] => [
  { attribute: 'property', key: 'og:site_name', content: 'Discord Images' },
  { attribute: 'property', key: 'og:title', content: 'screenshot.png' },
  { attribute: 'property', key: 'og:description', content: '1280×720 · 48 KB · 2026-11-27' },
  { attribute: 'property', key: 'og:url', content: 'https://img.example/abc' },
  { attribute: 'property', key: 'og:image', content: IMAGE },
  { attribute: 'property', key: 'og:image:type', content: 'image/png' },
  { attribute: 'property', key: 'og:image:width', content: '1280' },
  { attribute: 'property', key: 'og:image:height', content: '720' },
  { attribute: 'property', key: 'og:image:alt', content: 'screenshot.png' },
  { attribute: 'name', key: 'twitter:card', content: 'summary_large_image' },
  { attribute: 'name', key: 'theme-color', content: '#5865f2' },
  { attribute: 'link', key: 'alternate', content: 'https://img.example/api/oembed?url=https%3A%2F%2Fimg.example%2Fabc' },
];

function page(tags: Tag[], extraHead = ''): string {
  const head = tags
    .map((tag) =>
      tag.attribute === 'link'
        ? `<link rel="${escape(tag.key)}" type="application/json+oembed" href="${escape(tag.content)}">`
        : `<meta ${tag.attribute}="${escape(tag.key)}" content="${escape(tag.content)}">`,
    )
    .join('\n');
  return `<!doctype html><html><head><meta charset="utf-8"><title>t</title>\n${head}\n${extraHead}</head><body><img src="${IMAGE}"></body></html>`;
}

const goodHeaders = () => new Headers({ 'content-type': 'text/html; charset=utf-8' });
const goodOEmbed = () => ({
  version: '1.0',
  type: 'link',
  title: 'screenshot.png',
  author_name: 'alice',
  author_url: 'https://img.example',
  provider_name: 'Discord Images',
  provider_url: 'https://img.example',
  thumbnail_url: 'https://img.example/t/abc.webp',
  thumbnail_width: 400,
  thumbnail_height: 225,
});

/** The good page with one change; returns the rules it breaks (the part before the colon). */
function rulesBroken(change: {
  tags?: (tags: Tag[]) => Tag[];
  headers?: Headers;
  oembed?: object;
  extraHead?: string;
  embeds?: boolean;
}): string[] {
  const html = page(change.tags ? change.tags(goodTags()) : goodTags(), change.extraHead);
  const problems = checkDiscordEmbed(
    html,
    change.headers ?? goodHeaders(),
    change.oembed ?? goodOEmbed(),
    change.embeds === undefined ? {} : { embeds: change.embeds },
  );
  return [...new Set(problems.map((problem) => problem.slice(0, problem.indexOf(': '))))];
}

const set = (key: string, content: string) => (tags: Tag[]) => tags.map((tag) => (tag.key === key ? { ...tag, content } : tag));
const remove = (key: string) => (tags: Tag[]) => tags.filter((tag) => tag.key !== key);
const add =
  (tag: Tag, at = Infinity) =>
  (tags: Tag[]) => [...tags.slice(0, at), tag, ...tags.slice(at)];

describe('checkDiscordEmbed', () => {
  it('passes a page that Discord unfurls as meant', () => {
    expect(checkDiscordEmbed(page(goodTags()), goodHeaders(), goodOEmbed())).toEqual([]);
  });

  it('passes a bare image page (embeds off) without text, colour or oEmbed', () => {
    const bare = goodTags().filter((tag) => tag.key.startsWith('og:image') || tag.key === 'twitter:card');
    expect(checkDiscordEmbed(page(bare), goodHeaders())).toEqual([]);
    expect(checkDiscordEmbed(page(bare.filter((tag) => tag.key !== 'twitter:card')), goodHeaders(), undefined, { embeds: false })).toEqual(
      [],
    );
  });

  it('passes values exactly at the limits, counted in bytes or characters as Discord counts', () => {
    const tags = (t: Tag[]) =>
      set(
        'og:site_name',
        '🐱'.repeat(256),
      )(
        set(
          'og:title',
          'é'.repeat(35),
        )(
          set(
            'og:description',
            'x'.repeat(350),
          )(set('og:url', `https://img.example/${'a'.repeat(2048 - 'https://img.example/'.length)}`)(t)),
        ),
      );
    expect(rulesBroken({ tags, oembed: { ...goodOEmbed(), provider_name: '🐱'.repeat(256) } })).toEqual([]);
  });

  it('accepts #RRGGBB and #RRGGBBAA colours, and an inline content disposition', () => {
    expect(rulesBroken({ tags: set('theme-color', '#5865F2cc') })).toEqual([]);
    expect(
      rulesBroken({
        headers: new Headers({ 'content-type': 'text/html; charset=utf-8', 'content-disposition': 'inline; filename="a.html"' }),
      }),
    ).toEqual([]);
  });

  describe('reports each rule broken once', () => {
    it('content type other than exactly text/html; charset=utf-8', () => {
      expect(rulesBroken({ headers: new Headers({ 'content-type': 'text/html' }) })).toEqual(['content-type']);
      expect(rulesBroken({ headers: new Headers({ 'content-type': 'application/octet-stream' }) })).toEqual(['content-type']);
      expect(rulesBroken({ headers: new Headers() })).toEqual(['content-type']);
    });

    it('a page sent as an attachment', () => {
      expect(
        rulesBroken({
          headers: new Headers({ 'content-type': 'text/html; charset=utf-8', 'content-disposition': 'attachment; filename="page.html"' }),
        }),
      ).toEqual(['content-disposition']);
    });

    it('no og:image, two of them, or a relative one', () => {
      expect(rulesBroken({ tags: (t) => remove('og:image')(t) })).toEqual(['og:image']);
      expect(rulesBroken({ tags: add({ attribute: 'property', key: 'og:image', content: IMAGE }, 0) })).toEqual(['og:image']);
      expect(rulesBroken({ tags: set('og:image', '/i/abc.png') })).toEqual(['og:image']);
    });

    it('og:image:type, width or height not right after og:image', () => {
      const moveWidthToEnd = (tags: Tag[]) => [
        ...tags.filter((tag) => tag.key !== 'og:image:width'),
        { attribute: 'property' as const, key: 'og:image:width', content: '1280' },
      ];
      expect(rulesBroken({ tags: moveWidthToEnd })).toEqual(['og:image:order']);
      expect(rulesBroken({ tags: remove('og:image:type') })).toEqual(['og:image:order']);
      // A foreign tag between og:image and its facts breaks the group.
      expect(rulesBroken({ tags: add({ attribute: 'name', key: 'robots', content: 'noindex' }, 5) })).toEqual(['og:image:order']);
    });

    it('an image size that is not a positive integer', () => {
      expect(rulesBroken({ tags: set('og:image:height', '720px') })).toEqual(['og:image:size']);
      expect(rulesBroken({ tags: set('og:image:width', '0') })).toEqual(['og:image:size']);
    });

    it('an image type that is not an image', () => {
      expect(rulesBroken({ tags: set('og:image:type', 'text/html') })).toEqual(['og:image:type']);
    });

    it('theme-color not #RRGGBB or #RRGGBBAA', () => {
      for (const colour of ['red', '#fff', '5865f2', '#5865f2c', 'rgb(88,101,242)']) {
        expect(rulesBroken({ tags: set('theme-color', colour) }), colour).toEqual(['theme-color']);
      }
    });

    it('a title over 70 bytes, even when it is fewer characters', () => {
      expect(rulesBroken({ tags: set('og:title', 'é'.repeat(36)) })).toEqual(['og:title']);
    });

    it('a description over 350 bytes', () => {
      expect(rulesBroken({ tags: set('og:description', '€'.repeat(117)) })).toEqual(['og:description']);
    });

    it('a site name over 256 characters', () => {
      expect(
        rulesBroken({ tags: set('og:site_name', 'a'.repeat(257)), oembed: { ...goodOEmbed(), provider_name: 'a'.repeat(257) } }),
      ).toEqual(['og:site_name', 'oembed']);
    });

    it('any URL over 2,048 characters', () => {
      expect(rulesBroken({ tags: set('og:url', `https://img.example/${'a'.repeat(2048)}`) })).toEqual(['url-length']);
      expect(rulesBroken({ tags: set('alternate', `https://img.example/api/oembed?url=${'a'.repeat(2048)}`) })).toEqual(['url-length']);
      expect(rulesBroken({ oembed: { ...goodOEmbed(), thumbnail_url: `https://img.example/${'a'.repeat(2048)}` } })).toEqual(['oembed']);
    });

    it('no twitter:card=summary_large_image on a full embed, the last card winning', () => {
      expect(rulesBroken({ tags: remove('twitter:card') })).toEqual(['twitter:card']);
      expect(rulesBroken({ tags: set('twitter:card', 'summary') })).toEqual(['twitter:card']);
      expect(rulesBroken({ tags: add({ attribute: 'name', key: 'twitter:card', content: 'summary' }) })).toEqual(['twitter:card']);
      // ...and a good last one after a bad one is fine.
      expect(rulesBroken({ tags: add({ attribute: 'name', key: 'twitter:card', content: 'summary' }, 0) })).toEqual([]);
    });

    it('no oEmbed discovery link on a full embed', () => {
      expect(rulesBroken({ tags: remove('alternate') })).toEqual(['oembed-link']);
    });

    it('oEmbed JSON without version, type, title or provider', () => {
      for (const key of ['version', 'type', 'title', 'provider_name', 'provider_url']) {
        const json: Record<string, unknown> = goodOEmbed();
        delete json[key];
        expect(rulesBroken({ oembed: json }), key).toEqual(['oembed']);
      }
      expect(rulesBroken({ oembed: { ...goodOEmbed(), version: 1 } })).toEqual(['oembed']);
    });

    it('oEmbed thumbnail_url without thumbnail_width/height, or the other way round', () => {
      const { thumbnail_width: _w, thumbnail_height: _h, ...urlOnly } = goodOEmbed();
      expect(rulesBroken({ oembed: urlOnly })).toEqual(['oembed']);
      const { thumbnail_url: _u, ...sizeOnly } = goodOEmbed();
      expect(rulesBroken({ oembed: sizeOnly })).toEqual(['oembed']);
      expect(rulesBroken({ oembed: { ...goodOEmbed(), thumbnail_width: '400' } })).toEqual(['oembed']);
      const { thumbnail_url: _a, thumbnail_width: _b, thumbnail_height: _c, ...none } = goodOEmbed();
      expect(rulesBroken({ oembed: none })).toEqual([]);
    });

    it('oEmbed provider_name that would override og:site_name with something else', () => {
      expect(rulesBroken({ oembed: { ...goodOEmbed(), provider_name: 'Other' } })).toEqual(['oembed']);
    });

    it('oEmbed author_url without author_name', () => {
      const { author_name: _n, ...json } = goodOEmbed();
      expect(rulesBroken({ oembed: json })).toEqual(['oembed']);
    });
  });

  describe('reads tags as Discord does, through a real HTML parser', () => {
    it('keys come from name before property, case-sensitively', () => {
      // name wins, so this is a "description" tag and the page has no og:image.
      expect(
        rulesBroken({ tags: remove('og:image'), extraHead: `<meta name="description" property="og:image" content="${IMAGE}">` }),
      ).toEqual(['og:image']);
      expect(rulesBroken({ tags: (t) => t.map((tag) => (tag.key === 'og:image' ? { ...tag, key: 'OG:IMAGE' } : tag)) })).toEqual([
        'og:image',
      ]);
    });

    it('ignores tag-like text in comments and scripts, and decodes entities in attributes', () => {
      const decoy = `<!-- <meta property="og:image" content="${IMAGE}"> --><script>var s = '<meta property="og:image" content="x">';</script>`;
      expect(rulesBroken({ extraHead: decoy })).toEqual([]);
      const tags = pageTags(page(set('og:title', 'a "quoted" <b> & more')(goodTags())));
      expect(tags.find((tag) => tag.key === 'og:title')?.value).toBe('a "quoted" <b> & more');
    });

    it('uses the last theme-color and twitter:card but checks every colour', () => {
      expect(rulesBroken({ tags: add({ attribute: 'name', key: 'theme-color', content: 'blue' }, 0) })).toEqual(['theme-color']);
    });
  });
});
