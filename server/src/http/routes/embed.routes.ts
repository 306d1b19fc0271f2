import { Type } from 'typebox';
import type { EmbedService } from '../../services/embed.service.js';
import { actorOf } from '../plugins/auth.plugin.js';
import {
  EmbedDraftPreviewBody,
  EmbedFieldsResponse,
  EmbedPatchBody,
  EmbedPreviewResponse,
  EmbedSettingsResponse,
  OEmbedResponse,
} from '../../contract/embed.schemas.js';
import { answer } from '../../contract/common.js';
import { errorResponses } from '../../contract/error.schemas.js';
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
        operationId: 'getEmbedSettings',
        summary: 'Your embed templates, the server defaults under them, and the result',
        response: { 200: answer('Your templates, the defaults and what applies', EmbedSettingsResponse) },
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
        operationId: 'updateEmbedSettings',
        summary: 'Change your embed templates (null = back to the server default)',
        body: EmbedPatchBody,
        response: { 200: answer('Your templates as changed, the defaults and what applies now', EmbedSettingsResponse) },
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
        operationId: 'previewEmbed',
        summary: 'Exactly the tags (and oEmbed) the share page of one of your uploads emits',
        querystring: Type.Object({ upload: Type.String({ minLength: 1, maxLength: 64 }) }, { additionalProperties: false }),
        response: {
          200: answer('The tags, as data and as HTML, and the oEmbed answer (null with embeds off)', EmbedPreviewResponse),
          ...errorResponses('UPLOAD_NOT_FOUND', 'UPLOAD_GONE'),
        },
      },
    },
    async (request) => {
      const preview = await embeds.preview(actorOf(request), request.query.upload);
      return { tags: preview.tags, html: embedTagsHtml(preview.tags), oembed: preview.oembed };
    },
  );

  app.post(
    '/api/me/embed/preview',
    {
      config: { auth: true },
      schema: {
        tags: ['embeds'],
        operationId: 'previewEmbedDraft',
        summary: 'The tags (and oEmbed) the share page of one of your uploads would emit with unsaved template changes',
        description: 'Nothing is saved: this draws the changes a settings form holds before it is submitted.',
        body: EmbedDraftPreviewBody,
        response: {
          200: answer('The tags, as data and as HTML, and the oEmbed answer (null with embeds off)', EmbedPreviewResponse),
          ...errorResponses('UPLOAD_NOT_FOUND', 'UPLOAD_GONE'),
        },
      },
    },
    async (request) => {
      const preview = await embeds.preview(actorOf(request), request.body.upload, request.body.embed);
      return { tags: preview.tags, html: embedTagsHtml(preview.tags), oembed: preview.oembed };
    },
  );

  app.get(
    '/api/admin/embed',
    {
      config: { auth: true },
      schema: {
        tags: ['embeds'],
        operationId: 'getEmbedDefaults',
        summary: 'Server-wide embed defaults (admin)',
        response: { 200: answer('The server-wide defaults', EmbedFieldsResponse), ...errorResponses('FORBIDDEN') },
      },
    },
    async (request) => embeds.getServerDefaults(actorOf(request)),
  );

  app.patch(
    '/api/admin/embed',
    {
      config: { auth: true },
      schema: {
        tags: ['embeds'],
        operationId: 'updateEmbedDefaults',
        summary: 'Change the server-wide embed defaults (admin; null = built-in)',
        body: EmbedPatchBody,
        response: { 200: answer('The server-wide defaults as changed', EmbedFieldsResponse), ...errorResponses('FORBIDDEN') },
      },
    },
    async (request) => embeds.updateServerDefaults(actorOf(request), request.body),
  );

  app.get(
    '/api/oembed',
    {
      schema: {
        tags: ['embeds'],
        operationId: 'getOEmbed',
        summary: 'oEmbed for a share link of this server',
        querystring: Type.Object({
          url: Type.String({ minLength: 1, maxLength: 2048 }),
          format: Type.Optional(Type.String({ maxLength: 10 })),
          maxwidth: Type.Optional(Type.Integer()),
          maxheight: Type.Optional(Type.Integer()),
        }),
        response: {
          200: answer('The oEmbed answer Discord reads for the share link', OEmbedResponse),
          ...errorResponses('NOT_FOUND', 'UPLOAD_GONE', 'NOT_IMPLEMENTED'),
        },
      },
    },
    async (request) => embeds.oembed(request.query.url, request.query.format),
  );
}
