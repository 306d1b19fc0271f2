import { STATUS_CODES } from 'node:http';
import { ERROR_CODES_KEYWORD, errorResponse } from '../../contract/error.schemas.js';
import { ERROR_STATUS, type ErrorCode } from '../../domain/errors.js';
import type { LimitClass } from './rate-limit.plugin.js';

/**
 * The error answers of every operation in the OpenAPI document: each status an operation can
 * answer, with the codes it can carry there. A route names its own (`errorResponses(...)` in its
 * response schemas, contract/error.schemas.ts); the ones that follow from what the route is
 * (signed in, validated, takes a body, rate limited...) and those of the server around every
 * route (timeouts, connection caps, shutdown) are added here, so no route has to repeat them.
 */

/** What the document needs to know of a route to tell which errors it shares with others. */
export interface RouteTraits {
  method: string;
  url: string;
  auth: boolean;
  limit: LimitClass;
  /** It validates params, a query string or a body against a schema. */
  validates: boolean;
}

/** Methods whose body Fastify parses (with the JSON parser's 64 KiB limit, or refused as 415). */
const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** The codes a route answers because of what it is, besides those its handler throws. */
export function sharedErrorCodes(route: RouteTraits): ErrorCode[] {
  const codes: ErrorCode[] = [
    // Anywhere: a URL with broken percent-encoding, a body cut off, bytes that are not HTTP;
    // headers too slow or too large; too many connections; a failure; the server shutting down.
    'BAD_REQUEST',
    'REQUEST_TIMEOUT',
    'HEADERS_TOO_LARGE',
    'EXPECTATION_FAILED',
    'TOO_MANY_CONNECTIONS',
    'INTERNAL_ERROR',
    'SERVICE_UNAVAILABLE',
  ];
  if (route.url.startsWith('/api/')) codes.push('NOT_ACCEPTABLE');
  if (route.limit !== 'exempt') codes.push('RATE_LIMITED');
  // A disabled account's key or session is refused on every route that takes one.
  if (route.auth) codes.push('UNAUTHORIZED', 'ACCOUNT_DISABLED');
  if (route.auth && BODY_METHODS.has(route.method)) codes.push('CSRF_INVALID');
  if (route.validates) codes.push('VALIDATION_FAILED');
  // A path segment over Fastify's maxParamLength (200) is answered before routing, as 404.
  if (route.url.includes(':')) codes.push('NOT_FOUND');
  // The upload route refuses anything but multipart before its body is read (MALFORMED_MULTIPART).
  if (BODY_METHODS.has(route.method) && route.url !== '/api/upload') codes.push('PAYLOAD_TOO_LARGE', 'UNSUPPORTED_MEDIA_TYPE');
  return codes;
}

/** The codes an error response schema lists (the keyword errorResponse() sets), if it is one. */
export function errorCodesOf(schema: unknown): ErrorCode[] | undefined {
  const codes = (schema as Record<string, unknown> | undefined)?.[ERROR_CODES_KEYWORD];
  return Array.isArray(codes) ? (codes as ErrorCode[]) : undefined;
}

/** A route's response schemas with the shared error codes merged in, one error schema per status. */
export function withSharedErrors(response: Record<string, unknown>, shared: ErrorCode[]): Record<string, unknown> {
  const byStatus = new Map<string, Set<ErrorCode>>();
  for (const [status, schema] of Object.entries(response)) {
    const codes = errorCodesOf(schema);
    if (codes) byStatus.set(status, new Set(codes));
  }
  for (const code of shared) {
    const status = String(ERROR_STATUS[code]);
    byStatus.set(status, (byStatus.get(status) ?? new Set()).add(code));
  }
  const out = { ...response };
  for (const [status, codes] of byStatus) out[status] = errorResponse(sortedCodes(codes));
  return out;
}

