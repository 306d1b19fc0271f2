import type { FastifyReply } from 'fastify';
import { Type } from 'typebox';
import { AppError, isAppError } from '../../domain/errors.js';
import type { EmbedService } from '../../services/embed.service.js';
import type { FileService } from '../../services/file.service.js';
import type { UploadService } from '../../services/upload.service.js';
import { prefersJson } from '../accept.js';
import { splitFileName } from '../file-name.js';
import { sendFile } from '../send-file.js';
import { deletedPage, deletionConfirmPage, messagePage } from '../views/pages.js';
import { type PageKind, pageHeaders } from '../views/page-headers.js';
import { sharePage } from '../views/share-page.js';
import { errorResponses } from '../../contract/error.schemas.js';
import type { App } from '../types.js';

export interface FileRoutesOptions {
  files: FileService;
  uploads: UploadService;
  embeds: EmbedService;
  publicUrl: string;
}

const PageParams = Type.Object({ id: Type.String({ maxLength: 64 }) });
/** An HTML page (sent as text/html, never serialised); the document describes it (openapi.plugin.ts). */
const PAGE = Type.String();
const DeleteParams = Type.Object({ id: Type.String({ maxLength: 64 }), secret: Type.String({ maxLength: 128 }) });

export async function fileRoutes(app: App, { files, uploads, embeds, publicUrl }: FileRoutesOptions): Promise<void> {
  const htmlPage = htmlPages(publicUrl);

  app.get(
    '/i/:file',
    // Exempt: Discord's media proxy fetches for every viewer from a few addresses; see docs/decisions.md.
    {
      config: { limit: 'exempt' },
      schema: {
        tags: ['files'],
        operationId: 'getFile',
        summary: 'The stored bytes of an upload (GET or HEAD; Range supported)',
        description: 'With S3_PUBLIC_URL set, answered by a 302 redirect to the object there instead (after the same 404 and 410 checks).',
        params: Type.Object({ file: Type.String({ maxLength: 80 }) }),
        response: {
          302: Type.Null({ description: 'The bytes are at `Location`' }),
          ...errorResponses('NOT_FOUND', 'UPLOAD_GONE', 'RANGE_NOT_SATISFIABLE'),
        },
      },
    },
    async (request, reply) => {
      const parts = splitFileName(request.params.file);
      if (!parts) throw new AppError('NOT_FOUND', `There is no file ${request.params.file} here.`);
      const file = await files.describe(parts.id, parts.ext);
      const elsewhere = files.publicUrl(file);
      // Not cached: once the upload is deleted, this URL must answer 410 rather than send clients on.
      if (elsewhere !== undefined) return reply.header('cache-control', 'no-store').redirect(elsewhere, 302);
      return sendFile(request, reply, file, (range) => files.read(file, range));
    },
  );

  app.get(
    '/:id',
    {
      schema: {
        tags: ['files'],
        operationId: 'getSharePage',
        summary: 'Share page: the image with Open Graph and Twitter card tags',
        params: PageParams,
        response: { 200: PAGE, ...errorResponses('NOT_FOUND', 'UPLOAD_GONE') },
      },
    },
    // The same page for every user agent: Discord's crawler and people get one answer.
    async (request, reply) => htmlPage(reply, 'share', async () => sharePage(await embeds.sharePage(request.params.id))),
  );

  app.get(
    '/d/:id/:secret',
    {
      config: { limit: 'deletion-link' },
      schema: {
        tags: ['files'],
        operationId: 'getDeletionPage',
        summary: 'Deletion link: a confirmation page (GET never deletes)',
        params: DeleteParams,
        response: { 200: PAGE, ...errorResponses('UPLOAD_NOT_FOUND', 'UPLOAD_GONE') },
      },
    },
    async (request, reply) =>
      htmlPage(reply, 'deletion', async () =>
        deletionConfirmPage(await uploads.checkDeletionLink(request.params.id, request.params.secret)),
      ),
  );

  // The confirm page's form, as a browser submits it. It has no fields: the secret in the URL is
  // the capability (docs/decisions.md), so the body is only read, within a small limit.
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'buffer', bodyLimit: 1024 }, (_request, _body, done) =>
    done(null),
  );

  app.post(
    '/d/:id/:secret',
    {
      config: { limit: 'deletion-link' },
      schema: {
        tags: ['files'],
        operationId: 'deleteWithLink',
        summary: 'Deletion link: deletes the upload (an HTML page, or 204 to a client asking for JSON)',
        params: DeleteParams,
        response: { 200: PAGE, 204: Type.Null(), ...errorResponses('UPLOAD_NOT_FOUND', 'UPLOAD_GONE') },
      },
    },
    async (request, reply) => {
      const remove = () => uploads.deleteWithSecret(request.params.id, request.params.secret);
      if (prefersJson(request.headers.accept)) {
        await remove();
        return reply.code(204).header('cache-control', 'no-store').header('referrer-policy', 'no-referrer').send(null);
      }
      return htmlPage(reply, 'deletion', async () => {
        await remove();
        return deletedPage();
      });
    },
  );
}

/**
 * Renders HTML pages for people in a browser, each with its kind's headers (page-headers.ts);
 * its 4xx errors are pages too, with the right status and never cached; anything worse goes
 * to the JSON error handler.
 */
function htmlPages(publicUrl: string) {
  const headers: Record<PageKind, Record<string, string>> = {
    share: pageHeaders('share', publicUrl),
    deletion: pageHeaders('deletion', publicUrl),
  };
  return async (reply: FastifyReply, kind: PageKind, render: () => Promise<string>): Promise<string> => {
    reply.headers(headers[kind]);
    try {
      return await render();
    } catch (error) {
      if (!isAppError(error) || error.statusCode >= 500) throw error;
      reply.code(error.statusCode).header('cache-control', 'no-store');
      return messagePage(error.statusCode === 410 ? 'Deleted' : 'Not found', error.message);
    }
  };
}
