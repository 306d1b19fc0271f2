/**
 * Listing at scale: GET /api/uploads over HTTP against databases holding LISTING_ROWS uploads
 * (1,000,000 unless told otherwise), on SQLite and on PostgreSQL, in two shapes: every upload
 * under one user, and the same number spread over LISTING_USERS users (10,000). The rows are
 * written with bulk SQL straight into the tables, shaped as the server writes them (ids,
 * timestamps, tombstones, blob rows with their reference counts), because uploading a million
 * images through the API would take hours here.
 *
 * For each case, a fixed number of requests one after another: the first page, and a deep
 * page reached with the `before` cursor of the API's own Link header (its cursor found by a
 * direct query, walking there page by page would take minutes). Baselines in the same run:
 * GET /healthz of the same service, and the queries the service makes for that page run
 * straight on the database driver from the bench process.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import { Agent, request } from 'undici';
import { positiveInt } from './lib/env.js';
import { logTail, stop } from './lib/processes.js';
import type { SectionContext, SectionResult } from './lib/section.js';
import { registerUser, startService, stopService, type Service } from './lib/service.js';
import { fixed, ms, renderTable } from './lib/table.js';

const ROWS = positiveInt('LISTING_ROWS', 1_000_000);
const USERS = positiveInt('LISTING_USERS', 10_000);
/** PostgreSQL server the bench makes its own database on (trust auth), then drops it. */
const ADMIN_URL = process.env.LISTING_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
/** LISTING_SHAPES=one or =spread: only that shape (one user, or LISTING_USERS users). */
const SHAPES = (process.env.LISTING_SHAPES ?? 'one,spread').split(',');
const REQUESTS = 1_000;
const WARMUP = 100;
const PAGE = 100; // LIST_LIMIT.default: what a client that sends no limit gets
const TARGET_P99_MS = 10;
/**
 * About one upload in a hundred is a tombstone (deleted, kept so its URLs answer 410), as in a
 * used instance. 97 is prime, so tombstones fall on every user alike whatever the user count.
 */
const TOMBSTONE_EVERY = 97;

type Dialect = 'sqlite' | 'postgres';
interface Shape {
  label: string;
  users: number;
  key: string;
}

/**
 * Row `i` (1-based, in insertion order, so seq follows it) as both dialects write it. Ids are
 * 10 hex digits (a subset of the server's base62 alphabet) made by an odd multiplier modulo
 * 2^40, a bijection, so they are unique and scattered over the id index as random ids are.
 * User `i % users` owns it; user 0 is the bench's registered user. Timestamps are ISO strings,
 * one second apart, as `new Date().toISOString()` writes them.
 */
const ID_MULTIPLIER = 42_435_733_399n;
const uploadId = (i: number): string => ((BigInt(i) * ID_MULTIPLIER) % 2n ** 40n).toString(16).padStart(10, '0');
const sha256Of = (i: number): string => createHash('sha256').update(`bench-${i}`).digest('hex');
const otherUserId = (n: number): string => n.toString(16).padStart(16, '0');
const EPOCH_S = Date.parse('2025-01-01T00:00:00.000Z') / 1000;

