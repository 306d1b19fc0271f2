import { STATUS_CODES } from 'node:http';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { AppError, ERROR_STATUS, type ErrorCode, isAppError } from '../../domain/errors.js';
import { lingerAfterAnswer } from '../lingering-close.js';

interface ErrorBody {
  statusCode: number;
  code: ErrorCode;
  error: string;
  message: string;
  request_id: string;
}

export interface ErrorsOptions {
  maxFiles: number;
  maxFileSize: number;
}

/** Fastify's and its plugins' own errors, in words a person can act on. */
function fromFastify(error: FastifyError, options: ErrorsOptions): AppError | undefined {
  switch (error.code) {
    case 'FST_REQ_FILE_TOO_LARGE':
      return new AppError('PAYLOAD_TOO_LARGE', `A file is larger than this server's limit of ${options.maxFileSize} bytes.`);
    case 'FST_FILES_LIMIT':
      return new AppError('TOO_MANY_FILES', `Too many files in one request: at most ${options.maxFiles} are allowed.`);
    case 'FST_PARTS_LIMIT':
    case 'FST_FIELDS_LIMIT':
      return new AppError('TOO_MANY_FILES', 'Too many parts in one multipart request.');
    // A field part declared application/json that is not, or named like a prototype property:
    // @fastify/multipart says 406 and 400; to the client it is a malformed body either way.
    case 'FST_INVALID_JSON_FIELD_ERROR':
    case 'FST_PROTO_VIOLATION':
      return new AppError('MALFORMED_MULTIPART', `The multipart body is malformed: ${error.message}.`);
    case 'FST_INVALID_MULTIPART_CONTENT_TYPE':
      return new AppError(
        'MALFORMED_MULTIPART',
        'This is not a multipart body: send multipart/form-data with a files[] part for each image.',
      );
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new AppError('PAYLOAD_TOO_LARGE', 'The request body is too large.');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new AppError(
        'UNSUPPORTED_MEDIA_TYPE',
        `This endpoint does not take ${error.message.replace(/^Unsupported Media Type:?\s*/, '') || 'that content type'}: send JSON.`,
      );
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new AppError('BAD_REQUEST', 'The JSON body is empty.');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new AppError('BAD_REQUEST', 'The body is not valid JSON.');
    case 'FST_ERR_BAD_URL':
      return new AppError('BAD_REQUEST', 'The URL is not valid: each % must start a percent-encoded UTF-8 character (such as %20).');
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return new AppError('NOT_FOUND', 'Nothing here: that path segment is far longer than any id.');
    default:
      break;
  }
  if (error.validation) return new AppError('VALIDATION_FAILED', validationMessage(error));
  return undefined;
}

