/**
 * PostgreSQL databases for servers started as processes, without Vitest: the benches make
 * them too (bench/cluster-load.ts). database.ts ties them to the end of a test file.
 */
import pg from 'pg';
import { randomBase62 } from '../../src/domain/ids.js';
import type { Defer } from './defer.js';

/** The local PostgreSQL server (trust auth); every test file gets a schema of its own. */
export const TEST_POSTGRES_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/**
 * The URL of a fresh PostgreSQL database, dropped through `defer`: servers and commands
 * started as processes read DATABASE_URL as it is, and keep their migration bookkeeping in
 * `public` (a schema of their own would not do). Several processes given the same URL share
 * it, as a cluster's nodes do.
 */
export async function createPostgresDatabase(prefix: string, defer: Defer): Promise<string> {
  const name = `${prefix}_${randomBase62(10).toLowerCase()}`;
  await adminQuery(`create database ${name}`);
  defer(() => adminQuery(`drop database ${name} with (force)`));
  const url = new URL(TEST_POSTGRES_URL);
  url.pathname = `/${name}`;
  return url.href;
}

export async function adminQuery(statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: TEST_POSTGRES_URL });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}
