import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { AppError } from '../../domain/errors.js';
import type { IncomingPart, UploadService } from '../../services/upload.service.js';
import { actorOf } from '../plugins/auth.plugin.js';
import { IdParams } from '../schemas/common.js';
import { UploadCreatedResponse, UploadListQuery, UploadResponse } from '../schemas/upload.schemas.js';
import type { App } from '../types.js';

export interface UploadRoutesOptions {
  uploads: UploadService;
  publicUrl: string;
}

/** The parts of a multipart request, in order. */
async function* incomingParts(request: FastifyRequest): AsyncGenerator<IncomingPart> {
  for await (const part of request.parts()) {
    if (part.type === 'file') {
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
      config: { auth: true },
      schema: {
        tags: ['uploads'],
        summary: 'Upload images: multipart/form-data, one files[] part per image (file is an alias)',
        consumes: ['multipart/form-data'],
        response: { 201: UploadCreatedResponse },
      },
    },
    async (request, reply) => {
      if (!request.isMultipart()) {
        throw new AppError('MALFORMED_MULTIPART', 'Uploads must be sent as multipart/form-data with images in files[] parts.');
      }
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
      const { limit, before } = request.query;
      const page = await uploads.list(actorOf(request), limit, before);
      if (page.next) reply.header('link', `<${publicUrl}/api/uploads?limit=${limit}&before=${page.next}>; rel="next"`);
      return page.uploads;
    },
  );

  app.get(
    '/api/uploads/:id',
    { config: { auth: true }, schema: { tags: ['uploads'], summary: 'One of your uploads', params: IdParams, response: { 200: UploadResponse } } },
    async (request) => uploads.get(actorOf(request), request.params.id),
  );

  app.delete(
    '/api/uploads/:id',
    {
      config: { auth: true },
      schema: { tags: ['uploads'], summary: 'Delete an upload; its URLs then answer 410 Gone', params: IdParams, response: { 204: Type.Null() } },
    },
    async (request, reply) => {
      await uploads.delete(actorOf(request), request.params.id);
      return reply.code(204).send(null);
    },
  );
}
