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

/** An error answer that can carry only `codes` (all of one status): ErrorResponse with `code` narrowed. */
export function errorResponse(codes: readonly ErrorCode[]) {
  return Type.Object(
    {
      ...ErrorResponse.properties,
      code: Type.Unsafe<ErrorCode>({ ...ErrorResponse.properties.code, enum: [...codes], examples: [codes[0]] }),
    },
    { description: `The error answer; \`code\` is one of ${codes.join(', ')}`, [ERROR_CODES_KEYWORD]: [...codes] },
  );
}

/**
 * A route's own error answers, for its `response`, by status:
 * `response: { 200: UploadResponse, ...errorResponses('UPLOAD_NOT_FOUND', 'UPLOAD_GONE') }`.
 * Name every code the route's handler and services can throw. The errors every route shares are
 * added by the OpenAPI plugin and need not be named: 401/403 on `config.auth` routes, 400 on
 * validated input, 413/415 on JSON bodies, and 400, 406, 408, 429, 431, 5XX everywhere.
 */
export function errorResponses(...codes: ErrorCode[]): Record<number, ReturnType<typeof errorResponse>> {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of new Set(codes)) byStatus.set(ERROR_STATUS[code], [...(byStatus.get(ERROR_STATUS[code]) ?? []), code]);
  return Object.fromEntries([...byStatus].map(([status, atStatus]) => [status, errorResponse(atStatus)]));
}
