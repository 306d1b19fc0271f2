import type { TSchema } from 'typebox';
import * as account from './account.schemas.js';
import * as admin from './admin.schemas.js';
import * as embed from './embed.schemas.js';
import * as error from './error.schemas.js';
import * as invite from './invite.schemas.js';
import * as upload from './upload.schemas.js';

/**
 * The schemas the OpenAPI document names (components/schemas), by their constant's name. Any
 * place of the document whose schema equals one of these becomes a $ref to it.
 */
export const NAMED_SCHEMAS: Readonly<Record<string, TSchema>> = Object.fromEntries(
  Object.entries<unknown>({ ...upload, ...account, ...admin, ...invite, ...embed, ...error }).filter(
    (entry): entry is [string, TSchema] => typeof entry[1] === 'object' && entry[1] !== null && /^[A-Z]/.test(entry[0]),
  ),
);
