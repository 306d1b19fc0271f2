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
  if (migrated) await migrate(handle);
  atFileEnd(async () => {
    await handle.close();
    await adminQuery(`drop schema ${schema} cascade`);
  });
  return handle;
}

/** A fresh PostgreSQL database for servers started as processes (createPostgresDatabase), dropped after the file's tests. */
export const freshPostgresDatabase = (prefix: string): Promise<string> => createPostgresDatabase(prefix, atFileEnd);
