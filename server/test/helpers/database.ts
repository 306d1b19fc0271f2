import pg from 'pg';
import { type DatabaseHandle, type Dialect, migrate, openDatabase } from '../../src/db/database.js';
import { randomBase62 } from '../../src/domain/ids.js';
import { atFileEnd } from './cleanup.js';

/** The local PostgreSQL server (trust auth); every test file gets a schema of its own. */
export const TEST_POSTGRES_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

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
  if (migrated) await migrate(handle);
  atFileEnd(async () => {
    await handle.close();
    await adminQuery(`drop schema ${schema} cascade`);
  });
  return handle;
}

/**
 * The URL of a fresh PostgreSQL database, dropped after the file's tests: for servers and
 * commands started as processes, which read DATABASE_URL as it is, and keep their migration
 * bookkeeping in `public` (a schema of their own would not do). Several processes given the
 * same URL share it, as a cluster's nodes do.
 */
export async function freshPostgresDatabase(prefix: string): Promise<string> {
  const name = `${prefix}_${randomBase62(10).toLowerCase()}`;
  await adminQuery(`create database ${name}`);
  atFileEnd(() => adminQuery(`drop database ${name} with (force)`));
  const url = new URL(TEST_POSTGRES_URL);
  url.pathname = `/${name}`;
  return url.href;
}

async function adminQuery(statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: TEST_POSTGRES_URL });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}
