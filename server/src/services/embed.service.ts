import type { Static } from 'typebox';
import type { EmbedSettingsResponse, EmbedTagResponse, OEmbedResponse } from '../contract/embed.schemas.js';
import { type Actor, requireAdmin } from '../domain/actor.js';
import {
  BUILT_IN_EMBED,
  clampBytes,
  clampChars,
  EMBED_LIMITS,
  type EmbedFields,
  type EmbedOverrides,
  multiLine,
  oneLine,
  renderTemplate,
  type TemplateContext,
} from '../domain/embed-template.js';
import { FALLBACK_ACCENT, parseHex, standsOut } from '../domain/accent-color.js';
import { AppError } from '../domain/errors.js';
import { stripUnsafeChars } from '../domain/text.js';
import { isUploadId } from '../domain/ids.js';
import { type EmbedSettingRepository, type EmbedSettingRow, SERVER_SCOPE } from '../repositories/embed-setting.repository.js';
import type { UploadRow } from '../repositories/types.js';
import type { UploadRepository } from '../repositories/upload.repository.js';
import { thumbnailSize } from '../domain/thumbnail-size.js';
import { ownedUpload } from './owned-upload.js';
import type { UploadLinks, UploadView } from './upload-links.js';
import { formatBytes } from '../domain/format.js';

/** Every field of a scope; null = inherited. */
export type EmbedSettings = { [K in keyof EmbedFields]: EmbedFields[K] | null };
/** A change: fields left out stay, null resets to the inherited value. */
export type EmbedPatch = Partial<EmbedSettings>;

/** One tag of the share page's head, in page order. */
export type EmbedTag = Static<typeof EmbedTagResponse>;

export type OEmbed = Static<typeof OEmbedResponse>;

export interface SharePage {
  upload: UploadView;
  /** Only the image's when the owner turned embeds off. */
  tags: EmbedTag[];
  title: string;
  color: string;
}

/** An upload's embed fields and their text as rendered for it. */
interface Rendered {
  fields: EmbedFields;
  text: { title: string; description: string; siteName: string; author: string };
  /** `theme-color`, '#rrggbb' lowercase. */
  color: string;
}

/** The caller's own values (null = inherited), the server defaults under them, and the result. */
export type EmbedSettingsView = Static<typeof EmbedSettingsResponse>;

/**
 * Builds what Discord (and people) see for a share link: templates resolved in layers
 * (built-in, server, user, upload), rendered with the upload's facts, clamped to Discord's limits.
 */
export class EmbedService {
  constructor(
    private readonly settings: EmbedSettingRepository,
    private readonly uploads: UploadRepository,
    private readonly links: UploadLinks,
    private readonly publicUrl: string,
  ) {}

  async getSettings(actor: Actor): Promise<EmbedSettingsView> {
    const { own, defaults, effective } = await this.layers(actor.userId);
    return { settings: toPatch(own), defaults, effective };
  }

  async updateSettings(actor: Actor, patch: EmbedPatch): Promise<EmbedSettingsView> {
    await this.settings.update(actor.userId, toColumns(patch), new Date().toISOString());
    return this.getSettings(actor);
  }

  async getServerDefaults(actor: Actor): Promise<EmbedFields> {
    requireAdmin(actor, 'see or change the server-wide embed defaults');
    return layer(BUILT_IN_EMBED, toPatch((await this.settings.find([SERVER_SCOPE]))[0]));
  }

  async updateServerDefaults(actor: Actor, patch: EmbedPatch): Promise<EmbedFields> {
    requireAdmin(actor, 'see or change the server-wide embed defaults');
    await this.settings.update(SERVER_SCOPE, toColumns(patch), new Date().toISOString());
    return this.getServerDefaults(actor);
  }

  /** The share page of a live upload: 404 when unknown, 410 when deleted. */
  async sharePage(id: string): Promise<SharePage> {
    const { row, rendered } = await this.live(id);
    return this.build(row, rendered);
  }

  /**
   * Exactly what the share page of one of the caller's uploads would emit: with the saved
   * templates, or with `draft` (unsaved changes, as a PATCH would make them) over them.
   */
  async preview(actor: Actor, uploadId: string, draft: EmbedPatch = {}): Promise<SharePage & { oembed: OEmbed | null }> {
    const row = await ownedUpload(this.uploads, actor, uploadId);
    const rendered = render(row, actor.username, await this.layers(row.user_id, draft));
    return { ...this.build(row, rendered), oembed: rendered.fields.enabled ? this.oembedFor(row, rendered) : null };
  }

