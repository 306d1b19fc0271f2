import { type Kysely, type Migration, sql } from 'kysely';
import type { Dialect } from '../database.js';

/**
 * Admin control of accounts: a `disabled` flag on users, and upload tombstones that outlive a
 * deleted account (their `user_id` becomes null instead of the rows going with the user), so
 * the URLs of a deleted account's uploads answer 410 like any other deleted upload.
 */
export const accountAdmin = (dialect: Dialect): Migration => ({
  // Migrations must not depend on today's schema types, so they see the database untyped.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  async up(db: Kysely<any>) {
    await db.schema
      .alterTable('user')
      .addColumn('disabled', 'integer', (c) => c.notNull().defaultTo(0))
      .execute();

    if (dialect === 'postgres') {
      await sql`alter table upload alter column user_id drop not null`.execute(db);
      await sql`alter table upload drop constraint upload_user_id_fkey`.execute(db);
      await sql`alter table upload add constraint upload_user_id_fkey foreign key (user_id) references "user" (id) on delete set null`.execute(
        db,
      );
      return;
    }
    // SQLite cannot alter a column's constraint: the table is rebuilt, in one transaction (the
    // migrator runs SQLite's migrations outside one). No table references upload, so foreign
    // keys may stay on meanwhile.
    await db.transaction().execute(async (trx) => {
      await sql`create table upload_new (
        seq integer primary key autoincrement,
        id text not null unique,
        user_id text references user (id) on delete set null,
        name text not null,
        mime text not null,
        ext text not null,
        size bigint not null,
        width integer not null,
        height integer not null,
        sha256 text not null,
        dominant_color text not null,
        created_at text not null,
        deleted_at text,
        embed_overrides text
      )`.execute(trx);
      const columns = sql.raw(
        'seq, id, user_id, name, mime, ext, size, width, height, sha256, dominant_color, created_at, deleted_at, embed_overrides',
      );
      await sql`insert into upload_new (${columns}) select ${columns} from upload`.execute(trx);
      await sql`drop table upload`.execute(trx);
      await sql`alter table upload_new rename to upload`.execute(trx);
      await trx.schema.createIndex('upload_user_seq').on('upload').columns(['user_id', 'seq']).execute();
      await trx.schema.createIndex('upload_sha256').on('upload').column('sha256').execute();
    });
  },
});