/** In the catalogue's order, so the document does not depend on the order routes name them. */
const CATALOGUE_ORDER = Object.keys(ERROR_STATUS) as ErrorCode[];
const sortedCodes = (codes: Iterable<ErrorCode>): ErrorCode[] => {
  const set = new Set(codes);
  return CATALOGUE_ORDER.filter((code) => set.has(code));
};

/** What the server says, for the examples; the messages the code sends, ids from SPEC.md's samples. */
const EXAMPLE_MESSAGES: Partial<Record<ErrorCode, string>> = {
  BAD_REQUEST: 'The body is not valid JSON.',
  NO_FILES: 'The request has no image: send each image as a multipart part named files[].',
  EMPTY_FILE: 'files[0] (shot.png) is empty.',
  TOO_MANY_FILES: 'Too many files in one request: at most 10 are allowed.',
  MALFORMED_MULTIPART: 'This is not a multipart body: send multipart/form-data with a files[] part for each image.',
  VALIDATION_FAILED: 'Invalid querystring: limit must be <= 1000.',
  UNAUTHORIZED: 'Send your API key in the token header (or Authorization: Bearer).',
  INVALID_CREDENTIALS: 'Wrong username or password.',
  FORBIDDEN: 'Only the admin can see or change the server-wide embed defaults.',
  CSRF_INVALID: 'Missing or wrong x-csrf-token header: send the csrf_token from sign-in (or GET /api/me).',
  REGISTRATION_CLOSED: 'Registration is closed on this server; ask its admin for an account.',
  ACCOUNT_DISABLED: "The account alice is disabled: ask the server's admin.",
  SELF_CHANGE_REFUSED: 'You cannot change your own role: another admin has to.',
  NOT_FOUND: 'Nothing here: that path segment is far longer than any id.',
  UPLOAD_NOT_FOUND: 'You have no upload with id k3J9aQ2xZp.',
  METHOD_NOT_ALLOWED: 'PUT is not allowed here; use GET or DELETE.',
  NOT_ACCEPTABLE: 'This API answers in JSON: send Accept: application/json (or */*).',
  REQUEST_TIMEOUT: 'The request headers took too long to arrive.',
  USERNAME_TAKEN: 'The username alice is taken; choose another.',
  UPLOAD_GONE: 'Upload k3J9aQ2xZp has been deleted.',
  PAYLOAD_TOO_LARGE: "files[0] (shot.png) is larger than this server's limit of 25 MiB per file.",
  IMAGE_TOO_LARGE: 'files[0] (bomb.png) is 100000x100000 pixels, over the limit of 100000000 pixels',
  QUOTA_EXCEEDED:
    'This upload (2.1 MiB) would take you over your quota: 99.0 MiB of 100 MiB used. Delete some uploads or ask the admin for more space.',
  UNSUPPORTED_MEDIA_TYPE: 'files[1] (notes.txt) is not a supported image: text/plain (supported: PNG, JPEG, GIF, WebP, AVIF)',
  CORRUPT_IMAGE: 'files[0] (shot.png) is a truncated or corrupt image (premature end of input file)',
  RANGE_NOT_SATISFIABLE: 'The file has 48213 bytes; that range is outside it.',
  EXPECTATION_FAILED: 'This server cannot meet "Expect: 200-ok"; send the request without it (only Expect: 100-continue is understood).',
  RATE_LIMITED: 'Too many requests for your account (at most 600 per minute): try again in 12 seconds.',
  TOO_MANY_CONNECTIONS: 'Too many connections from your address (at most 64 at once); close some and try again.',
  HEADERS_TOO_LARGE: 'The request headers are too large.',
  INTERNAL_ERROR: 'Something went wrong on our side. If it keeps happening, report request Qm3xT0b2a.',
  NOT_IMPLEMENTED: 'Only format=json is available.',
  SERVICE_UNAVAILABLE: 'The server is restarting; try again in a moment.',
  INSUFFICIENT_STORAGE: 'The server is out of storage space; try again later.',
};

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