  /** oEmbed for a share URL of this server, built from the database (never from the query). */
  async oembed(url: string, format = 'json'): Promise<OEmbed> {
    if (format !== 'json') throw new AppError('NOT_IMPLEMENTED', 'Only format=json is available.');
    const id = shareLinkId(url, this.publicUrl);
    if (!isUploadId(id)) throw new AppError('NOT_FOUND', 'That URL is not a share link of this server.');
    const { row, rendered } = await this.live(id);
    // With embeds off the page shows the bare image, so there is no text for oEmbed to add.
    if (!rendered.fields.enabled) throw new AppError('NOT_FOUND', 'Embeds are turned off for this upload.');
    return this.oembedFor(row, rendered);
  }

  private oembedFor(row: UploadRow, { fields, text }: Rendered): OEmbed {
    const thumb = thumbnailSize(row.width, row.height);
    return {
      version: '1.0',
      type: 'link',
      title: text.title,
      ...(text.author ? { author_name: text.author, author_url: fields.author_url || this.publicUrl } : {}),
      provider_name: text.siteName,
      provider_url: this.publicUrl,
      thumbnail_url: this.links.view(row).thumbnail_url,
      thumbnail_width: thumb.width,
      thumbnail_height: thumb.height,
    };
  }

  private build(row: UploadRow, { fields, text, color }: Rendered): SharePage {
    const upload = this.links.view(row);
    const { title, description, siteName } = text;

    const image: EmbedTag[] = [
      { attribute: 'property', key: 'og:image', content: upload.raw_url },
      // Right after og:image, so Discord need not fetch the image to measure it.
      { attribute: 'property', key: 'og:image:type', content: upload.mime },
      { attribute: 'property', key: 'og:image:width', content: String(upload.width) },
      { attribute: 'property', key: 'og:image:height', content: String(upload.height) },
      { attribute: 'property', key: 'og:image:alt', content: clampChars(oneLine(upload.name), 420) },
      { attribute: 'name', key: 'twitter:card', content: 'summary_large_image' },
    ];
    if (!fields.enabled) {
      // Embeds off: only the image, so Discord shows it bare, without text or colour.
      return { upload, tags: image, title: upload.name, color };
    }
    const optional = (attribute: EmbedTag['attribute'], key: string, content: string): EmbedTag[] =>
      content ? [{ attribute, key, content }] : [];
    const tags: EmbedTag[] = [
      ...optional('property', 'og:site_name', siteName),
      ...optional('property', 'og:title', title),
      ...optional('property', 'og:description', description),
      { attribute: 'property', key: 'og:url', content: upload.url },
      { attribute: 'property', key: 'og:type', content: 'website' },
      ...image,
      { attribute: 'name', key: 'theme-color', content: color },
      { attribute: 'link', key: 'alternate', content: `${this.publicUrl}/api/oembed?url=${encodeURIComponent(upload.url)}` },
    ];
    return { upload, tags, title: title || upload.name, color };
  }

  /** Built-in under server under the user's own settings (with `draft`, unsaved, over them). */
  private async layers(userId: string | null, draft: EmbedPatch = {}): Promise<Layers> {
    // A live upload always has its owner; only tombstones lose theirs.
    return layersOf(await this.settings.find(userId === null ? [SERVER_SCOPE] : [SERVER_SCOPE, userId]), userId, draft);
  }

  /** A live upload rendered with its owner's name and settings, read in one query: 404 when unknown, 410 when deleted. */
  private async live(id: string): Promise<{ row: UploadRow; rendered: Rendered }> {
    const shared = isUploadId(id) ? await this.settings.findShared(id) : undefined;
    if (!shared) throw new AppError('NOT_FOUND', 'There is no upload here.');
    const { upload, username, settings } = shared;
    if (upload.deleted_at) throw new AppError('UPLOAD_GONE', 'This upload has been deleted.');
    return { row: upload, rendered: render(upload, username, layersOf(settings, upload.user_id)) };
  }
}

