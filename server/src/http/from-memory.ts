import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FileService, InMemory } from '../services/file.service.js';
import type { ThumbnailService } from '../services/thumbnail.service.js';
import { splitFileName } from './file-name.js';
import { type SendableFile, USER_CONTENT_HEADERS } from './send-file.js';

/** As the routes' parameter schemas: longer names go to the routes, which refuse them. */
const MAX_NAME_LENGTH = 80;

/**
 * The routes this path answers for without any of their hooks; the rate-limit plugin refuses
 * to let one of them carry a limit.
 */
export const FAST_PATH_ROUTES: readonly string[] = ['/i/:file', '/t/:file'];

/** Answers a request itself and returns true, or returns false and leaves it untouched. */
export type FastPath = (request: IncomingMessage, response: ServerResponse) => boolean;

export interface FromMemoryOptions {
  files: FileService;
  thumbnails: ThumbnailService;
  nextRequestId: () => string;
}

/**
 * The hot path of the raw and thumbnail routes, run on node:http before Fastify sees the
 * request. An image host's traffic is mostly the same recent files fetched again and again
 * (Discord's proxy, browsers); when a plain GET or HEAD of `/i/<id>.<ext>` or `/t/<id>.webp`
 * finds what it needs (the upload's metadata and the bytes) in memory, it is answered at once
 * with exactly the headers of the routes (file.routes.ts, thumbnail.routes.ts, send-file.ts),
 * for a fraction of Fastify's request cycle. Everything else (a file not in memory, a Range
 * or conditional request, an odd path) goes to Fastify, whose routes give the same answer
 * the long way.
 *
 * The caller (app.ts) installs it only while no hook needs to see these requests (their hits
 * are not logged at the configured level: request-log.ts), bypasses it while draining and
 * counts its answers as in flight until they close. A hook added later for these routes must be mirrored here or switch it off.
 */
export function fromMemory({ files, thumbnails, nextRequestId }: FromMemoryOptions): FastPath {
  const find = (raw: boolean, id: string, ext: string): InMemory<SendableFile> | undefined => {
    if (raw) return files.inMemory(id, ext);
    return ext === 'webp' ? thumbnails.inMemory(id) : undefined;
  };
  return (request, response) => {
    const { method, url, headers } = request;
    if ((method !== 'GET' && method !== 'HEAD') || url === undefined) return false;
    const raw = url.startsWith('/i/');
    if (!raw && !url.startsWith('/t/')) return false;
    if (headers.range !== undefined || headers['if-none-match'] !== undefined || headers['if-range'] !== undefined) return false;
    const query = url.indexOf('?');
    const name = query === -1 ? url.slice(3) : url.slice(3, query);
    // Ids and extensions are plain letters and digits: anything encoded or nested is the routes'.
    if (name.length > MAX_NAME_LENGTH || name.includes('/') || name.includes('%')) return false;
    const parts = splitFileName(name);
    const hit = parts && find(raw, parts.id, parts.ext);
    if (!hit) return false;
    response.writeHead(200, {
      'x-request-id': nextRequestId(),
      ...USER_CONTENT_HEADERS,
      etag: hit.file.etag,
      'content-type': hit.file.mime,
      'content-length': hit.bytes.length,
    });
    response.end(method === 'HEAD' ? undefined : hit.bytes);
    return true;
  };
}
