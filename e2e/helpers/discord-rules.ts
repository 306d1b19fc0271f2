/**
 * Discord's link-preview rules (its developer docs on embeds and unfurling), as a checker the
 * end-to-end tests run over what the server really sends. It reads the page with htmlparser2,
 * the parser unfurl.js (our independent unfurler) uses, and reports every rule broken, so one
 * failing assertion shows all that is wrong with a page at once.
 */
import { DomUtils, parseDocument } from 'htmlparser2';

/** What Discord cuts or refuses (counted as Discord counts: bytes for text, characters for names and URLs). */
export const DISCORD_LIMITS = {
  titleBytes: 70,
  descriptionBytes: 350,
  siteNameChars: 256,
  urlChars: 2048,
} as const;

export const SHARE_CONTENT_TYPE = 'text/html; charset=utf-8';

type Element = ReturnType<typeof DomUtils.findAll>[number];

/** One head tag as Discord keys it. */
export interface PageTag {
  element: 'meta' | 'link';
  /** meta: `name`, else `property` (case-sensitive, as Discord reads them); link: `rel`. */
  key: string;
  /** meta: `content`; link: `href`. */
  value: string;
  /** link only. */
  type?: string;
}

/** The meta and link tags of a page, in document order. */
export function pageTags(html: string): PageTag[] {
  const document = parseDocument(html);
  return DomUtils.findAll((element) => element.name === 'meta' || element.name === 'link', document.children).flatMap(
    (element: Element): PageTag[] => {
      const attributes = element.attribs;
      if (element.name === 'link') {
        return [
          {
            element: 'link',
            key: attributes.rel ?? '',
            value: attributes.href ?? '',
            ...(attributes.type === undefined ? {} : { type: attributes.type }),
          },
        ];
      }
      const key = attributes.name || attributes.property;
      return key ? [{ element: 'meta', key, value: attributes.content ?? '' }] : [];
    },
  );
}

/** Title, description and site name: the first non-empty value wins. */
export function firstValue(tags: PageTag[], key: string): string | undefined {
  return tags.find((tag) => tag.element === 'meta' && tag.key === key && tag.value !== '')?.value;
}

/** Layout (twitter:card) and colour (theme-color): the last value wins. */
export function lastValue(tags: PageTag[], key: string): string | undefined {
  return tags.filter((tag) => tag.element === 'meta' && tag.key === key).at(-1)?.value;
}

export const isOEmbedLink = (tag: PageTag): boolean =>
  tag.element === 'link' && tag.key.split(/\s+/).includes('alternate') && tag.type === 'application/json+oembed';

/** Keys whose value Discord treats as a URL (besides any value that is an absolute http(s) URL). */
const URL_KEYS = new Set([
  'og:url',
  'og:image',
  'og:image:url',
  'og:image:secure_url',
  'og:video',
  'og:video:url',
  'og:video:secure_url',
  'og:audio',
  'twitter:image',
  'twitter:image:src',
  'twitter:player',
]);
const IMAGE_FACTS = ['og:image:type', 'og:image:width', 'og:image:height'] as const;
const THEME_COLOR = /^#[0-9a-fA-F]{6}(?:[0-9a-fA-F]{2})?$/;
const OEMBED_TYPES = ['photo', 'video', 'link', 'rich'];

const bytes = (text: string): number => Buffer.byteLength(text, 'utf8');
const chars = (text: string): number => [...text].length;
const isHttpUrl = (text: string): boolean => /^https?:\/\/\S+$/i.test(text) && URL.canParse(text);
const isPositiveInteger = (value: unknown): boolean =>
  typeof value === 'number' ? Number.isInteger(value) && value > 0 : typeof value === 'string' && /^[1-9][0-9]*$/.test(value);

export interface CheckOptions {
  /**
   * Whether the page is meant to be a full embed (text, colour, oEmbed) rather than a bare
   * image. Default: yes when it has any text or colour tag, or an oEmbed link.
   */
  embeds?: boolean;
}

