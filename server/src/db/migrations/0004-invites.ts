import type { Kysely, Migration } from 'kysely';
import type { Dialect } from '../database.js';

export const invites = (dialect: Dialect): Migration => ({
  // Migrations must not depend on today's schema types, so they see the database untyped.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  async up(db: Kysely<any>) {
    // A revoked invite is deleted: an unknown code and a revoked one answer alike.
    await db.schema
      .createTable('invite')
      // seq: a strict newest-first order for the list, even within one millisecond.
      .addColumn('seq', dialect === 'postgres' ? 'bigserial' : 'integer', (c) =>
        dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement(),
      )
      .addColumn('id', 'text', (c) => c.notNull().unique())
      .addColumn('code', 'text', (c) => c.notNull().unique())
      .addColumn('max_uses', 'integer', (c) => c.notNull())
      .addColumn('uses', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('expires_at', 'text')
      .addColumn('created_at', 'text', (c) => c.notNull())
      // An invite goes with the admin who made it.
      .addColumn('created_by', 'text', (c) => c.notNull().references('user.id').onDelete('cascade'))
      .execute();
  },
});
