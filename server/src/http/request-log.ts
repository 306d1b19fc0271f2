import { type FastifyBaseLogger, type FastifyReply, type FastifyRequest, LogController } from 'fastify';

/** The routes of the image bytes (file.routes.ts, thumbnail.routes.ts), as Fastify names them. */
const FILE_ROUTES = new Set(['/i/:file', '/t/:file']);

const isFileRoute = (request: FastifyRequest): boolean => FILE_ROUTES.has(request.routeOptions.url ?? '');

/**
 * Whether file hits are written at this logger's level (debug and below). When they are not,
 * nothing needs to see those requests, so the in-memory fast path (from-memory.ts) may
 * answer them before Fastify. A disabled logger has no level.
 */
export function logsFileHits(logger: FastifyBaseLogger): boolean {
  return logger.level === 'debug' || logger.level === 'trace';
}

/**
 * Fastify's request log, except for raw files and thumbnails: an image host's traffic is
 * mostly the same images fetched again and again (Discord's proxy, browsers), so a hit
 * (2xx/3xx) is one line at debug, and the default level (info) stays the fast configuration.
 * A miss (404, 410, 416 ...) is still one line at info, with its URL; an error is logged as
 * for any route. Every other request is logged as Fastify does.
 */
export class RequestLog extends LogController {
  override incomingRequest(request: FastifyRequest, reply: FastifyReply): void {
    // The completed line carries the request, so a file request is one line, not two.
    if (!isFileRoute(request)) super.incomingRequest(request, reply);
  }

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    if (error || !isFileRoute(request)) return super.requestCompleted(error, request, reply);
    if (this.isLogDisabled(request)) return;
    const line = { req: request, res: reply, responseTime: reply.elapsedTime };
    if (reply.statusCode < 400) reply.log.debug(line, 'file served');
    else reply.log.info(line, 'request completed');
  }
}
