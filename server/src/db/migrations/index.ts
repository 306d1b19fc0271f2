import type { Migration } from 'kysely';
import type { Dialect } from '../database.js';
import { initialSchema } from './0001-initial-schema.js';
import { embedSettings } from './0002-embed-settings.js';
import { accountAdmin } from './0003-account-admin.js';
import { invites } from './0004-invites.js';
import { blobCollection } from './0005-blob-collection.js';

/** Every migration, in order. Names sort lexically; never rename one that has shipped. */
export const migrations = (dialect: Dialect): Record<string, Migration> => ({
  '0001-initial-schema': initialSchema(dialect),
  '0002-embed-settings': embedSettings,
  '0003-account-admin': accountAdmin(dialect),
  '0004-invites': invites(dialect),
  '0005-blob-collection': blobCollection,
});
