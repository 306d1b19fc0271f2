import { Type } from 'typebox';
import { ERROR_STATUS, type ErrorCode } from '../domain/errors.js';

const CODES = Object.keys(ERROR_STATUS) as ErrorCode[];

/** SPEC.md's error shape: every error a client can see, JSON, never cached. */
export const ErrorResponse = Type.Object(
  {
    statusCode: Type.Integer({ description: 'The HTTP status, repeated', examples: [401] }),
    code: Type.Unsafe<ErrorCode>({
      type: 'string',
      enum: CODES,
      description: 'Stable machine-readable code from the catalogue (see the table in the description)',
      examples: ['UNAUTHORIZED'],
    }),
    error: Type.String({ description: "The status' reason phrase", examples: ['Unauthorized'] }),
    message: Type.String({
      description: 'What went wrong and what to do, for people',
      examples: ['Send your API key in the token header (or Authorization: Bearer).'],
    }),
    request_id: Type.String({ description: 'Also in the x-request-id header; quote it when reporting a problem', examples: ['Qm3xT0b2a'] }),
  },
  { description: 'Every error answer of the API' },
);

/** Marks a route's error answers in its response schemas: the codes that status may carry. */
export const ERROR_CODES_KEYWORD = 'x-error-codes';

/**
 * A route's own error answers, for its `response`: `...errorResponses('UPLOAD_NOT_FOUND', 'UPLOAD_GONE')`.
 * Errors every route shares (401 on `auth` routes, 400 on validated input, 406, 429, 500, 503)
 * are added by the OpenAPI plugin; name here what the route's services throw.
 */
export function errorResponses(...codes: ErrorCode[]): Record<number, typeof ErrorResponse> {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of codes) byStatus.set(ERROR_STATUS[code], [...(byStatus.get(ERROR_STATUS[code]) ?? []), code]);
  return Object.fromEntries(
    [...byStatus].map(([status, atStatus]) => [status, Type.Object(ErrorResponse.properties, { [ERROR_CODES_KEYWORD]: atStatus })]),
  );
}
