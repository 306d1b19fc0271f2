import type { Kysely, Migration } from 'kysely';

export const embedSettings: Migration = {
  // Migrations must not depend on today's schema types, so they see the database untyped.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  async up(db: Kysely<any>) {
    // One row per scope: 'server' for the admin's defaults, or a user id. Null = inherit.
    await db.schema
      .createTable('embed_setting')
      .addColumn('scope', 'text', (c) => c.primaryKey())
      .addColumn('enabled', 'integer')
      .addColumn('site_name', 'text')
      .addColumn('title', 'text')
      .addColumn('description', 'text')
      .addColumn('author', 'text')
      .addColumn('author_url', 'text')
      .addColumn('color', 'text')
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .execute();
    // Per-upload overrides given at upload time (JSON object of template fields).
    await db.schema.alterTable('upload').addColumn('embed_overrides', 'text').execute();
    // The admin seat (see UserRepository.create) for databases made before it existed.
    const admin = await db.selectFrom('user').select('id').where('role', '=', 'admin').orderBy('created_at').limit(1).executeTakeFirst();
    if (admin) await db.insertInto('setting').values({ key: 'admin_user_id', value: admin.id }).execute();
  },
};