/** "Invalid querystring: limit must be <= 1000", naming the field even for unknown ones. */
function validationMessage(error: FastifyError): string {
  const context = error.validationContext ?? 'request';
  const problems = (error.validation ?? []).map((issue) => {
    const path = issue.instancePath.replace(/^\//, '').replace(/\//g, '.');
    const unknown = (issue.params as { additionalProperty?: string }).additionalProperty;
    if (unknown !== undefined) return `unknown field "${path ? `${path}.` : ''}${unknown}"`;
    return `${path || context} ${issue.message ?? 'is invalid'}`;
  });
  return `Invalid ${context}: ${problems.join('; ') || error.message}.`;
}

const CODE_FOR_STATUS = new Map<number, ErrorCode>();
for (const [code, status] of Object.entries(ERROR_STATUS) as [ErrorCode, number][]) {
  if (!CODE_FOR_STATUS.has(status)) CODE_FOR_STATUS.set(status, code);
}

/**
 * Another client error of Fastify's or a plugin's own (an invalid Content-Length, say): the
 * catalogue's first code of its status, or BAD_REQUEST. A client only ever gets catalogue codes.
 */
const clientError = (status: number, message: string): AppError => new AppError(CODE_FOR_STATUS.get(status) ?? 'BAD_REQUEST', message);

interface ErrorBodyParts {
  statusCode: number;
  code: ErrorCode;
  message: string;
}

/**
 * What busboy (under @fastify/multipart) says of a body it cannot parse: plain Errors, told apart
 * by their words. Anything else failing during an upload (the database refusing a row, the
 * storage driver) is ours, not a malformed body, and must not reach the client as a 400.
 * The content type is read from the header, not with @fastify/multipart's request.isMultipart():
 * framework errors (a URL with broken percent-encoding) come with a bare request that has no
 * plugin decorations, and calling one there threw out of the error handler.
 */
const BUSBOY_PARSE_ERROR = new RegExp(
  `^(${[
    'Unexpected end of multipart data',
    '\\w+ terminated early due to unexpected end of multipart data',
    'Multipart: Boundary not found',
    'Boundary required',
    // A boundary longer than busboy searches for (RFC 2046 allows 70 characters).
    'The needle cannot have a length bigger than 256\\.',
  ].join('|')})$`,
);

const isMultipartParseError = (request: FastifyRequest, error: Error): boolean =>
  /^multipart\//i.test(request.headers['content-type'] ?? '') && BUSBOY_PARSE_ERROR.test(error.message);

function toErrorBody(request: FastifyRequest, error: ErrorBodyParts): ErrorBody {
  return {
    statusCode: error.statusCode,
    code: error.code,
    error: STATUS_CODES[error.statusCode] ?? 'Error',
    message: error.message,
    request_id: request.id,
  };
}

/**
 * Writes any error as SPEC.md's JSON. Also used for Fastify's framework errors (see app.ts),
 * where nothing catches a throw: it would end the process. So it never throws: should writing
 * the answer fail, a plain 500 leaves by the raw response (or the socket is closed).
 */
export function sendError(raw: FastifyError, request: FastifyRequest, reply: FastifyReply, options: ErrorsOptions): FastifyReply {
  try {
    return writeError(raw, request, reply, options);
  } catch (failure) {
    request.log.error({ err: failure }, 'the error handler failed');
    reply.hijack();
    const body = {
      statusCode: 500,
      code: 'INTERNAL_ERROR',
      error: STATUS_CODES[500],
      message: 'Something went wrong on our side.',
      request_id: request.id,
    };
    if (reply.raw.headersSent) reply.raw.destroy();
    else reply.raw.writeHead(500, { 'content-type': 'application/json; charset=utf-8', connection: 'close' }).end(JSON.stringify(body));
    return reply;
  }
}

function writeError(raw: FastifyError, request: FastifyRequest, reply: FastifyReply, options: ErrorsOptions): FastifyReply {
  let error: ErrorBodyParts;
  let mapped: AppError | undefined;
  if (isAppError(raw)) {
    error = raw;
    // Ours, but caused by something the operator has to see (S3 unreachable): the client gets the message, the log the cause.
    if (raw.cause !== undefined) request.log.warn({ err: raw.cause }, raw.message);
  } else if ((mapped = fromFastify(raw, options))) error = mapped;
  else if (raw.code === 'ENOSPC' || raw.code === 'EDQUOT' || raw.code === 'EFBIG')
    error = new AppError('INSUFFICIENT_STORAGE', 'The server is out of storage space; try again later.');
  else if (raw.code === 'ECONNRESET' && !request.raw.complete)
    // The client went away in the middle of its body (Node's "aborted"): its error, not ours, and no one hears the answer.
    error = new AppError('BAD_REQUEST', 'The client closed the connection before its request body was complete.');
  else if (isMultipartParseError(request, raw))
    error = new AppError('MALFORMED_MULTIPART', `The multipart body is malformed: ${raw.message}.`);
  else if (raw.statusCode && raw.statusCode >= 400 && raw.statusCode < 500) error = clientError(raw.statusCode, raw.message);
  else {
    request.log.error({ err: raw }, 'unhandled error');
    error = new AppError('INTERNAL_ERROR', `Something went wrong on our side. If it keeps happening, report request ${request.id}.`);
  }
  // Errors are never cached.
  reply.header('cache-control', 'no-store').header('x-request-id', request.id);
  // Refused before its body was all read (an upload that failed part-way): the rest of the
  // body is still on its way, so the connection cannot carry another request. It closes after
  // the answer, once the rest of the body is drained (bounded), so the client receives it.
  if (!request.raw.complete) {
    reply.header('connection', 'close');
    lingerAfterAnswer(request.raw);
  }
  if (isAppError(raw) && raw.retryAfter !== undefined) reply.header('retry-after', String(raw.retryAfter));
  else if (error.statusCode >= 500) reply.header('retry-after', '30');
  return reply.code(error.statusCode).type('application/json; charset=utf-8').send(toErrorBody(request, error));
}

/** Where people guess uploads go (other hosts' APIs, the plural of the list route): tell them. */
const MISROUTED_UPLOAD = /^(\/api)?\/uploads?\/?$/;
const UPLOADS_GO_TO = 'Uploads go to POST /api/upload (multipart/form-data, one files[] part per image).';

/**
 * One JSON shape for every error, 404s and plugin errors included. Unknown errors are
 * logged with the request id and leave as a plain 500: no stack or path reaches a client.
 */
export const errorsPlugin = fp<ErrorsOptions>(
  async (app: FastifyInstance, options) => {
    const routes: { method: string; pattern: RegExp }[] = [];
    app.addHook('onRoute', (route) => {
      const source = route.url.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/:[A-Za-z_]+/g, '[^/]+');
      for (const method of [route.method].flat()) routes.push({ method, pattern: new RegExp(`^${source}$`) });
    });

    app.setErrorHandler((raw: FastifyError, request: FastifyRequest, reply: FastifyReply) => sendError(raw, request, reply, options));

    app.setNotFoundHandler((request, reply) => {
      // Routes match with or without a trailing slash (ignoreTrailingSlash in app.ts).
      const path = request.url.split('?')[0]!.replace(/(.)\/$/, '$1');
      const allowed = [...new Set(routes.filter((r) => r.pattern.test(path)).map((r) => r.method))];
      const misroutedUpload = request.method === 'POST' && MISROUTED_UPLOAD.test(path);
      if (allowed.length > 0) {
        reply.header('allow', allowed.join(', '));
        throw new AppError(
          'METHOD_NOT_ALLOWED',
          misroutedUpload ? UPLOADS_GO_TO : `${request.method} is not allowed here; use ${allowed.join(' or ')}.`,
        );
      }
      throw new AppError('NOT_FOUND', misroutedUpload ? UPLOADS_GO_TO : `Nothing at ${request.method} ${path}.`);
    });
  },
  { name: 'errors' },
);
