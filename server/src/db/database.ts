import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import { migrations } from './migrations/index.js';
import { preparingPool } from './prepared-statements.js';
import type { Config } from '../config/config.js';
import type { Database } from './schema.js';

export type Dialect = 'sqlite' | 'postgres';

export interface DatabaseHandle {
  db: Kysely<Database>;
  dialect: Dialect;
  /** PostgreSQL schema holding the tables. */
  schema?: string;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** Unset = SQLite file `discord-images.db` in dataDir. */
  databaseUrl: string | undefined;
  dataDir: string;
  /** PostgreSQL schema to use (tests give each run its own). @default 'public' */
  pgSchema?: string;
  /** PostgreSQL: prepare statements by name (prepared-statements.ts). @default true */
  preparedStatements?: boolean;
}

// PostgreSQL returns COUNT/SUM/BIGINT as strings; our values fit a JS number.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));

/** The database the configuration names. */
export const databaseOptions = (config: Pick<Config, 'databaseUrl' | 'dataDir' | 'databasePreparedStatements'>): DatabaseOptions => ({
  databaseUrl: config.databaseUrl,
  dataDir: config.dataDir,
  preparedStatements: config.databasePreparedStatements,
});

export function openDatabase(options: DatabaseOptions): DatabaseHandle {
  if (options.databaseUrl) {
    const schema = options.pgSchema ?? 'public';
    const pool = new pg.Pool({
      connectionString: options.databaseUrl,
      max: 10,
      // search_path per connection, so a test schema is used by every query.
      options: schema === 'public' ? undefined : `-c search_path=${schema}`,
    });
    const db = new Kysely<Database>({
      dialect: new PostgresDialect({ pool: options.preparedStatements === false ? pool : preparingPool(pool) }),
    });
    return { db, dialect: 'postgres', schema, close: () => db.destroy() };
  }
  mkdirSync(options.dataDir, { recursive: true });
  const sqlite = new SQLite(join(options.dataDir, 'discord-images.db'));
  // WAL: readers never block the writer; busy_timeout lets several processes share the file.
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma('foreign_keys = ON');
  // SQLite's own lower() folds only ASCII; PostgreSQL's folds all of Unicode. The same
  // everywhere, so that a search by name finds "Ärger.png" from "ärger" in both.
  sqlite.function('lower', { deterministic: true }, (text: unknown) => (typeof text === 'string' ? text.toLowerCase() : text));
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
  return { db, dialect: 'sqlite', close: () => db.destroy() };
}

/** Brings the schema up to date; runs at every start. Throws with the failing migration's error. */
export async function migrate(handle: DatabaseHandle): Promise<void> {
  const migrator = new Migrator({
    db: handle.db,
    provider: { getMigrations: () => Promise.resolve(migrations(handle.dialect)) },
    // Without it, the migrator mistakes another schema's bookkeeping tables for ours.
    migrationTableSchema: handle.schema,
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((result) => result.status === 'Error')?.migrationName ?? 'setup';
    throw new Error(`Database migration ${failed} failed: ${error instanceof Error ? error.message : JSON.stringify(error)}`);
  }
}
