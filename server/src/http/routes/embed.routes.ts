import { Type } from 'typebox';
import type { EmbedService } from '../../services/embed.service.js';
import { actorOf } from '../plugins/auth.plugin.js';
import {
  EmbedFieldsResponse,
  EmbedPatchBody,
  EmbedPreviewResponse,
  EmbedSettingsResponse,
  OEmbedResponse,
} from '../../contract/embed.schemas.js';
import type { App } from '../types.js';
import { embedTagsHtml } from '../views/share-page.js';

export interface EmbedRoutesOptions {
  embeds: EmbedService;
}

export async function embedRoutes(app: App, { embeds }: EmbedRoutesOptions): Promise<void> {
  app.get(
    '/api/me/embed',
    {
      config: { auth: true },
      schema: {
        tags: ['embeds'],
        summary: 'Your embed templates, the server defaults under them, and the result',
        response: { 200: EmbedSettingsResponse },
      },
    },
    async (request) => embeds.getSettings(actorOf(request)),
  );

  app.patch(
    '/api/me/embed',
    {
      config: { auth: true },
      schema: {
        tags: ['embeds'],
        summary: 'Change your embed templates (null = back to the server default)',
        body: EmbedPatchBody,
        response: { 200: EmbedSettingsResponse },
      },
    },
    async (request) => embeds.updateSettings(actorOf(request), request.body),
  );

  app.get(
    '/api/me/embed/preview',
    {
      config: { auth: true },
      schema: {
        tags: ['embeds'],
        summary: 'Exactly the tags (and oEmbed) the share page of one of your uploads emits',
        querystring: Type.Object({ upload: Type.String({ minLength: 1, maxLength: 64 }) }, { additionalProperties: false }),
        response: { 200: EmbedPreviewResponse },
      },
    },
    async (request) => {
      const preview = await embeds.preview(actorOf(request), request.query.upload);
      return { tags: preview.tags, html: embedTagsHtml(preview.tags), oembed: preview.oembed };
    },
  );

  app.get(
    '/api/admin/embed',
    {
      config: { auth: true },
      schema: { tags: ['embeds'], summary: 'Server-wide embed defaults (admin)', response: { 200: EmbedFieldsResponse } },
    },
    async (request) => embeds.getServerDefaults(actorOf(request)),
  );

  app.patch(
    '/api/admin/embed',
    {
      config: { auth: true },
      schema: {
        tags: ['embeds'],
        summary: 'Change the server-wide embed defaults (admin; null = built-in)',
        body: EmbedPatchBody,
        response: { 200: EmbedFieldsResponse },
      },
    },
    async (request) => embeds.updateServerDefaults(actorOf(request), request.body),
  );

  app.get(
    '/api/oembed',
    {
      schema: {
        tags: ['embeds'],
        summary: 'oEmbed for a share link of this server',
        querystring: Type.Object({
          url: Type.String({ minLength: 1, maxLength: 2048 }),
          format: Type.Optional(Type.String({ maxLength: 10 })),
          maxwidth: Type.Optional(Type.Integer()),
          maxheight: Type.Optional(Type.Integer()),
        }),
        response: { 200: OEmbedResponse },
      },
    },
    async (request) => embeds.oembed(request.query.url, request.query.format),
  );
}