/**
 * Every rule of Discord's that the page (with its response headers and, when given, the JSON
 * its oEmbed link returns) breaks, as "rule: what is wrong" lines. An empty list means Discord
 * will unfurl it as intended.
 */
export function checkDiscordEmbed(html: string, headers: Headers, oembed?: object, options: CheckOptions = {}): string[] {
  const problems: string[] = [];
  const report = (rule: string, message: string) => problems.push(`${rule}: ${message}`);
  const tags = pageTags(html);
  const metas = tags.filter((tag) => tag.element === 'meta');
  const all = (key: string) => metas.filter((tag) => tag.key === key);

  // Transport: one GET that answers an inline HTML page.
  const contentType = headers.get('content-type');
  if (contentType !== SHARE_CONTENT_TYPE) report('content-type', `expected "${SHARE_CONTENT_TYPE}", got ${JSON.stringify(contentType)}`);
  const disposition = headers.get('content-disposition');
  if (disposition && disposition.split(';')[0]!.trim().toLowerCase() === 'attachment')
    report('content-disposition', `the page is sent as an attachment (${disposition})`);

  // The image: exactly one, absolute, its facts right after it so Discord need not fetch it to lay it out.
  const images = all('og:image');
  if (images.length !== 1) report('og:image', `expected exactly one og:image, found ${images.length}`);
  for (const image of images) {
    if (!isHttpUrl(image.value)) report('og:image', `not an absolute http(s) URL: ${JSON.stringify(image.value.slice(0, 80))}`);
  }
  if (images.length === 1) {
    const at = metas.indexOf(images[0]!);
    const following: PageTag[] = [];
    for (const tag of metas.slice(at + 1)) {
      if (!tag.key.startsWith('og:image:')) break;
      following.push(tag);
    }
    for (const key of IMAGE_FACTS) {
      if (!following.some((tag) => tag.key === key))
        report('og:image:order', `${key} must come right after og:image (in the og:image:* tags that follow it)`);
    }
    for (const key of IMAGE_FACTS) {
      if (all(key).length > 1) report('og:image:order', `${key} appears ${all(key).length} times`);
    }
  }
  for (const key of ['og:image:width', 'og:image:height']) {
    for (const tag of all(key)) {
      if (!isPositiveInteger(tag.value)) report('og:image:size', `${key} must be a positive integer, got ${JSON.stringify(tag.value)}`);
    }
  }
  for (const tag of all('og:image:type')) {
    if (!/^image\/[a-z0-9.+-]+$/.test(tag.value)) report('og:image:type', `not an image type: ${JSON.stringify(tag.value)}`);
  }

  // Text: Discord cuts titles and descriptions, and drops the whole preview for a long site name.
  for (const tag of all('og:title')) {
    if (bytes(tag.value) > DISCORD_LIMITS.titleBytes)
      report('og:title', `${bytes(tag.value)} bytes, Discord cuts at ${DISCORD_LIMITS.titleBytes}`);
  }
  for (const tag of all('og:description')) {
    if (bytes(tag.value) > DISCORD_LIMITS.descriptionBytes)
      report('og:description', `${bytes(tag.value)} bytes, Discord cuts at ${DISCORD_LIMITS.descriptionBytes}`);
  }
  for (const tag of all('og:site_name')) {
    if (chars(tag.value) > DISCORD_LIMITS.siteNameChars)
      report('og:site_name', `${chars(tag.value)} characters, over ${DISCORD_LIMITS.siteNameChars} kills the preview`);
  }
  for (const tag of all('theme-color')) {
    if (!THEME_COLOR.test(tag.value)) report('theme-color', `must be #RRGGBB or #RRGGBBAA, got ${JSON.stringify(tag.value)}`);
  }
  for (const tag of tags) {
    const isUrl = tag.element === 'link' || URL_KEYS.has(tag.key) || isHttpUrl(tag.value);
    if (isUrl && chars(tag.value) > DISCORD_LIMITS.urlChars)
      report('url-length', `${tag.key} is ${chars(tag.value)} characters, over ${DISCORD_LIMITS.urlChars} kills the preview`);
  }

  // A full embed: large image under the text, and oEmbed for the author line.
  const embeds =
    options.embeds ??
    (['og:title', 'og:description', 'og:site_name', 'theme-color'].some((key) => firstValue(tags, key) !== undefined) ||
      tags.some(isOEmbedLink));
  if (embeds) {
    const card = lastValue(tags, 'twitter:card');
    if (card !== 'summary_large_image')
      report('twitter:card', `expected "summary_large_image" (large image under the text), got ${JSON.stringify(card)}`);
    const links = tags.filter(isOEmbedLink);
    if (links.length === 0)
      report('oembed-link', 'no <link rel="alternate" type="application/json+oembed"> (the only way to an author line)');
    for (const link of links) {
      if (!isHttpUrl(link.value)) report('oembed-link', `href is not an absolute http(s) URL: ${JSON.stringify(link.value.slice(0, 80))}`);
    }
  }

  if (oembed !== undefined) problems.push(...checkOEmbed(oembed as Record<string, unknown>, firstValue(tags, 'og:site_name')));
  return problems;
}

