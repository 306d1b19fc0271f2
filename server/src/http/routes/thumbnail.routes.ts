import { Type } from 'typebox';
import { AppError } from '../../domain/errors.js';
import type { ThumbnailService } from '../../services/thumbnail.service.js';
import { sendFile } from '../send-file.js';
import type { App } from '../types.js';

export interface ThumbnailRoutesOptions {
  thumbnails: ThumbnailService;
}

const EXT = '.webp';

export async function thumbnailRoutes(app: App, { thumbnails }: ThumbnailRoutesOptions): Promise<void> {
  app.get(
    '/t/:file',
    {
      schema: {
        tags: ['files'],
        summary: 'A thumbnail of an upload: WebP within 400x400 pixels, made on first request (GET or HEAD; Range supported)',
        params: Type.Object({ file: Type.String({ maxLength: 80 }) }),
      },
    },
    async (request, reply) => {
      const name = request.params.file;
      // Extensions are case-insensitive, as on the raw route.
      if (name.length <= EXT.length || name.slice(-EXT.length).toLowerCase() !== EXT) {
        throw new AppError('NOT_FOUND', `There is no thumbnail ${name} here: thumbnails are <id>.webp.`);
      }
      const thumbnail = await thumbnails.describe(name.slice(0, -EXT.length));
      return sendFile(request, reply, thumbnail, (range) => thumbnails.read(thumbnail, range));
    },
  );
}
