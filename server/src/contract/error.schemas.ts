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
