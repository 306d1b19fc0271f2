/** The fields of an embed that users shape with templates. */
export interface EmbedFields {
  enabled: boolean;
  site_name: string;
  title: string;
  description: string;
  author: string;
  /** A URL for the author line (oEmbed author_url); '' = the server's public URL. */
  author_url: string;
  /** 'auto' = the image's dominant colour, or '#rrggbb'. */
  color: string;
}

export type TextField = 'site_name' | 'title' | 'description' | 'author';
const TEXT_FIELDS: readonly TextField[] = ['site_name', 'title', 'description', 'author'];

/** What a fresh server shows: the file name as title and its facts below it. */
export const BUILT_IN_EMBED: Readonly<EmbedFields> = Object.freeze({
  enabled: true,
  site_name: 'Discord Images',
  title: '{file.name}',
  description: '{file.width}×{file.height} · {file.size} · {file.date}',
  author: '{user.name}',
  author_url: '',
  color: 'auto',
});

/**
 * Discord's published limits: titles are cut at 70 bytes and descriptions at 350, a site
 * name over 256 characters (or any URL over 2,048) kills the preview. We cut first, on a
 * character boundary, so what Discord shows is what the preview promised.
 */
export const EMBED_LIMITS = {
  title: { bytes: 70 },
  description: { bytes: 350 },
  site_name: { chars: 256 },
  author: { chars: 256 },
  url: { chars: 2048 },
  /** Longest template we store. */
  template: { chars: 1000 },
} as const;

export const COLOR_PATTERN = /^(auto|#[0-9a-fA-F]{6})$/;

export interface TemplateContext {
  file: { id: string; name: string; size: string; width: number; height: number; date: string; mime: string };
  user: { name: string };
}

/**
 * Fills `{file.name}`-style placeholders. Only known names are replaced, values are inserted
 * as plain text (escaping happens when the page is written), and nothing is evaluated.
 */
export function renderTemplate(template: string, context: TemplateContext): string {
  return template.replace(/\{(file|user)\.([a-z]+)\}/g, (whole, scope: 'file' | 'user', key: string) => {
    const values = context[scope] as Record<string, string | number>;
    return Object.hasOwn(values, key) ? String(values[key]) : whole;
  });
}

/** Cuts to at most `max` UTF-8 bytes without splitting a character; adds … when it cut. */
export function clampBytes(text: string, max: number): string {
  if (Buffer.byteLength(text) <= max) return text;
  let out = '';
  let bytes = Buffer.byteLength('…');
  for (const char of text) {
    bytes += Buffer.byteLength(char);
    if (bytes > max) break;
    out += char;
  }
  return `${out.trimEnd()}…`;
}

/** Cuts to at most `max` characters (code points). */
export function clampChars(text: string, max: number): string {
  const chars = [...text];
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join('').trimEnd()}…`;
}

/** Whitespace runs (newlines included) become one space: embeds are one-line fields. */
export const oneLine = (text: string): string => text.replace(/\s+/g, ' ').trim();

/** Fields a client may set on one upload: form fields `embed_<name>` or headers `x-embed-<name>`. */
export type EmbedOverrides = Partial<Pick<EmbedFields, TextField | 'color'>>;
const OVERRIDE_FIELDS = [...TEXT_FIELDS, 'color'] as const;

/** Where an override came from, to name it the way the client sent it. */
export type OverrideSource = 'field' | 'header';

/**
 * Validates per-upload overrides, keyed by field name (`title`, `site_name`; headers may say
 * `site-name`). Empty values are skipped, so an unanswered ShareX prompt keeps the template.
 * Returns the problem as text (for the caller's 400) or the overrides.
 */
export function parseOverrides(input: Record<string, string>, source: OverrideSource): EmbedOverrides | string {
  const out: EmbedOverrides = {};
  const named = (key: string) => (source === 'header' ? `x-embed-${key.replace(/_/g, '-')}` : `embed_${key}`);
  for (const [rawKey, value] of Object.entries(input)) {
    const key = rawKey.replace(/-/g, '_') as (typeof OVERRIDE_FIELDS)[number];
    if (!OVERRIDE_FIELDS.includes(key)) return `${named(rawKey)} is not an embed field (use ${OVERRIDE_FIELDS.map(named).join(', ')})`;
    if (value.trim() === '') continue;
    if ([...value].length > EMBED_LIMITS.template.chars) return `${named(key)} is longer than ${EMBED_LIMITS.template.chars} characters`;
    if (key === 'color' && !COLOR_PATTERN.test(value)) return `${named(key)} must be "auto" or a colour like #5865f2`;
    out[key] = value;
  }
  return out;
}
