import { Type } from 'typebox';

/** SPEC.md's one error shape. */
export const ErrorResponse = Type.Object(
  {
    statusCode: Type.Integer(),
    code: Type.String({ examples: ['UNSUPPORTED_MEDIA_TYPE'] }),
    error: Type.String(),
    message: Type.String(),
    request_id: Type.String(),
  },
  { $id: 'ErrorResponse' },
);

export const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });
