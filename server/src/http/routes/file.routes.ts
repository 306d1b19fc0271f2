import type { FastifyReply } from 'fastify';
import { Type } from 'typebox';
import { AppError, isAppError } from '../../domain/errors.js';
import type { EmbedService } from '../../services/embed.service.js';
import type { FileService } from '../../services/file.service.js';
import type { UploadService } from '../../services/upload.service.js';
import { splitFileName } from '../file-name.js';
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
  const shareHeaders = {
    'content-security-policy': sharePageCsp(publicUrl),
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'strict-origin-when-cross-origin',
  };

  app.get(
    '/i/:file',
    { schema: { tags: ['files'], summary: 'The stored bytes of an upload (GET or HEAD; Range supported)', params: Type.Object({ file: Type.String({ maxLength: 80 }) }) } },
    async (request, reply) => {
      const parts = splitFileName(request.params.file);
      if (!parts) throw new AppError('NOT_FOUND', `There is no file ${request.params.file} here.`);
      const file = await files.describe(parts.id, parts.ext);
      return sendFile(request, reply, file, (range) => files.read(file, range));
    },
  );

  app.get(
    '/:id',
    { schema: { tags: ['files'], summary: 'Share page: the image with Open Graph and Twitter card tags', params: PageParams } },
    // The same page for every user agent: Discord's crawler and people get one answer.
    // no-cache: templates and deletions change what the page says; caches must ask again.
    async (request, reply) =>
      htmlPage(reply, { ...shareHeaders, 'cache-control': 'no-cache' }, async () => sharePage(await embeds.sharePage(request.params.id))),
  );

  app.get(
    '/d/:id/:secret',
    { schema: { tags: ['files'], summary: 'Deletion link: a confirmation page (GET never deletes)', params: DeleteParams } },
    async (request, reply) =>
      htmlPage(reply, DELETION_HEADERS, async () => deletionConfirmPage(await uploads.checkDeletionLink(request.params.id, request.params.secret))),
  );

  app.post(
    '/d/:id/:secret',
    { schema: { tags: ['files'], summary: 'Deletion link: deletes the upload', params: DeleteParams } },
    async (request, reply) =>
      htmlPage(reply, DELETION_HEADERS, async () => {
        await uploads.deleteWithSecret(request.params.id, request.params.secret);
        return deletedPage();
      }),
  );
}

/** The secret in the URL must not leak through caches or the Referer header. */
const DELETION_HEADERS = { 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' };

/**
 * An HTML page for people in a browser: its 4xx errors are pages too, with the right status
 * and never cached; anything worse goes to the JSON error handler.
 */
async function htmlPage(reply: FastifyReply, headers: Record<string, string>, render: () => Promise<string>): Promise<string> {
  reply.type(HTML).headers(headers);
  try {
    return await render();
  } catch (error) {
    if (!isAppError(error) || error.statusCode >= 500) throw error;
    reply.code(error.statusCode).header('cache-control', 'no-store');
    return messagePage(error.statusCode === 410 ? 'Deleted' : 'Not found', error.message);
  }
}
