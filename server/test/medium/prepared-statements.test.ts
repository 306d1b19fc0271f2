import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { databaseOptions, openDatabase } from '../../src/db/database.js';
import { MAX_PREPARED } from '../../src/db/prepared-statements.js';
import { TEST_POSTGRES_URL, testDatabase } from '../helpers/database.js';
import { adminQuery } from '../helpers/postgres-admin.js';
import { tempDir } from '../helpers/temp-dir.js';

// The real PostgreSQL server: what is prepared lives in its sessions (pg_prepared_statements).
describe('prepared statements on PostgreSQL', () => {
  const open = async () => {
    const handle = await testDatabase('postgres', await tempDir('prepared'));
    return { handle, db: handle.db };
  };
  /** What the session that runs this query has prepared; one pooled connection runs it and the query before. */
  const prepared = async (db: Awaited<ReturnType<typeof open>>['db']) =>
    (await sql<{ statement: string }>`select statement from pg_prepared_statements`.execute(db)).rows.map((row) => row.statement);

  it('prepares each statement once per connection and runs it by name after that', async () => {
    const { db } = await open();
    await db.connection().execute(async (connection) => {
      for (let i = 0; i < 3; i++) await connection.selectFrom('user').select('id').where('username', '=', `user${i}`).execute();
      const statements = await prepared(connection);
      expect(statements.filter((text) => text.includes('from "user" where "username" = $1'))).toHaveLength(1);
    });
  });

  it('renews its statements when another process changes a table under a prepared select *', async () => {
    const { db, handle } = await open();
    await sql`create table widget (id integer primary key)`.execute(db);
    await sql`insert into widget values (1)`.execute(db);
    await db.connection().execute(async (connection) => {
      const read = () => sql<Record<string, unknown>>`select * from widget`.execute(connection);
      expect((await read()).rows).toEqual([{ id: 1 }]);
      // As a node migrating during a rolling upgrade would, on a connection of its own.
      await adminQuery(`alter table ${handle.schema}.widget add column label text default 'new'`);
      await expect(read()).rejects.toThrow(/cached plan must not change result type/);
      expect((await read()).rows).toEqual([{ id: 1, label: 'new' }]);
    });
  });

  it(`prepares at most ${MAX_PREPARED} distinct texts and runs the others unnamed`, async () => {
    const { db } = await open();
    await db.connection().execute(async (connection) => {
      // Each length of an in-list is a text of its own, as Kysely writes them.
      for (let n = 1; n <= MAX_PREPARED + 20; n++) {
        const ids = Array.from({ length: n }, (_, i) => `id${i}`);
        expect(await connection.selectFrom('user').select('id').where('id', 'in', ids).execute()).toEqual([]);
      }
      expect((await prepared(connection)).length).toBeLessThanOrEqual(MAX_PREPARED);
    });
  });

  it('prepares nothing with DATABASE_PREPARED_STATEMENTS=off, for a pooler that cannot keep them', async () => {
    const config = loadConfig({
      DATABASE_URL: TEST_POSTGRES_URL,
      DATABASE_PREPARED_STATEMENTS: 'off',
      DATA_DIR: await tempDir('unprepared'),
    });
    const handle = openDatabase(databaseOptions(config));
    try {
      await handle.db.connection().execute(async (connection) => {
        for (let i = 0; i < 3; i++) await sql`select 1`.execute(connection);
        expect(await prepared(connection)).toEqual([]);
      });
    } finally {
      await handle.close();
    }
  });
});
