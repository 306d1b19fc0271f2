import pg from 'pg';
import { type DatabaseHandle, type Dialect, migrate, openDatabase } from '../../src/db/database.js';
import { randomBase62 } from '../../src/domain/ids.js';
import { atFileEnd } from './cleanup.js';
import { adminQuery, createPostgresDatabase, TEST_POSTGRES_URL } from './postgres-admin.js';

export { TEST_POSTGRES_URL };

/** Both dialects run in CI; `TEST_DIALECTS=sqlite` narrows a local run, and only a local one. */
export const DIALECTS: Dialect[] = (process.env.TEST_DIALECTS?.split(',') as Dialect[] | undefined) ?? ['sqlite', 'postgres'];
if (process.env.CI && DIALECTS.length < 2)
  throw new Error(`TEST_DIALECTS=${process.env.TEST_DIALECTS} would drop dialects from CI, which runs them all`);

/**
 * A migrated, empty database of the dialect, dropped after the file's tests; with
 * `migrated: false`, without any table (for a test of the migrations themselves).
 */
export async function testDatabase(dialect: Dialect, dataDir: string, { migrated = true } = {}): Promise<DatabaseHandle> {
  if (dialect === 'sqlite') {
    const handle = openDatabase({ databaseUrl: undefined, dataDir });
    if (migrated) await migrate(handle);
    atFileEnd(() => handle.close());
    return handle;
  }
  const schema = `test_${randomBase62(12).toLowerCase()}`;
  await adminQuery(`create schema ${schema}`);
  const handle = openDatabase({ databaseUrl: TEST_POSTGRES_URL, dataDir, pgSchema: schema });
  if (migrated) await whileNoSchemaIsDropped('shared', () => migrate(handle));
  atFileEnd(async () => {
    await handle.close();
    await whileNoSchemaIsDropped('exclusive', () => adminQuery(`drop schema ${schema} cascade`));
  });
  return handle;
}

/** Any number; names the advisory lock below on the test server. */
const SCHEMA_DROP_LOCK = 7_406_341;

/**
 * Kysely's migrator reads the tables of every schema (and their sequences, by schema name),
 * so a schema that another test file drops meanwhile fails it with "schema … does not exist".
 * Migrations take this lock shared, drops take it alone.
 */
async function whileNoSchemaIsDropped<T>(mode: 'shared' | 'exclusive', work: () => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: TEST_POSTGRES_URL });
  await client.connect();
  try {
    await client.query(`select pg_advisory_lock${mode === 'shared' ? '_shared' : ''}($1)`, [SCHEMA_DROP_LOCK]);
    return await work();
  } finally {
    await client.end();
  }
}

/** A fresh PostgreSQL database for servers started as processes (createPostgresDatabase), dropped after the file's tests. */
export const freshPostgresDatabase = (prefix: string): Promise<string> => createPostgresDatabase(prefix, atFileEnd);
