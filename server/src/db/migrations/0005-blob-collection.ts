import type { Kysely, Migration } from 'kysely';

export const blobCollection: Migration = {
  // Migrations must not depend on today's schema types, so they see the database untyped.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  async up(db: Kysely<any>) {
    // Set while a collector removes the blob's bytes from storage, outside any transaction
    // (UploadRepository.collectBlob): uploads of these bytes wait until it is gone.
    await db.schema.alterTable('blob').addColumn('collecting_at', 'text').execute();
  },
};
