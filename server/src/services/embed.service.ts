import type { Actor } from '../domain/actor.js';
import {
  BUILT_IN_EMBED,
  clampBytes,
  clampChars,
  EMBED_LIMITS,
  type EmbedFields,
  type EmbedOverrides,
  oneLine,
  renderTemplate,
  type TemplateContext,
} from '../domain/embed-template.js';
import { AppError } from '../domain/errors.js';
import { isUploadId } from '../domain/ids.js';
import { type EmbedSettingRepository, type EmbedSettingRow, SERVER_SCOPE } from '../repositories/embed-setting.repository.js';
import type { UploadRow } from '../repositories/types.js';
import type { UploadRepository } from '../repositories/upload.repository.js';
import type { UserRepository } from '../repositories/user.repository.js';
import { thumbnailSize } from '../domain/thumbnail-size.js';
import type { UploadLinks, UploadView } from './upload-links.js';
import { formatBytes } from './upload.service.js';

/** Every field of a scope; null = inherited. */
export type EmbedSettings = { [K in keyof EmbedFields]: EmbedFields[K] | null };
/** A change: fields left out stay, null resets to the inherited value. */
export type EmbedPatch = Partial<EmbedSettings>;

/** One tag of the share page's head, in page order. */
export interface EmbedTag {
  /** `property` for Open Graph, `name` for the rest; `link` for the oEmbed discovery link. */
  attribute: 'property' | 'name' | 'link';
  key: string;
  content: string;
}

export interface OEmbed {
  version: '1.0';
  type: 'link';
  title: string;
  author_name?: string;
  author_url?: string;
  provider_name: string;
  provider_url: string;
  thumbnail_url: string;
  thumbnail_width: number;
  thumbnail_height: number;
}

export interface SharePage {
  upload: UploadView;
  /** False when the owner turned embeds off: the tags then carry only the image. */
  embedsOn: boolean;
  tags: EmbedTag[];
  title: string;
  description: string;
  color: string;
}

export interface EmbedSettingsView {
  /** The caller's own values; null = inherited from the server defaults. */
  settings: EmbedSettings;
  /** What the server (admin) sets under them. */
  defaults: EmbedFields;
  /** What a new upload gets: defaults with the caller's values on top. */
  effective: EmbedFields;
}

/**
 * Builds what Discord (and people) see for a share link: templates resolved in layers
 * (built-in, server, user, upload), rendered with the upload's facts, clamped to Discord's limits.
 */
export class EmbedService {
  constructor(
    private readonly settings: EmbedSettingRepository,
    private readonly uploads: UploadRepository,
    private readonly users: UserRepository,
    private readonly links: UploadLinks,
    private readonly publicUrl: string,
  ) {}

  async getSettings(actor: Actor): Promise<EmbedSettingsView> {
    const rows = await this.settings.find([SERVER_SCOPE, actor.userId]);
    const defaults = layer(BUILT_IN_EMBED, rows.find((row) => row.scope === SERVER_SCOPE));
    const own = rows.find((row) => row.scope === actor.userId);
    return { settings: toPatch(own), defaults, effective: layer(defaults, own) };
  }

  async updateSettings(actor: Actor, patch: EmbedPatch): Promise<EmbedSettingsView> {
    await this.settings.update(actor.userId, toColumns(patch), new Date().toISOString());
    return this.getSettings(actor);
  }

  async getServerDefaults(actor: Actor): Promise<EmbedFields> {
    requireAdmin(actor);
    return layer(BUILT_IN_EMBED, (await this.settings.find([SERVER_SCOPE]))[0]);
  }

  async updateServerDefaults(actor: Actor, patch: EmbedPatch): Promise<EmbedFields> {
    requireAdmin(actor);
    await this.settings.update(SERVER_SCOPE, toColumns(patch), new Date().toISOString());
    return this.getServerDefaults(actor);
  }

  /** The share page of a live upload: 404 when unknown, 410 when deleted. */
  async sharePage(id: string): Promise<SharePage> {
    const { row, username } = await this.live(id);
    return this.build(row, username);
  }

  /** Exactly what the share page of one of the caller's uploads would emit. */
  async preview(actor: Actor, uploadId: string): Promise<SharePage & { oembed: OEmbed | null }> {
    const row = isUploadId(uploadId) ? await this.uploads.findById(uploadId) : undefined;
    // Someone else's upload, deleted or not, is reported exactly like a missing one.
    if (!row || row.user_id !== actor.userId) throw new AppError('UPLOAD_NOT_FOUND', `You have no upload with id ${uploadId}.`);
    if (row.deleted_at) throw new AppError('UPLOAD_GONE', `Upload ${uploadId} has been deleted.`);
    const page = await this.build(row, actor.username);
    return { ...page, oembed: page.embedsOn ? await this.oembedFor(row, actor.username) : null };
  }

