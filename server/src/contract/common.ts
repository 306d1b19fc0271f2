import { type TSchema, Type } from 'typebox';
import { LIST_LIMIT } from '../domain/pagination.js';

export const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });

/** The `limit` of a keyset-paged list (follow its Link header for the next page). */
export const pageLimit = (items: string) =>
  Type.Optional(Type.Integer({ minimum: 1, maximum: LIST_LIMIT.max, default: LIST_LIMIT.default, description: `${items} per page` }));

/**
 * A success answer's schema with what the API reference says of it (the response's description
 * in the OpenAPI document; @fastify/swagger's keyword): `200: answer('Your uploads', UploadList)`.
 */
export const answer = <T extends TSchema>(description: string, schema: T): T => ({ ...schema, 'x-response-description': description });
