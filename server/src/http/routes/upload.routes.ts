import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { AppError } from '../../domain/errors.js';
import { LIST_LIMIT } from '../../domain/pagination.js';
import type { IncomingPart, UploadService } from '../../services/upload.service.js';
import { actorOf } from '../plugins/auth.plugin.js';
import { IdParams } from '../../contract/common.js';
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
        summary: 'Upload images: multipart/form-data, one files[] part per image (file is an alias)',
        consumes: ['multipart/form-data'],
        response: { 201: UploadCreatedResponse },
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
        summary: 'Your uploads, newest first; follow the Link header for the next page',
        querystring: UploadListQuery,
        response: { 200: Type.Array(UploadResponse) },
      },
    },
    async (request, reply) => {
      // Ajv fills in the default; the type only knows the client may leave it out.
      const { limit = LIST_LIMIT.default, before } = request.query;
      const page = await uploads.list(actorOf(request), limit, before);
      if (page.next) reply.header('link', `<${publicUrl}/api/uploads?limit=${limit}&before=${page.next}>; rel="next"`);
      return page.uploads;
    },
  );

  app.get(
    '/api/uploads/:id',
    {
      config: { auth: true },
      schema: { tags: ['uploads'], summary: 'One of your uploads', params: IdParams, response: { 200: UploadResponse } },
    },
    async (request) => uploads.get(actorOf(request), request.params.id),
  );

  app.delete(
    '/api/uploads/:id',
    {
      config: { auth: true },
      schema: {
        tags: ['uploads'],
        summary: 'Delete an upload; its URLs then answer 410 Gone',
        params: IdParams,
        response: { 204: Type.Null() },
      },
    },
    async (request, reply) => {
      await uploads.delete(actorOf(request), request.params.id);
      return reply.code(204).send(null);
    },
  );
}
