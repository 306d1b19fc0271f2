import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import {
  type DatabaseConnection,
  type Dialect as KyselyDialect,
  type Driver,
  Kysely,
  PostgresDialect,
  type TransactionSettings,
} from 'kysely';
import pg from 'pg';
import type { DatabaseHandle } from '../../src/db/database.js';
import type { Database } from '../../src/db/schema.js';
import { atFileEnd } from './cleanup.js';
import { TEST_POSTGRES_URL } from './database.js';
import { type CallOutcome, type RepositoryCall, callRepository } from './repository-call.js';

export interface RacingRepositories {
  /** Runs call i on racer i, all at once, and reports each outcome (a failure does not stop the others). */
  race(calls: RepositoryCall[]): Promise<CallOutcome[]>;
}

const RACE_DEADLINE_MS = 20_000;
// A racer compiles its TypeScript through tsx first: seconds on a loaded machine.
const START_DEADLINE_MS = 60_000;

/**
 * `parties` racers on the database of `handle`, each with a connection of its own, so that a
 * test of a lock really has transactions contending for it. In-process calls on one
 * connection cannot race (SQLite's driver serialises them; a cold pool opens connections one
 * after another), which let such tests pass with the lock removed.
 * - PostgreSQL: one warmed pool of `parties` connections; every transaction waits after BEGIN
 *   until all have begun, so their first statements really run at once.
 * - SQLite: `parties` processes on the one file, as WORKERS > 1 runs (better-sqlite3 blocks
 *   its thread while it waits for the lock, so connections in one process would deadlock).
 *   Calls go out together; repeat a race for overlap, processes wake at slightly different times.
 */
export async function racingRepositories(handle: DatabaseHandle, dataDir: string, parties: number): Promise<RacingRepositories> {
  return handle.dialect === 'postgres' ? postgresRacers(handle.schema!, parties) : sqliteRacers(dataDir, parties);
}

async function postgresRacers(schema: string, parties: number): Promise<RacingRepositories> {
  const pool = new pg.Pool({ connectionString: TEST_POSTGRES_URL, max: parties, options: `-c search_path=${schema}` });
  const clients = await Promise.all(Array.from({ length: parties }, () => pool.connect()));
  for (const client of clients) client.release();
  let barrier: Barrier;
  const inner = new PostgresDialect({ pool });
  const dialect: KyselyDialect = {
    createAdapter: () => inner.createAdapter(),
    createIntrospector: (db) => inner.createIntrospector(db),
    createQueryCompiler: () => inner.createQueryCompiler(),
    createDriver: () => new BarrierAfterBegin(inner.createDriver(), () => barrier.arrive()),
  };
  const db = new Kysely<Database>({ dialect });
  atFileEnd(() => db.destroy());
  return {
    async race(calls) {
      if (calls.length > parties) throw new Error(`${calls.length} calls for ${parties} connections`);
      barrier = new Barrier(calls.length);
      return Promise.all(calls.map((call) => callRepository(db, call)));
    },
  };
}

/** Waits until `parties` have arrived; fails them all after a deadline rather than hanging. */
class Barrier {
  private arrived = 0;
  private readonly open: Promise<void>;
  private release!: () => void;

  constructor(private readonly parties: number) {
    this.open = new Promise((resolve) => (this.release = resolve));
  }

  async arrive(): Promise<void> {
    if (++this.arrived === this.parties) this.release();
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`only ${this.arrived} of ${this.parties} transactions began`)), RACE_DEADLINE_MS);
    });
    try {
      await Promise.race([this.open, late]);
    } finally {
      clearTimeout(timer);
    }
  }
}

class BarrierAfterBegin implements Driver {
  constructor(
    private readonly inner: Driver,
    private readonly arrive: () => Promise<void>,
  ) {}

  init = () => this.inner.init();
  acquireConnection = () => this.inner.acquireConnection();
  commitTransaction = (connection: DatabaseConnection) => this.inner.commitTransaction(connection);
  rollbackTransaction = (connection: DatabaseConnection) => this.inner.rollbackTransaction(connection);
  releaseConnection = (connection: DatabaseConnection) => this.inner.releaseConnection(connection);
  destroy = () => this.inner.destroy();

  async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    await this.inner.beginTransaction(connection, settings);
    await this.arrive();
  }
}

const RACER = fileURLToPath(new URL('./repository-racer.ts', import.meta.url));

async function sqliteRacers(dataDir: string, parties: number): Promise<RacingRepositories> {
  const racers = await Promise.all(Array.from({ length: parties }, () => startRacer(dataDir)));
  atFileEnd(() => Promise.all(racers.map((racer) => racer.stop())));
  return {
    async race(calls) {
      if (calls.length > racers.length) throw new Error(`${calls.length} calls for ${racers.length} racers`);
      // Serialised first, then written in one go, so the racers receive their calls together.
      const lines = calls.map((call) => `${JSON.stringify(call)}\n`);
      const answers = calls.map((_, i) => racers[i]!.next());
      lines.forEach((line, i) => racers[i]!.child.stdin.write(line));
      return Promise.all(answers);
    },
  };
}

interface Racer {
  child: ChildProcessWithoutNullStreams;
  next(): Promise<CallOutcome>;
  stop(): Promise<void>;
}

async function startRacer(dataDir: string): Promise<Racer> {
  const child = spawn(process.execPath, ['--import', 'tsx', RACER, dataDir], { stdio: 'pipe' });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const next = async (what: string, deadlineMs = RACE_DEADLINE_MS): Promise<string> => {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`racer gave no ${what} within ${deadlineMs} ms\n${stderr}`)), deadlineMs);
    });
    const gone = exited.then(() => Promise.reject(new Error(`racer exited\n${stderr}`)));
    try {
      const line = await Promise.race([lines.next(), late, gone]);
      return String(line.value);
    } finally {
      clearTimeout(timer);
    }
  };
  const ready = await next('ready', START_DEADLINE_MS);
  if (ready !== 'ready') throw new Error(`racer said ${ready}\n${stderr}`);
  return {
    child,
    next: async () => JSON.parse(await next('answer')) as CallOutcome,
    stop: async () => {
      child.stdin.end();
      await exited;
    },
  };
}
