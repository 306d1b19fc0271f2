import type { FastifyReply } from 'fastify';
import { Type } from 'typebox';
import { AppError, isAppError } from '../../domain/errors.js';
import type { EmbedService } from '../../services/embed.service.js';
import type { FileService } from '../../services/file.service.js';
import type { UploadService } from '../../services/upload.service.js';
import { sendFile } from '../send-file.js';
import { deletedPage, deletionConfirmPage, messagePage } from '../views/pages.js';
import { sharePage, sharePageCsp } from '../views/share-page.js';
import type { App } from '../types.js';

export interface FileRoutesOptions {
  files: FileService;
  uploads: UploadService;
  embeds: EmbedService;
  publicUrl: string;
}

const HTML = 'text/html; charset=utf-8';
const PageParams = Type.Object({ id: Type.String({ maxLength: 64 }) });
const DeleteParams = Type.Object({ id: Type.String({ maxLength: 64 }), secret: Type.String({ maxLength: 128 }) });

export async function fileRoutes(app: App, { files, uploads, embeds, publicUrl }: FileRoutesOptions): Promise<void> {
  const shareCsp = sharePageCsp(publicUrl);

  app.get(
    '/i/:file',
    { schema: { tags: ['files'], summary: 'The stored bytes of an upload (GET or HEAD; Range supported)', params: Type.Object({ file: Type.String({ maxLength: 80 }) }) } },
    async (request, reply) => {
      const name = request.params.file;
      const dot = name.lastIndexOf('.');
      if (dot < 1) throw new AppError('NOT_FOUND', `There is no file ${name} here.`);
      const file = await files.describe(name.slice(0, dot), name.slice(dot + 1).toLowerCase());
      return sendFile(request, reply, file, (range) => files.read(file, range));
    },
  );

  app.get(
    '/:id',
    { schema: { tags: ['files'], summary: 'Share page: the image with Open Graph and Twitter card tags', params: PageParams } },
    async (request, reply) => {
      // The same page for every user agent: Discord's crawler and people get one answer.
      // no-cache: templates and deletions change what the page says; caches must ask again.
      reply
        .type(HTML)
        .header('cache-control', 'no-cache')
        .header('content-security-policy', shareCsp)
        .header('x-content-type-options', 'nosniff')
        .header('referrer-policy', 'strict-origin-when-cross-origin');
      try {
        return sharePage(await embeds.sharePage(request.params.id));
      } catch (error) {
        return htmlError(error, reply);
      }
    },
  );

  app.get(
    '/d/:id/:secret',
    { schema: { tags: ['files'], summary: 'Deletion link: a confirmation page (GET never deletes)', params: DeleteParams } },
    async (request, reply) => {
      reply.type(HTML).header('cache-control', 'no-store').header('referrer-policy', 'no-referrer');
      try {
        return deletionConfirmPage(await uploads.checkDeletionLink(request.params.id, request.params.secret));
      } catch (error) {
        return htmlError(error, reply);
      }
    },
  );

  app.post(
    '/d/:id/:secret',
    { schema: { tags: ['files'], summary: 'Deletion link: deletes the upload', params: DeleteParams } },
    async (request, reply) => {
      reply.type(HTML).header('cache-control', 'no-store').header('referrer-policy', 'no-referrer');
      try {
        await uploads.deleteWithSecret(request.params.id, request.params.secret);
        return deletedPage();
      } catch (error) {
        return htmlError(error, reply);
      }
    },
  );
}

/** People open these pages in a browser: errors are pages too, with the right status. */
function htmlError(error: unknown, reply: FastifyReply): string {
  if (!isAppError(error) || error.statusCode >= 500) throw error;
  reply.code(error.statusCode).header('cache-control', 'no-store');
  return messagePage(error.statusCode === 410 ? 'Deleted' : 'Not found', error.message);
}