/** Rows seeded for one case, as the SQL below writes them (kept here so both dialects match). */
function uploadColumns(dialect: Dialect, users: number): string {
  const pgTime = (offset: string) => `to_char(timestamp '2025-01-01' + (${offset}) * interval '1 second', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
  const sqliteTime = (offset: string) => `strftime('%Y-%m-%dT%H:%M:%fZ', ${EPOCH_S} + ${offset}, 'unixepoch')`;
  const time = dialect === 'postgres' ? pgTime : sqliteTime;
  const concat = (...parts: string[]) => parts.join(' || ');
  return [
    dialect === 'postgres' ? `lpad(to_hex((i * ${ID_MULTIPLIER}) % 1099511627776), 10, '0')` : 'bench_upload_id(i)',
    `case when i % ${users} = 0 then $1 else ${dialect === 'postgres' ? `lpad(to_hex(i % ${users}), 16, '0')` : `bench_user_id(i % ${users})`} end`,
    `case when i % ${TOMBSTONE_EVERY} = 0 then '' else ${concat("'screenshot-'", 'i', "'.png'")} end`,
    "'image/png'",
    "'png'",
    '150000 + i % 850000',
    '1920',
    '1080',
    dialect === 'postgres' ? `encode(sha256(('bench-' || i)::bytea), 'hex')` : 'bench_sha256(i)',
    "'#5865f2'",
    time('i'),
    `case when i % ${TOMBSTONE_EVERY} = 0 then ${time(`i + 86400`)} else null end`,
  ].join(',\n      ');
}

const UPLOAD_INSERT =
  'insert into upload (id, user_id, name, mime, ext, size, width, height, sha256, dominant_color, created_at, deleted_at)';
/** Live uploads hold one blob reference each (every sha256 is distinct); tombstones none. */
const BLOB_INSERT = 'insert into blob (sha256, size, ref_count) select sha256, size, 1 from upload where deleted_at is null';
/** The other users: copies of the bench user (password hash included), with their own ids and names. */
const userInsert = (dialect: Dialect) =>
  `insert into "user" (id, username, password_hash, role, quota_bytes, created_at, disabled)
   select ${dialect === 'postgres' ? "lpad(to_hex(n), 16, '0')" : 'bench_user_id(n)'}, 'user' || n, password_hash, 'user', null, created_at, 0
   from ${dialect === 'postgres' ? 'generate_series(1, $2) as n' : 'numbers'}, "user" as bench where bench.id = $1`;

/** The two queries the service makes for a page: the cursor's row (deep pages only), then the page (Kysely's SQL for listByUser). */
const FIND_BY_ID = 'select * from "upload" where "id" = $1';
const LIST_PAGE = 'select * from "upload" where "user_id" = $1 and "deleted_at" is null and "seq" < $2 order by "seq" desc limit $3';
const LIST_FIRST = 'select * from "upload" where "user_id" = $1 and "deleted_at" is null order by "seq" desc limit $2';
const sqliteParams = (text: string) => text.replace(/\$\d+/g, '?');

interface Db {
  query(text: string, params: unknown[]): Promise<Record<string, unknown>[]>;
  plan(text: string, params: unknown[]): Promise<string>;
  close(): Promise<void>;
}

function sqliteDb(path: string): Db {
  const db = new SQLite(path, { readonly: true });
  return {
    query: (text, params) => Promise.resolve(db.prepare(sqliteParams(text)).all(...params) as Record<string, unknown>[]),
    plan: (text, params) =>
      Promise.resolve(
        (db.prepare(`explain query plan ${sqliteParams(text)}`).all(...params) as { detail: string }[]).map((row) => row.detail).join('; '),
      ),
    close: () => {
      db.close();
      return Promise.resolve();
    },
  };
}

async function postgresDb(url: string): Promise<Db> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  return {
    query: async (text, params) => (await client.query(text, params)).rows as Record<string, unknown>[],
    plan: async (text, params) =>
      (await client.query(`explain (analyze, costs off, timing off, summary off) ${text}`, params)).rows
        .map((row: Record<string, string>) => Object.values(row)[0]!.trim())
        .join('; '),
    close: () => client.end(),
  };
}

async function adminQuery(statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: ADMIN_URL });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

/** Bench user's id, looked up by the name registerUser gives it. */
async function benchUserId(db: Db): Promise<string> {
  const row = (await db.query('select id from "user" where username = $1', ['bench']))[0];
  if (!row) throw new Error('the registered bench user is not in the database');
  return String(row.id);
}

function seedSqlite(path: string, benchId: string, shape: Shape): void {
  const db = new SQLite(path);
  try {
    db.pragma('foreign_keys = OFF'); // consistent by construction; checked once below
    db.function('bench_upload_id', { deterministic: true }, (i: unknown) => uploadId(Number(i)));
    db.function('bench_sha256', { deterministic: true }, (i: unknown) => sha256Of(Number(i)));
    db.function('bench_user_id', { deterministic: true }, (n: unknown) => otherUserId(Number(n)));
    const numbers = (count: number, column: string) =>
      `with recursive numbers(${column}) as (select 1 union all select ${column} + 1 from numbers where ${column} < ${count})`;
    db.transaction(() => {
      if (shape.users > 1) {
        db.prepare(sqliteParams(`${numbers(shape.users - 1, 'n')} ${userInsert('sqlite')}`)).run(benchId);
      }
      db.prepare(
        sqliteParams(`${numbers(ROWS, 'i')} ${UPLOAD_INSERT} select ${uploadColumns('sqlite', shape.users)} from numbers order by i`),
      ).run(benchId);
      db.prepare(BLOB_INSERT).run();
    })();
    const orphans = db
      .prepare('select count(*) as n from upload left join user on user.id = upload.user_id where user.id is null')
      .get() as { n: number };
    if (orphans.n > 0) throw new Error(`seeding left ${orphans.n} uploads without a user`);
    db.pragma('wal_checkpoint(TRUNCATE)');
  } finally {
    db.close();
  }
}

async function seedPostgres(url: string, benchId: string, shape: Shape): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('begin');
    // Skips the per-row foreign key triggers (the rows are consistent by construction); needs a superuser, as trust auth gives.
    await client.query('set local session_replication_role = replica');
    if (shape.users > 1) await client.query(userInsert('postgres'), [benchId, shape.users - 1]);
    await client.query(
      `${UPLOAD_INSERT} select ${uploadColumns('postgres', shape.users)} from generate_series(1, ${ROWS}) as i order by i`,
      [benchId],
    );
    await client.query(BLOB_INSERT);
    await client.query('commit');
    const orphans = await client.query<{ n: number }>(
      'select count(*) as n from upload left join "user" u on u.id = upload.user_id where u.id is null',
    );
    const orphanCount = Number(orphans.rows[0]?.n);
    if (orphanCount > 0) throw new Error(`seeding left ${orphanCount} uploads without a user`);
    // What autovacuum does on its own a minute after a bulk load; done now so the planner's statistics do not depend on timing.
    await client.query('vacuum analyze');
  } finally {
    await client.end();
  }
}

interface Timing {
  p50: number;
  p99: number;
  max: number;
}

async function time(count: number, warmup: number, once: () => Promise<void>): Promise<Timing> {
  for (let i = 0; i < warmup; i += 1) await once();
  const samples: number[] = [];
  for (let i = 0; i < count; i += 1) {
    const begin = performance.now();
    await once();
    samples.push(performance.now() - begin);
  }
  samples.sort((a, b) => a - b);
  const at = (p: number) => samples[Math.min(samples.length - 1, Math.floor((samples.length * p) / 100))]!;
  return { p50: at(50), p99: at(99), max: samples.at(-1)! };
}

/** The `rel="next"` URL of a Link header. */
function nextLink(link: string | string[] | undefined, base: string): URL | undefined {
  const value = Array.isArray(link) ? link.join(', ') : link;
  const match = value && /<([^>]+)>\s*;\s*rel="?next"?/.exec(value);
  return match ? new URL(match[1]!, base) : undefined;
}

interface CaseResult {
  dialect: Dialect;
  shape: string;
  seedS: number;
  rowsOfUser: number;
  healthz: Timing;
  pages: Array<{ page: string; depth: number; api: Timing; driver: Timing; plans: string[] }>;
}

async function runCase(context: SectionContext, dialect: Dialect, shape: Shape): Promise<CaseResult> {
  const tag = `${dialect}, ${shape.label}`;
  let databaseUrl: string | undefined;
  if (dialect === 'postgres') {
    const name = `di_bench_listing_${process.pid}_${Date.now().toString(36)}`;
    await adminQuery(`create database ${name}`);
    const url = new URL(ADMIN_URL);
    url.pathname = `/${name}`;
    databaseUrl = url.href;
  }
  // Rate limits off, as for ingest: a thousand requests a second from one address would measure the limit (600 a minute), not the listing.
  const env: Record<string, string> = { RATE_LIMIT: 'off', ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}) };
  let service: Service | undefined;
  try {
    // First start: migrations and the bench user (an ordinary registration, API token included).
    service = await startService({ workers: 1, env });
    const token = await registerUser(service);
    const dataDir = join(service.runDir, 'data');
    const sqlitePath = join(dataDir, 'discord-images.db');
    await stop(service.started);
    const runDir = service.runDir;

    const seedStart = performance.now();
    context.log(`listing ${tag}: seeding ${fixed(ROWS)} uploads`);
    if (dialect === 'sqlite') {
      const probe = sqliteDb(sqlitePath);
      const benchId = await benchUserId(probe).finally(() => probe.close());
      seedSqlite(sqlitePath, benchId, shape);
    } else {
      const probe = await postgresDb(databaseUrl!);
      const benchId = await benchUserId(probe).finally(() => probe.close());
      await seedPostgres(databaseUrl!, benchId, shape);
    }
    const seedS = (performance.now() - seedStart) / 1000;
    context.log(`listing ${tag}: seeded in ${fixed(seedS, 1)} s`);

    // Second start, on the seeded database, as after a restart of a busy instance.
    service = await startService({ workers: 1, env, runDir });
    const db = dialect === 'sqlite' ? sqliteDb(sqlitePath) : await postgresDb(databaseUrl!);
    const agent = new Agent({ connections: 1 });
    try {
      const benchId = await benchUserId(db);
      const live = await db.query('select count(*) as n from upload where user_id = $1 and deleted_at is null', [benchId]);
      const rowsOfUser = Number(live[0]!.n);
      const get = async (url: string) => {
        const response = await request(url, { dispatcher: agent, headers: { token } });
        const body = await response.body.text();
        if (response.statusCode !== 200) throw new Error(`GET ${url}: ${response.statusCode} ${body.slice(0, 200)}`);
        return { response, body };
      };
      const healthz = await time(REQUESTS, WARMUP, async () => void (await get(`${service!.baseUrl}/healthz`)));

      // The first page gives the Link header; the deep page is that link with the cursor of the row `depth` rows down.
      // A user with few uploads gets smaller pages, so that there is a next page and a deep one.
      const pageSize = Math.min(PAGE, Math.max(1, Math.floor(rowsOfUser / 4)));
      const first = `${service.baseUrl}/api/uploads${pageSize === PAGE ? '' : `?limit=${pageSize}`}`;
      const { response, body } = await get(first);
      const items = JSON.parse(body) as { id: string }[];
      const link = nextLink(response.headers.link, service.baseUrl);
      if (items.length !== pageSize || !link) throw new Error(`first page: ${items.length} items, Link ${String(response.headers.link)}`);
      const depth = rowsOfUser >= 500_000 + pageSize ? 500_000 : Math.floor(rowsOfUser / 2);
      const cursor = String(
        (
          await db.query('select id from upload where user_id = $1 and deleted_at is null order by seq desc limit 1 offset $2', [
            benchId,
            depth - 1,
          ])
        )[0]!.id,
      );
      const deep = new URL(link);
      deep.searchParams.set('before', cursor);
      const deepItems = JSON.parse((await get(deep.href)).body) as { id: string }[];
      const expected = await db.query(
        'select id from upload where user_id = $1 and deleted_at is null order by seq desc limit $2 offset $3',
        [benchId, pageSize, depth],
      );
      if (deepItems.map((item) => item.id).join() !== expected.map((row) => row.id).join()) {
        throw new Error(`the deep page (before=${cursor}) is not the ${pageSize} uploads after row ${depth}`);
      }
      const cursorSeq = Number((await db.query(FIND_BY_ID, [cursor]))[0]!.seq);

      const pages: CaseResult['pages'] = [];
      for (const page of [
        { page: `first page (${pageSize})`, depth: 0, url: first, queries: [[LIST_FIRST, [benchId, pageSize + 1]]] as const },
        {
          page: `after ${fixed(depth)} rows`,
          depth,
          url: deep.href,
          queries: [
            [FIND_BY_ID, [cursor]],
            [LIST_PAGE, [benchId, cursorSeq, pageSize + 1]],
          ] as const,
        },
      ]) {
        context.log(`listing ${tag}: ${page.page}, ${REQUESTS} requests`);
        const api = await time(REQUESTS, WARMUP, async () => void (await get(page.url)));
        const driver = await time(REQUESTS, WARMUP, async () => {
          for (const [text, params] of page.queries) await db.query(text, [...params]);
        });
        const plans = [];
        for (const [text, params] of page.queries) plans.push(await db.plan(text, [...params]));
        pages.push({ page: page.page, depth: page.depth, api, driver, plans });
      }
      return { dialect, shape: shape.label, seedS, rowsOfUser, healthz, pages };
    } finally {
      await agent.close();
      await db.close();
    }
  } catch (error) {
    throw new Error(`${(error as Error).message}\n${service ? logTail(service.started.logPath, 5) : ''}`);
  } finally {
    if (service) await stopService(service);
    if (databaseUrl) await adminQuery(`drop database ${new URL(databaseUrl).pathname.slice(1)} with (force)`).catch(() => undefined);
  }
}

export async function benchListing(context: SectionContext): Promise<SectionResult> {
  if (context.serviceUnavailable) {
    return { table: 'LISTING: not built', problems: [], data: {} };
  }
  const shapes: Shape[] = [
    { label: 'one user', users: 1, key: 'one' },
    { label: `${fixed(USERS)} users`, users: USERS, key: 'spread' },
  ].filter((shape) => SHAPES.includes(shape.key));
  const problems: string[] = [];
  const missed: string[] = [];
  const rows: string[][] = [];
  const results: Array<CaseResult | { dialect: Dialect; shape: string; error: string }> = [];
  for (const dialect of ['sqlite', 'postgres'] as const) {
    for (const shape of shapes) {
      try {
        const result = await runCase(context, dialect, shape);
        results.push(result);
        rows.push(
          [
            `${dialect}, ${shape.label} (${fixed(result.rowsOfUser)} live of the user's; seeded in ${fixed(result.seedS, 0)} s)`,
            '',
            '',
            '',
            '',
            '',
          ],
          ['  GET /healthz (baseline)', ms(result.healthz.p50), ms(result.healthz.p99), ms(result.healthz.max), '1.00x', ''],
        );
        for (const page of result.pages) {
          const ok = page.api.p99 < TARGET_P99_MS;
          if (!ok)
            missed.push(`listing / ${dialect}, ${shape.label}, ${page.page}: p99 ${ms(page.api.p99)} (target < ${TARGET_P99_MS} ms)`);
          rows.push(
            [`  ${page.page}: driver, same queries (baseline)`, ms(page.driver.p50), ms(page.driver.p99), ms(page.driver.max), '', ''],
            [
              `  ${page.page}: GET /api/uploads`,
              ms(page.api.p50),
              ms(page.api.p99),
              ms(page.api.max),
              `${fixed(page.api.p50 / result.healthz.p50, 2)}x`,
              `${ok ? 'ok' : 'MISSED'} (< ${TARGET_P99_MS} ms)`,
            ],
          );
          context.log(`listing ${dialect}, ${shape.label}, ${page.page} plans: ${page.plans.join(' | ')}`);
        }
      } catch (error) {
        problems.push(`listing / ${dialect}, ${shape.label}: ${(error as Error).message}`);
        rows.push([`${dialect}, ${shape.label}`, 'failed', '', '', '', '']);
        results.push({ dialect, shape: shape.label, error: (error as Error).message });
      }
    }
  }
  const table = renderTable(
    `LISTING — GET /api/uploads (${PAGE} a page, fewer for a user with few) with ${fixed(ROWS)} uploads in the database, ${REQUESTS} requests one at a time after ${WARMUP} warm-up`,
    ['database, shape / request', 'p50', 'p99', 'max', 'p50 vs /healthz', 'p99 target'],
    rows,
    [
      `target: p99 < ${TARGET_P99_MS} ms for every GET /api/uploads. One connection, one request at a time, WORKERS=1.`,
      `rows seeded with bulk SQL as the server writes them: 1 in ${TOMBSTONE_EVERY} a tombstone, one blob row per live upload; PostgreSQL is VACUUM ANALYZEd after the load.`,
      "driver: the service's own queries for that page (cursor lookup, then the page) run from the bench process on the same database.",
      "the deep page is the Link header's URL with the cursor of the row that many rows down (found by a direct query), checked against a direct query.",
      ...(ROWS === 1_000_000 ? [] : [`LISTING_ROWS=${ROWS}: not the 1,000,000 of the issue.`]),
    ],
  );
  return { table, problems, missed, data: { rows: ROWS, users: USERS, requests: REQUESTS, warmup: WARMUP, results } };
}
