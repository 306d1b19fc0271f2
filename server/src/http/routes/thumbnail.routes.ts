import { Type } from 'typebox';
import { AppError } from '../../domain/errors.js';
import type { ThumbnailService } from '../../services/thumbnail.service.js';
import { splitFileName } from '../file-name.js';
import { sendFile } from '../send-file.js';
import { errorResponses } from '../../contract/error.schemas.js';
import type { App } from '../types.js';

export interface ThumbnailRoutesOptions {
  thumbnails: ThumbnailService;
}

export async function thumbnailRoutes(app: App, { thumbnails }: ThumbnailRoutesOptions): Promise<void> {
  app.get(
    '/t/:file',
    {
      config: { limit: 'exempt' },
      schema: {
        tags: ['files'],
        operationId: 'getThumbnail',
        summary: 'A thumbnail of an upload: WebP within 400x400 pixels, made on first request (GET or HEAD; Range supported)',
        params: Type.Object({ file: Type.String({ maxLength: 80 }) }),
        // Made on first request: written to storage, which can be full.
        response: errorResponses('NOT_FOUND', 'UPLOAD_GONE', 'RANGE_NOT_SATISFIABLE', 'INSUFFICIENT_STORAGE'),
      },
    },
    async (request, reply) => {
      const parts = splitFileName(request.params.file);
      if (parts?.ext !== 'webp') {
        throw new AppError('NOT_FOUND', `There is no thumbnail ${request.params.file} here: thumbnails are <id>.webp.`);
      }
      const thumbnail = await thumbnails.describe(parts.id);
      return sendFile(request, reply, thumbnail, (range) => thumbnails.read(thumbnail, range));
    },
  );
}