/** The oEmbed JSON: the fields Discord reads, and thumbnail facts only all together. */
function checkOEmbed(json: Record<string, unknown>, siteName: string | undefined): string[] {
  const problems: string[] = [];
  const report = (message: string) => problems.push(`oembed: ${message}`);
  const isText = (value: unknown): value is string => typeof value === 'string' && value !== '';

  if (json.version !== '1.0') report(`version must be "1.0", got ${JSON.stringify(json.version)}`);
  if (typeof json.type !== 'string' || !OEMBED_TYPES.includes(json.type))
    report(`type must be one of ${OEMBED_TYPES.join(', ')}, got ${JSON.stringify(json.type)}`);
  for (const key of ['title', 'provider_name', 'provider_url']) {
    if (!isText(json[key])) report(`${key} is missing or empty`);
  }
  if (isText(json.title) && bytes(json.title) > DISCORD_LIMITS.titleBytes)
    report(`title is ${bytes(json.title)} bytes, Discord cuts at ${DISCORD_LIMITS.titleBytes}`);
  // provider_name replaces og:site_name in the embed, so it carries the same limit.
  if (isText(json.provider_name) && chars(json.provider_name) > DISCORD_LIMITS.siteNameChars)
    report(`provider_name is ${chars(json.provider_name)} characters, over ${DISCORD_LIMITS.siteNameChars}`);
  if (isText(json.provider_name) && siteName !== undefined && json.provider_name !== siteName)
    report(`provider_name ${JSON.stringify(json.provider_name)} overrides og:site_name ${JSON.stringify(siteName)}`);
  if (json.author_url !== undefined && !isText(json.author_name))
    report('author_url without author_name (Discord shows no author line then)');

  const thumbnail = ['thumbnail_url', 'thumbnail_width', 'thumbnail_height'].filter((key) => json[key] !== undefined);
  if (thumbnail.length > 0 && thumbnail.length < 3)
    report(`thumbnail_url, thumbnail_width and thumbnail_height go together; only ${thumbnail.join(', ')} given`);
  for (const key of ['thumbnail_width', 'thumbnail_height']) {
    if (json[key] !== undefined && !(typeof json[key] === 'number' && isPositiveInteger(json[key])))
      report(`${key} must be a positive integer, got ${JSON.stringify(json[key])}`);
  }
  for (const key of ['provider_url', 'author_url', 'thumbnail_url']) {
    const value = json[key];
    if (value === undefined) continue;
    if (typeof value !== 'string' || !isHttpUrl(value)) report(`${key} is not an absolute http(s) URL`);
    else if (chars(value) > DISCORD_LIMITS.urlChars) report(`${key} is ${chars(value)} characters, over ${DISCORD_LIMITS.urlChars}`);
  }
  return problems;
}
