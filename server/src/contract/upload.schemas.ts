import { Type } from 'typebox';
import { LIST_LIMIT } from '../domain/pagination.js';

export const UploadResponse = Type.Object({
  id: Type.String(),
  name: Type.String(),
  url: Type.String(),
  raw_url: Type.String(),
  thumbnail_url: Type.String(),
  delete_url: Type.String(),
  mime: Type.String(),
  size: Type.Integer(),
  width: Type.Integer(),
  height: Type.Integer(),
  sha256: Type.String(),
  created_at: Type.String(),
});

export const UploadCreatedResponse = Type.Object({ files: Type.Array(UploadResponse) });

export const UploadListQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: LIST_LIMIT.max, default: LIST_LIMIT.default })),
    before: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  },
  { additionalProperties: false },
);
