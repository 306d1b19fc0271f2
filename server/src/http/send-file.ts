import { Readable } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ByteRange } from '../domain/byte-range.js';
import { AppError } from '../domain/errors.js';
import { parseRange } from './range.js';

/** Headers for user content: cacheable forever (ids never change bytes), never active. */
export const USER_CONTENT_HEADERS = {
  'cache-control': 'public, max-age=31536000, immutable',
  'x-content-type-options': 'nosniff',
  'content-security-policy': "default-src 'none'; sandbox",
  'cross-origin-resource-policy': 'cross-origin',
  'accept-ranges': 'bytes',
};

/** What a service says of a stored file before any byte is read. */
export interface SendableFile {
  mime: string;
  size: number;
  /** Strong, quoted: the bytes behind it never change. */
  etag: string;
}

/** The whole file, or the inclusive `range` of it. */
export type ReadFile = (range?: ByteRange) => Promise<Buffer | Readable>;

/**
 * Answers with a stored file (GET and HEAD): user-content headers, ETag with 304 for
 * If-None-Match, a single Range (honouring If-Range) as 206, and 416 for a range outside it.
 * Nothing is read for a 304, a 416 or a HEAD; caching headers are set only once the answer is
 * certain, so an error (say the bytes vanished) never carries them.
 */
export async function sendFile(request: FastifyRequest, reply: FastifyReply, file: SendableFile, read: ReadFile): Promise<FastifyReply> {
  if (matchesEtag(request.headers['if-none-match'], file.etag)) {
    return reply.headers(USER_CONTENT_HEADERS).header('etag', file.etag).code(304).send();
  }
  const ifRange = request.headers['if-range'];
  const range = ifRange === undefined || ifRange === file.etag ? parseRange(request.headers.range, file.size) : undefined;
  if (range === 'unsatisfiable') {
    reply.header('content-range', `bytes */${file.size}`);
    throw new AppError('RANGE_NOT_SATISFIABLE', `The file has ${file.size} bytes; that range is outside it.`);
  }
  // HEAD: an empty body keeps our Content-Length; reading would pull the file off disk to discard it.
  const body = request.method === 'HEAD' ? Readable.from([]) : await read(range);
  reply.headers(USER_CONTENT_HEADERS).header('etag', file.etag).type(file.mime);
  if (range) reply.code(206).header('content-range', `bytes ${range.start}-${range.end}/${file.size}`);
  return reply.header('content-length', range ? range.end - range.start + 1 : file.size).send(body);
}

/** If-None-Match (RFC 9110 §13.1.2): `*` or a list of tags, compared weakly. */
function matchesEtag(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  return header.split(',').some((tag) => {
    const trimmed = tag.trim();
    return trimmed === '*' || trimmed.replace(/^W\//, '') === etag;
  });
}
