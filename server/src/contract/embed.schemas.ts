import { type Static, type TBoolean, type TString, Type } from 'typebox';
import { COLOR_PATTERN, EMBED_LIMITS } from '../domain/embed-template.js';

const template = (description: string) =>
  Type.String({
    maxLength: EMBED_LIMITS.template.chars,
    description: `${description}. Placeholders: {file.name} {file.size} {file.width} {file.height} {file.date} {file.mime} {file.id} {user.name}`,
  });
/**
 * `type: [x, 'null']` rather than anyOf: Ajv's type coercion (needed for query strings) would
 * otherwise turn a null into "" or false in the first branch it tries.
 */
const nullable = <T extends TString | TBoolean>(schema: T) => Type.Unsafe<Static<T> | null>({ ...schema, type: [schema.type, 'null'] });

const fields = {
  enabled: Type.Boolean({ description: 'Off = the link shows the bare image, without text or colour' }),
  site_name: template('Small line above the title (oEmbed provider_name)'),
  title: template(`Embed title; cut at ${EMBED_LIMITS.title.bytes} bytes`),
  description: template(`Embed text; cut at ${EMBED_LIMITS.description.bytes} bytes`),
  author: template('Author line (oEmbed author_name)'),
  author_url: Type.String({
    maxLength: EMBED_LIMITS.url.chars,
    pattern: '^(|https?://\\S+)$',
    description: 'Link of the author line; empty = this server',
  }),
  color: Type.String({ pattern: COLOR_PATTERN.source, description: '"auto" (the image\'s dominant colour) or #rrggbb' }),
};

export const EmbedFieldsResponse = Type.Object(fields);

/** Any subset of the fields; null resets one to the server default. */
const changes = {
  enabled: Type.Optional(nullable(fields.enabled)),
  site_name: Type.Optional(nullable(fields.site_name)),
  title: Type.Optional(nullable(fields.title)),
  description: Type.Optional(nullable(fields.description)),
  author: Type.Optional(nullable(fields.author)),
  author_url: Type.Optional(nullable(fields.author_url)),
  color: Type.Optional(nullable(fields.color)),
};

/** PATCH body: at least one change. */
export const EmbedPatchBody = Type.Object(changes, { additionalProperties: false, minProperties: 1 });

/** A preview of unsaved changes: the upload whose share page is drawn, and the changes as a PATCH would make them. */
export const EmbedDraftPreviewBody = Type.Object(
  {
    upload: Type.String({ minLength: 1, maxLength: 64, description: 'One of your uploads' }),
    embed: Type.Optional(
      Type.Object(changes, {
        additionalProperties: false,
        description: 'Unsaved changes to your templates, shaped like PATCH /api/me/embed; left out = as saved',
      }),
    ),
  },
  { additionalProperties: false },
);

export const EmbedSettingsResponse = Type.Object({
  settings: Type.Object({
    enabled: nullable(fields.enabled),
    site_name: nullable(fields.site_name),
    title: nullable(fields.title),
    description: nullable(fields.description),
    author: nullable(fields.author),
    author_url: nullable(fields.author_url),
    color: nullable(fields.color),
  }),
  defaults: EmbedFieldsResponse,
  effective: EmbedFieldsResponse,
});

/** One tag of the share page's head, in page order. */
export const EmbedTagResponse = Type.Object({
  /** `property` for Open Graph, `name` for the rest; `link` for the oEmbed discovery link. */
  attribute: Type.Union([Type.Literal('property'), Type.Literal('name'), Type.Literal('link')]),
  key: Type.String(),
  content: Type.String(),
});

export const OEmbedResponse = Type.Object({
  version: Type.Literal('1.0'),
  type: Type.Literal('link'),
  title: Type.String(),
  author_name: Type.Optional(Type.String()),
  author_url: Type.Optional(Type.String()),
  provider_name: Type.String(),
  provider_url: Type.String(),
  thumbnail_url: Type.String(),
  thumbnail_width: Type.Integer(),
  thumbnail_height: Type.Integer(),
});

export const EmbedPreviewResponse = Type.Object({
  tags: Type.Array(EmbedTagResponse),
  /** The same tags as the page's HTML. */
  html: Type.String(),
  /** Null when embeds are off (the page then has no oEmbed link). */
  oembed: Type.Union([OEmbedResponse, Type.Null()]),
});
