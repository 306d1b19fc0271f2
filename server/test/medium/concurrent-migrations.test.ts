import { Kysely, PostgresAdapter, PostgresDialect } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DatabaseHandle, migrate, openDatabase } from '../../src/db/database.js';
import { migrations } from '../../src/db/migrations/index.js';
import type { Database } from '../../src/db/schema.js';
import { DIALECTS, TEST_POSTGRES_URL, testDatabase } from '../helpers/database.js';
import { tempDir } from '../helpers/temp-dir.js';

/**
 * Several nodes of a cluster start together on one PostgreSQL database, and each runs the
 * migrations at start (main.ts). Kysely's Migrator makes that safe with a session-level
 * advisory lock (`pg_advisory_lock`, one id for the whole database) taken before it reads which
 * migrations ran: the first node migrates, the others wait, then find nothing to do. These
 * tests race real sessions (a pool each, as separate processes would have) on a fresh schema.
 */
const NODES = 3;
/** A race can miss by luck (one node done before the others connect): repeated, it cannot. */
const ROUNDS = 6;

/** Kysely's PostgreSQL adapter with the migration lock taken out: what the lock protects against. */
class LocklessAdapter extends PostgresAdapter {
  override async acquireMigrationLock(): Promise<void> {}
  override async releaseMigrationLock(): Promise<void> {}
}
class LocklessDialect extends PostgresDialect {
  override createAdapter(): PostgresAdapter {
    return new LocklessAdapter();
  }
}

describe.skipIf(!DIALECTS.includes('postgres'))('migrations when several nodes start together on PostgreSQL', () => {
  let admin: pg.Client;
  let dataDir: string;
  /** Tables, columns, constraints and indexes of a schema migrated by one node alone. */
  let expected: Fingerprint;

  beforeAll(async () => {
    admin = new pg.Client({ connectionString: TEST_POSTGRES_URL });
    await admin.connect();
    dataDir = await tempDir();
    const reference = await testDatabase('postgres', dataDir);
    expected = await fingerprint(admin, reference.schema!);
  });
  afterAll(() => admin.end());

  /** One handle per node on the same fresh schema, connected before the race starts. */
  async function nodesOnFreshSchema(lock: 'kysely' | 'none'): Promise<{ schema: string; nodes: DatabaseHandle[] }> {
    const { schema } = await testDatabase('postgres', dataDir, { migrated: false });
    const nodes = Array.from({ length: NODES }, () =>
      lock === 'kysely' ? openDatabase({ databaseUrl: TEST_POSTGRES_URL, dataDir, pgSchema: schema }) : locklessHandle(schema!),
    );
    // Warm: each pool holds an open session, so the migrations start at the same moment.
    await Promise.all(nodes.map((node) => node.db.selectNoFrom((eb) => eb.val(1).as('one')).execute()));
    return { schema: schema!, nodes };
  }

  async function race(lock: 'kysely' | 'none'): Promise<{ schema: string; outcomes: PromiseSettledResult<void>[] }> {
    const { schema, nodes } = await nodesOnFreshSchema(lock);
    try {
      return { schema, outcomes: await Promise.allSettled(nodes.map((node) => migrate(node))) };
    } finally {
      await Promise.all(nodes.map((node) => node.close()));
    }
  }

  it(`migrates once and right when ${NODES} nodes start at the same moment`, async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const { schema, outcomes } = await race('kysely');
      expect(outcomes.filter((outcome) => outcome.status === 'rejected')).toEqual([]);
      const names = await admin.query<{ name: string }>(`select name from ${schema}.kysely_migration order by name`);
      // Each migration recorded once, all of them, and the schema exactly as one node alone makes it.
      expect(names.rows.map((row) => row.name)).toEqual(Object.keys(migrations('postgres')).sort());
      expect(await fingerprint(admin, schema)).toEqual(expected);
    }
  });

  // The control: the same race without the lock fails, so the test above does race.
  it('fails the same race without the migration lock', async () => {
    const failures: string[] = [];
    for (let round = 0; round < ROUNDS && failures.length === 0; round++) {
      const { outcomes } = await race('none');
      for (const outcome of outcomes) if (outcome.status === 'rejected') failures.push(String(outcome.reason));
    }
    expect(failures.length).toBeGreaterThan(0);
    expect(failures[0]).toMatch(/Database migration 0001-initial-schema failed: .*(already exists|duplicate key)/);
  });
});

function locklessHandle(schema: string): DatabaseHandle {
  const pool = new pg.Pool({ connectionString: TEST_POSTGRES_URL, max: 10, options: `-c search_path=${schema}` });
  const db = new Kysely<Database>({ dialect: new LocklessDialect({ pool }) });
  return { db, dialect: 'postgres', schema, close: () => db.destroy() };
}

type Fingerprint = Record<'columns' | 'constraints' | 'indexes', string[]>;

/** What a schema holds, with its own name taken out so two schemas compare equal. */
async function fingerprint(client: pg.Client, schema: string): Promise<Fingerprint> {
  const rows = async (text: string) =>
    (await client.query<{ line: string }>(text, [schema])).rows.map((row) => row.line.replaceAll(`${schema}.`, '<schema>.'));
  return {
    columns: await rows(
      `select concat_ws(' ', table_name, column_name, data_type, is_nullable, column_default) as line
       from information_schema.columns where table_schema = $1 order by table_name, column_name`,
    ),
    constraints: await rows(
      `select concat_ws(' ', c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid)) as line
       from pg_constraint c join pg_namespace n on n.oid = c.connamespace where n.nspname = $1 order by 1`,
    ),
    indexes: await rows(`select indexdef as line from pg_indexes where schemaname = $1 order by indexname`),
  };
}
