import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { AppError } from '../../domain/errors.js';
import { LIST_LIMIT } from '../../domain/pagination.js';
import type { IncomingPart, UploadService } from '../../services/upload.service.js';
import { linkNextPage } from '../pagination.js';
import { actorOf } from '../plugins/auth.plugin.js';
import { answer, IdParams } from '../../contract/common.js';
import { errorResponses } from '../../contract/error.schemas.js';
import { UploadCreatedResponse, UploadListQuery, UploadResponse } from '../../contract/upload.schemas.js';
import type { App } from '../types.js';

export interface UploadRoutesOptions {
  uploads: UploadService;
  publicUrl: string;
}

const SEND_MULTIPART = 'This is not a multipart body: send multipart/form-data with a files[] part for each image.';

/** The media type as Fastify matches it to @fastify/multipart's parser: any case, parameters after. */
const isMultipartFormData = (contentType: string | undefined): boolean => /^\s*multipart\/form-data\s*(;|$)/i.test(contentType ?? '');

/** The parts of a multipart request, in order. */
async function* incomingParts(request: FastifyRequest): AsyncGenerator<IncomingPart> {
  for await (const part of request.parts()) {
    if (part.type === 'file') {
      // Past MAX_FILE_SIZE busboy would read the rest of the part only to discard it: stop
      // now, so the 413 leaves at once and the rest of the body is drained only up to a bound.
      part.file.once('limit', () => part.file.destroy());
      yield { kind: 'file', fieldname: part.fieldname, filename: part.filename, stream: part.file, truncated: () => part.file.truncated };
    } else if (typeof part.value === 'string') {
      yield { kind: 'field', name: part.fieldname, value: part.value };
    }
  }
}

/** `x-embed-title: ...` headers (UTF-8, as ShareX sends them) shape the upload's embed too. */
function embedHeaders(request: FastifyRequest): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (name.startsWith('x-embed-') && typeof value === 'string') {
      out[name.slice('x-embed-'.length)] = Buffer.from(value, 'latin1').toString('utf8');
    }
  }
  return out;
}

export async function uploadRoutes(app: App, { uploads, publicUrl }: UploadRoutesOptions): Promise<void> {
  app.post(
    '/api/upload',
    {
      config: { auth: true, limit: 'upload' },
      schema: {
        tags: ['uploads'],
        operationId: 'uploadImages',
        summary: 'Upload images: multipart/form-data, one files[] part per image (file is an alias)',
        description: 'All or nothing: if any part is refused, nothing of the request is kept, and the error names the part.',
        consumes: ['multipart/form-data'],
        response: {
          201: answer('The uploads made, one per files[] part, in the order sent', UploadCreatedResponse),
          ...errorResponses(
            'NO_FILES',
            'EMPTY_FILE',
            'TOO_MANY_FILES',
            'MALFORMED_MULTIPART',
            'VALIDATION_FAILED',
            'PAYLOAD_TOO_LARGE',
            'IMAGE_TOO_LARGE',
            'QUOTA_EXCEEDED',
            'UNSUPPORTED_MEDIA_TYPE',
            'CORRUPT_IMAGE',
            'INSUFFICIENT_STORAGE',
          ),
        },
      },
      // Anything else is refused before its body is read, saying what to send (Fastify would
      // parse a JSON body first, and answer other types with its 415 "send JSON").
      preParsing: async (request, _reply, payload) => {
        if (!isMultipartFormData(request.headers['content-type'])) throw new AppError('MALFORMED_MULTIPART', SEND_MULTIPART);
        return payload;
      },
    },
    async (request, reply) => {
      const files = await uploads.upload(actorOf(request), incomingParts(request), embedHeaders(request));
      return reply.code(201).send({ files });
    },
  );

  app.get(
    '/api/uploads',
    {
      config: { auth: true },
      schema: {
        tags: ['uploads'],
        operationId: 'listUploads',
        summary: 'Your uploads, newest first, or those whose name contains q; follow the Link header for the next page',
        querystring: UploadListQuery,
        response: {
          200: answer('One page of your uploads, newest first; Link: rel="next" names the next page', Type.Array(UploadResponse)),
          // A `before` that is not one of your uploads.
          ...errorResponses('VALIDATION_FAILED'),
        },
      },
    },
    async (request, reply) => {
      // Ajv fills in the default; the type only knows the client may leave it out.
      const { limit = LIST_LIMIT.default, before, q } = request.query;
      const page = await uploads.list(actorOf(request), limit, before, q);
      linkNextPage(reply, publicUrl, '/api/uploads', { limit, q }, page.next);
      return page.items;
    },
  );

  app.get(
    '/api/uploads/:id',
    {
      config: { auth: true },
      schema: {
        tags: ['uploads'],
        operationId: 'getUpload',
        summary: 'One of your uploads',
        params: IdParams,
        response: { 200: answer('The upload', UploadResponse), ...errorResponses('UPLOAD_NOT_FOUND', 'UPLOAD_GONE') },
      },
    },
    async (request) => uploads.get(actorOf(request), request.params.id),
  );

  app.delete(
    '/api/uploads/:id',
    {
      config: { auth: true },
      schema: {
        tags: ['uploads'],
        operationId: 'deleteUpload',
        summary: 'Delete an upload; its URLs then answer 410 Gone',
        params: IdParams,
        response: { 204: answer('Deleted', Type.Null()), ...errorResponses('UPLOAD_NOT_FOUND', 'UPLOAD_GONE') },
      },
    },
    async (request, reply) => {
      await uploads.delete(actorOf(request), request.params.id);
      return reply.code(204).send(null);
    },
  );
}