/** The upload's fields (its layers, then its own overrides) and their text, rendered and clamped. */
function render(row: UploadRow, username: string, { defaults, effective }: Layers): Rendered {
  const fields = { ...effective, ...parseOverrides(row.embed_overrides) };
  const context = contextOf(row, username);
  const line = (template: string) => oneLine(renderTemplate(template, context));
  return {
    fields,
    text: {
      title: clampBytes(line(fields.title), EMBED_LIMITS.title.bytes),
      description: clampBytes(multiLine(renderTemplate(fields.description, context)), EMBED_LIMITS.description.bytes),
      siteName: clampChars(line(fields.site_name), EMBED_LIMITS.site_name.chars),
      author: clampChars(line(fields.author), EMBED_LIMITS.author.chars),
    },
    color: (fields.color === 'auto' ? autoColor(row.dominant_color, [effective.color, defaults.color]) : fields.color).toLowerCase(),
  };
}

interface Layers {
  own: EmbedSettingRow | undefined;
  /** Built-in under the server's settings. */
  defaults: EmbedFields;
  /** The defaults under the owner's own settings, with `draft` over them. */
  effective: EmbedFields;
}

/** Layers the rows of the server's and the user's scopes (those that exist) with `draft`, unsaved, on top. */
function layersOf(rows: EmbedSettingRow[], userId: string | null, draft: EmbedPatch = {}): Layers {
  const defaults = layer(BUILT_IN_EMBED, toPatch(rows.find((row) => row.scope === SERVER_SCOPE)));
  const own = rows.find((row) => row.scope === userId);
  return { own, defaults, effective: layer(defaults, { ...toPatch(own), ...cleaned(draft) }) };
}

/**
 * The id in a share link of this server, or '' for any other URL. Parsed, not compared as
 * text: scheme and host match in any case and with an explicit default port
 * (`HTTP://IMG.TEST:80/abc`), as browsers and Discord treat them; ids stay case-sensitive.
 */
function shareLinkId(url: string, publicUrl: string): string {
  if (!URL.canParse(url)) return '';
  const link = new URL(url);
  const base = new URL(`${publicUrl}/`);
  return link.origin === base.origin && link.pathname.startsWith(base.pathname) ? link.pathname.slice(base.pathname.length) : '';
}

/**
 * `auto`: the image's accent colour (recorded at upload) when it stands out on both of
 * Discord's embed backgrounds; else the nearest fixed colour configured under the upload
 * (the uploader's, then the server's), else Discord's blurple. The check here also covers
 * uploads recorded before accent colours, whose colour may be a screenshot's background.
 */
function autoColor(recorded: string, configured: string[]): string {
  if (standsOut(parseHex(recorded))) return recorded;
  return configured.find((color) => color !== 'auto') ?? FALLBACK_ACCENT;
}

const contextOf = (row: UploadRow, username: string): TemplateContext => ({
  file: {
    id: row.id,
    name: row.name,
    size: formatBytes(Number(row.size)),
    width: row.width,
    height: row.height,
    date: row.created_at.slice(0, 10),
    mime: row.mime,
  },
  user: { name: username },
});

/** Puts a scope's non-null fields over `base`. */
function layer(base: Readonly<EmbedFields>, patch: EmbedPatch): EmbedFields {
  const out = { ...base };
  for (const key of Object.keys(out) as (keyof EmbedFields)[]) {
    const value = patch[key];
    if (value !== null && value !== undefined) (out as Record<string, unknown>)[key] = value;
  }
  return out;
}

function toPatch(row: EmbedSettingRow | undefined): EmbedSettings {
  return {
    enabled: row?.enabled === null || row?.enabled === undefined ? null : row.enabled === 1,
    site_name: row?.site_name ?? null,
    title: row?.title ?? null,
    description: row?.description ?? null,
    author: row?.author ?? null,
    author_url: row?.author_url ?? null,
    color: row?.color ?? null,
  };
}

/**
 * Templates are stored without control or bidi-override characters (rendering strips them
 * again, from what templates insert); PostgreSQL could not store a NUL anyway.
 */
function cleaned(patch: EmbedPatch): EmbedPatch {
  return Object.fromEntries(
    Object.entries(patch)
      .filter(([, value]) => value !== undefined)
      .map(([key, value]) => [key, typeof value === 'string' ? stripUnsafeChars(value, { keepNewlines: true }) : value]),
  );
}

function toColumns(patch: EmbedPatch) {
  const { enabled, ...text } = cleaned(patch);
  return { ...text, ...(enabled === undefined ? {} : { enabled: enabled === null ? null : Number(enabled) }) };
}

function parseOverrides(json: string | null): EmbedOverrides {
  if (!json) return {};
  return JSON.parse(json) as EmbedOverrides;
}