  /** oEmbed for a share URL of this server, built from the database (never from the query). */
  async oembed(url: string, format = 'json'): Promise<OEmbed> {
    if (format !== 'json') throw new AppError('NOT_IMPLEMENTED', 'Only format=json is available.');
    const prefix = `${this.publicUrl}/`;
    const id = url.startsWith(prefix) ? url.slice(prefix.length).replace(/[?#].*$/, '') : '';
    if (!isUploadId(id)) throw new AppError('NOT_FOUND', 'That URL is not a share link of this server.');
    const { row, username } = await this.live(id);
    // With embeds off the page shows the bare image, so there is no text for oEmbed to add.
    if (!(await this.fieldsFor(row)).enabled) throw new AppError('NOT_FOUND', 'Embeds are turned off for this upload.');
    return this.oembedFor(row, username);
  }

  private async oembedFor(row: UploadRow, username: string): Promise<OEmbed> {
    const fields = await this.fieldsFor(row);
    const context = contextOf(row, username);
    const view = this.links.view(row);
    const thumb = thumbnailSize(row.width, row.height);
    const author = clampChars(oneLine(renderTemplate(fields.author, context)), EMBED_LIMITS.author.chars);
    return {
      version: '1.0',
      type: 'link',
      title: clampBytes(oneLine(renderTemplate(fields.title, context)), EMBED_LIMITS.title.bytes),
      ...(author ? { author_name: author, author_url: fields.author_url || this.publicUrl } : {}),
      provider_name: clampChars(oneLine(renderTemplate(fields.site_name, context)), EMBED_LIMITS.site_name.chars),
      provider_url: this.publicUrl,
      thumbnail_url: view.thumbnail_url,
      thumbnail_width: thumb.width,
      thumbnail_height: thumb.height,
    };
  }

  private async build(row: UploadRow, username: string): Promise<SharePage> {
    const fields = await this.fieldsFor(row);
    const context = contextOf(row, username);
    const upload = this.links.view(row);
    const render = (template: string) => renderTemplate(template, context);
    const title = clampBytes(oneLine(render(fields.title)), EMBED_LIMITS.title.bytes);
    const description = clampBytes(render(fields.description).trim(), EMBED_LIMITS.description.bytes);
    const siteName = clampChars(oneLine(render(fields.site_name)), EMBED_LIMITS.site_name.chars);
    const color = (fields.color === 'auto' ? row.dominant_color : fields.color).toLowerCase();

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
      return { upload, embedsOn: false, tags: image, title: upload.name, description: '', color };
    }
    const text = (attribute: EmbedTag['attribute'], key: string, content: string): EmbedTag[] =>
      content ? [{ attribute, key, content }] : [];
    const tags: EmbedTag[] = [
      ...text('property', 'og:site_name', siteName),
      ...text('property', 'og:title', title),
      ...text('property', 'og:description', description),
      { attribute: 'property', key: 'og:url', content: upload.url },
      { attribute: 'property', key: 'og:type', content: 'website' },
      ...image,
      { attribute: 'name', key: 'theme-color', content: color },
      { attribute: 'link', key: 'alternate', content: `${this.publicUrl}/api/oembed?url=${encodeURIComponent(upload.url)}` },
    ];
    return { upload, embedsOn: true, tags, title: title || upload.name, description, color };
  }

  private async fieldsFor(row: UploadRow): Promise<EmbedFields> {
    const rows = await this.settings.find([SERVER_SCOPE, row.user_id]);
    const server = layer(BUILT_IN_EMBED, rows.find((r) => r.scope === SERVER_SCOPE));
    const user = layer(server, rows.find((r) => r.scope === row.user_id));
    return { ...user, ...parseOverrides(row.embed_overrides) };
  }

  private async live(id: string): Promise<{ row: UploadRow; username: string }> {
    const row = isUploadId(id) ? await this.uploads.findById(id) : undefined;
    if (!row) throw new AppError('NOT_FOUND', 'There is no upload here.');
    if (row.deleted_at) throw new AppError('UPLOAD_GONE', 'This upload has been deleted.');
    const owner = await this.users.findById(row.user_id);
    return { row, username: owner?.username ?? '' };
  }
}

function requireAdmin(actor: Actor): void {
  if (actor.role !== 'admin') throw new AppError('FORBIDDEN', 'Only the admin can see or change the server-wide embed defaults.');
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

/** Puts a settings row's non-null fields over `base`. */
function layer(base: Readonly<EmbedFields>, row: EmbedSettingRow | undefined): EmbedFields {
  const patch = toPatch(row);
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

function toColumns(patch: EmbedPatch) {
  const { enabled, ...text } = patch;
  return { ...text, ...(enabled === undefined ? {} : { enabled: enabled === null ? null : Number(enabled) }) };
}

function parseOverrides(json: string | null): EmbedOverrides {
  if (!json) return {};
  return JSON.parse(json) as EmbedOverrides;
}
