import { STATUS_CODES } from 'node:http';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { AppError, ERROR_STATUS, type ErrorCode, isAppError } from '../../domain/errors.js';

interface ErrorBody {
  statusCode: number;
  code: string;
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
    case 'FST_INVALID_MULTIPART_CONTENT_TYPE':
      return new AppError('MALFORMED_MULTIPART', 'Uploads must be sent as multipart/form-data with images in files[] parts.');
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new AppError('PAYLOAD_TOO_LARGE', 'The request body is too large.');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new AppError('UNSUPPORTED_MEDIA_TYPE', `This endpoint does not take ${error.message.replace(/^Unsupported Media Type:?\s*/, '') || 'that content type'}: send JSON.`);
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new AppError('BAD_REQUEST', 'The JSON body is empty.');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new AppError('BAD_REQUEST', 'The body is not valid JSON.');
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

const CODE_FOR_STATUS = new Map<number, string>();
for (const [code, status] of Object.entries(ERROR_STATUS) as [ErrorCode, number][]) {
  if (!CODE_FOR_STATUS.has(status)) CODE_FOR_STATUS.set(status, code);
}

/** A client error of Fastify's or Node's own (408, 414, 431 ...): keep its status, name it like ours. */
function clientError(status: number, message: string): ErrorBodyParts {
  const code = CODE_FOR_STATUS.get(status) ?? (STATUS_CODES[status] ?? 'Bad Request').toUpperCase().replace(/[^A-Z]+/g, '_');
  return { statusCode: status, code, message };
}

interface ErrorBodyParts {
  statusCode: number;
  code: string;
  message: string;
}

/** Multipart parse failures from busboy carry no code; errno errors (ENOSPC...) are ours, not the client's. */
const isMultipartParseError = (request: FastifyRequest, error: Error): boolean =>
  request.isMultipart() && !('code' in error && typeof error.code === 'string' && /^E[A-Z]+$/.test(error.code)) && !('statusCode' in error);

function toErrorBody(request: FastifyRequest, error: ErrorBodyParts): ErrorBody {
  return {
    statusCode: error.statusCode,
    code: error.code,
    error: STATUS_CODES[error.statusCode] ?? 'Error',
    message: error.message,
    request_id: request.id,
  };
}

/** Writes any error as SPEC.md's JSON. Also used for Fastify's framework errors (see app.ts). */
export function sendError(raw: FastifyError, request: FastifyRequest, reply: FastifyReply, options: ErrorsOptions): FastifyReply {
  let error: ErrorBodyParts;
  let mapped: AppError | undefined;
  if (isAppError(raw)) error = raw;
  else if ((mapped = fromFastify(raw, options))) error = mapped;
  else if (raw.code === 'ENOSPC' || raw.code === 'EDQUOT' || raw.code === 'EFBIG') error = new AppError('INSUFFICIENT_STORAGE', 'The server is out of storage space; try again later.');
  else if (isMultipartParseError(request, raw)) error = new AppError('MALFORMED_MULTIPART', `The multipart body is malformed: ${raw.message}.`);
  else if (raw.statusCode && raw.statusCode >= 400 && raw.statusCode < 500) error = clientError(raw.statusCode, raw.message);
  else {
    request.log.error({ err: raw }, 'unhandled error');
    error = new AppError('INTERNAL_ERROR', `Something went wrong on our side. If it keeps happening, report request ${request.id}.`);
  }
  // Errors are never cached.
  reply.header('cache-control', 'no-store').header('x-request-id', request.id);
  // Refused before its body was all read (an upload that failed part-way): the rest of the
  // body is still on its way, so the connection cannot carry another request. Closing it
  // after the answer frees the client, which would otherwise wait to finish sending.
  if (!request.raw.complete) reply.header('connection', 'close');
  if (error.statusCode >= 500) reply.header('retry-after', '30');
  return reply.code(error.statusCode).type('application/json; charset=utf-8').send(toErrorBody(request, error));
}

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
      const path = request.url.split('?')[0]!;
      const allowed = [...new Set(routes.filter((r) => r.pattern.test(path)).map((r) => r.method))];
      if (allowed.length > 0) {
        reply.header('allow', allowed.join(', '));
        throw new AppError('METHOD_NOT_ALLOWED', `${request.method} is not allowed here; use ${allowed.join(' or ')}.`);
      }
      throw new AppError('NOT_FOUND', `Nothing at ${request.method} ${path}.`);
    });
  },
  { name: 'errors' },
);