const ERROR_SCHEMA = '#/components/schemas/ErrorResponse';
const RETRY_AFTER: JsonObject = {
  'Retry-After': { description: 'Seconds to wait before trying again', schema: { type: 'integer', minimum: 1 } },
};

function example(code: ErrorCode): JsonObject {
  const status = ERROR_STATUS[code];
  return {
    summary: code,
    value: {
      statusCode: status,
      code,
      error: STATUS_CODES[status] ?? 'Error',
      message: EXAMPLE_MESSAGES[code] ?? `${STATUS_CODES[status] ?? 'Error'}.`,
      request_id: 'Qm3xT0b2a',
    },
  };
}

const codeList = (codes: ErrorCode[]) => codes.map((code) => `\`${code}\``).join(', ');

/** The error answer of one status as the document shows it: the shape, its codes, examples. */
export function errorAnswer(status: number, codes: ErrorCode[], withPage = false): JsonObject {
  const retry = status === 429 || status >= 500;
  const json: JsonObject = {
    schema: { allOf: [{ $ref: ERROR_SCHEMA }], properties: { code: { enum: codes } } },
    examples: Object.fromEntries(codes.map((code) => [code, example(code)])),
  };
  return {
    description: [
      `${STATUS_CODES[status] ?? 'Error'}: \`code\` is ${codes.length === 1 ? codeList(codes) : `one of ${codeList(codes)}`}.`,
      withPage ? 'A browser gets an HTML page with the same status.' : '',
      retry ? 'Retry-After says when to try again.' : '',
    ]
      .filter(Boolean)
      .join(' '),
    ...(retry ? { headers: RETRY_AFTER } : {}),
    content: withPage ? { 'text/html': { schema: { type: 'string' } }, 'application/json': json } : { 'application/json': json },
  };
}

/**
 * Answers every operation shares, whole: an operation whose codes at a status are exactly these
 * refers to components/responses instead of repeating them.
 */
export const SHARED_ERROR_ANSWERS: Record<string, { status: number; codes: ErrorCode[] }> = {
  NotAcceptable: { status: 406, codes: ['NOT_ACCEPTABLE'] },
  RequestTimeout: { status: 408, codes: ['REQUEST_TIMEOUT'] },
  ExpectationFailed: { status: 417, codes: ['EXPECTATION_FAILED'] },
  TooManyRequests: { status: 429, codes: ['RATE_LIMITED', 'TOO_MANY_CONNECTIONS'] },
  TooManyConnections: { status: 429, codes: ['TOO_MANY_CONNECTIONS'] },
  HeadersTooLarge: { status: 431, codes: ['HEADERS_TOO_LARGE'] },
  InternalError: { status: 500, codes: ['INTERNAL_ERROR'] },
  ServiceUnavailable: { status: 503, codes: ['SERVICE_UNAVAILABLE'] },
};

export const sharedErrorComponents = (): JsonObject =>
  Object.fromEntries(Object.entries(SHARED_ERROR_ANSWERS).map(([name, { status, codes }]) => [name, errorAnswer(status, codes)]));

/**
 * An operation's responses with each error status (marked by errorResponse's keyword) in its
 * final form: a shared answer's $ref, or its own codes. `pageStatuses`: statuses a browser gets
 * as an HTML page.
 */
export function describeErrors(responses: JsonObject, pageStatuses: ReadonlySet<number> = new Set()): JsonObject {
  const out: JsonObject = {};
  for (const [key, response] of Object.entries(responses)) {
    const content = (response as { content?: Record<string, { schema?: unknown }> } | null)?.content;
    const codes = errorCodesOf(content?.['application/json']?.schema);
    if (!codes) {
      out[key] = response;
      continue;
    }
    const status = Number(key);
    const shared = Object.entries(SHARED_ERROR_ANSWERS).find(
      ([, answer]) => answer.status === status && answer.codes.join() === sortedCodes(codes).join(),
    );
    out[key] = shared ? { $ref: `#/components/responses/${shared[0]}` } : errorAnswer(status, codes, pageStatuses.has(status));
  }
  return out;
}
