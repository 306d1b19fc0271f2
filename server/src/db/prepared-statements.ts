import type { PostgresPool, PostgresPoolClient } from 'kysely';
import type pg from 'pg';

/**
 * Distinct statement texts prepared by name. Kysely writes an `in (...)` list of n values as a
 * text of its own, so texts are not a fixed set; past this many, a text runs unnamed, as every
 * text did before. Bounds what each PostgreSQL connection keeps (a parsed statement and plan each).
 */
export const MAX_PREPARED = 200;

/** SQLSTATE of "cached plan must not change result type" (feature_not_supported). */
const STALE_PLAN = '0A000';

/**
 * A pg pool for Kysely whose clients run each statement as a named (prepared) one: PostgreSQL
 * then parses and plans it once per connection, not on every query. On a share page, one
 * short query, that is most of what the database server spends (bench/database.ts,
 * docs/decisions.md "PostgreSQL: prepared statements and one query per share page").
 *
 * A prepared `select *` fails with "cached plan must not change result type" once a migration
 * (another node's, during a rolling upgrade) has changed its table. Every name is then renewed,
 * so each connection prepares its statements again, against the new schema; the queries in
 * flight at that moment fail once.
 */
export function preparingPool(pool: pg.Pool): PostgresPool {
  const names = new Map<string, string>();
  let generation = 0;
  const nameOf = (text: string): string | undefined => {
    let name = names.get(text);
    if (name === undefined && names.size < MAX_PREPARED) names.set(text, (name = `di${generation}_${names.size}`));
    return name;
  };
  const run = async (client: pg.PoolClient, text: string, values: ReadonlyArray<unknown>) => {
    const name = nameOf(text);
    try {
      return await client.query({ text, values: values as unknown[], ...(name && { name }) });
    } catch (error) {
      if (name && (error as { code?: string }).code === STALE_PLAN) {
        names.clear();
        generation += 1;
      }
      throw error;
    }
  };
  return {
    async connect(): Promise<PostgresPoolClient> {
      const client = await pool.connect();
      return {
        // Cursors (streamed results) pass through as they are.
        query: ((text: string | pg.Submittable, values: ReadonlyArray<unknown>) =>
          typeof text === 'string' ? run(client, text, values) : client.query(text)) as unknown as PostgresPoolClient['query'],
        release: (destroy?: boolean) => client.release(destroy),
      };
    },
    end: () => pool.end(),
  };
}
