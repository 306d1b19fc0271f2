/**
 * Nothing half-stored survives a crash (issue 8, C7): the real server is SIGKILLed at random
 * points while clients upload (some of them the same bytes again) and delete, then restarted
 * on the same DATA_DIR; after every restart, every upload that got a 201 (and no 204 since)
 * is listed and byte-identical, nothing listed answers 410 or 5xx, and tmp/ is empty.
 */
import { createHash, randomBytes, randomInt } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { DIALECTS, freshPostgresDatabase } from '../server/test/helpers/database.js';
import { tempDir } from '../server/test/helpers/temp-dir.js';
import { register, type RunningServer, startServer } from './helpers/server.js';
import { type Part, postUpload, type Upload } from './helpers/uploads.js';

/**
 * The issue asks for about 200 kills over 2,000 uploads. A round (uploads, kill, restart,
 * checks) takes 2 to 3 s on an idle 2-core machine and up to 7 s under a load of 15, so the run
 * stops at whichever comes first, the kill count or the time budget, and insists on at least
 * one kill per 8 s of budget so that a slow machine cannot make it pass with too few. The budget
 * is per database: 90 s by default, CRASH_BUDGET_S to change it (CI gives it 180 s on Node 20
 * and 60 s on Node 24, to stay within CI's time; vitest.config.ts starts this file first).
 */
const KILLS = 200;
const BUDGET_MS = Number(process.env.CRASH_BUDGET_S ?? 90) * 1000;
const MIN_KILLS = Math.floor(BUDGET_MS / 8000);
/** Uploads (201s) after which a round's kill comes at the latest; it comes at a random point before. */
const OPS_PER_ROUND = 10;
const CLIENTS = 4;

/** A tiny PNG of random pixels: unique bytes, no metadata to strip, so stored bytes = sent bytes. */
const uniqueImage = (): Promise<Buffer> =>
  sharp(randomBytes(6 * 6 * 3), { raw: { width: 6, height: 6, channels: 3 } })
    .png()
    .toBuffer();

const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

/** What the clients were told, and what that obliges the server to show after a crash. */
class Ledger {
  /** Every image sent, by sha256: whatever the server lists must be one of these. */
  readonly sent = new Map<string, Buffer>();
  /** Uploads that got a 201, by id. */
  readonly acked = new Map<string, Upload>();
  /** Uploads whose deletion got a 204. */
  readonly deleted = new Set<string>();
  /** Deletions cut off by a kill: either outcome is right. */
  readonly uncertain = new Set<string>();
  readonly deleting = new Set<string>();
  /** sha256s uploaded or deleted since the last check: only their uploads can have changed. */
  touched = new Set<string>();
  /** Ids already checked byte for byte (and not touched since). */
  readonly verified = new Set<string>();
  uploads = 0;

  live(): Upload[] {
    return [...this.acked.values()].filter((u) => !this.deleted.has(u.id) && !this.uncertain.has(u.id));
  }
}

interface Problems {
  /** A 201 not listed after the restart. */
  lost: number;
  /** Listed, but the raw file or thumbnail answers 410. */
  gone: number;
  /** Listed, but an answer was 5xx or otherwise not 200. */
  broken: number;
  /** Raw bytes differ from those sent. */
  differ: number;
  /** A deletion that got its 204 is listed again. */
  revived: number;
  /** Files left in tmp/ once the server answers. */
  tempLeft: number;
  examples: string[];
}

const noProblems = (): Problems => ({ lost: 0, gone: 0, broken: 0, differ: 0, revived: 0, tempLeft: 0, examples: [] });

function note(problems: Problems, kind: Exclude<keyof Problems, 'examples'>, example: string): void {
  problems[kind] += 1;
  if (problems.examples.length < 10) problems.examples.push(`${kind}: ${example}`);
}

async function listAll(url: string, token: string): Promise<Upload[]> {
  const all: Upload[] = [];
  let before = '';
  for (let page = 0; page < 100; page++) {
    const response = await fetch(`${url}/api/uploads?limit=1000${before}`, { headers: { token } });
    if (response.status !== 200) throw new Error(`list: ${response.status} ${await response.text()}`);
    const uploads = (await response.json()) as Upload[];
    all.push(...uploads);
    if (uploads.length < 1000) return all;
    before = `&before=${uploads.at(-1)!.id}`;
  }
  throw new Error('more than 100 pages of uploads');
}

/** Runs `work` over `items`, `width` at a time. */
async function inParallel<T>(items: T[], width: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) await work(items[next++]!);
    }),
  );
}

/** The checks made after every restart. */
async function verify(server: RunningServer, dataDir: string, token: string, ledger: Ledger, problems: Problems): Promise<void> {
  const left = await readdir(join(dataDir, 'tmp'));
  if (left.length > 0) note(problems, 'tempLeft', left.join(', '));

  const listed = await listAll(server.url, token);
  const listedIds = new Set(listed.map((u) => u.id));
  for (const upload of ledger.live()) if (!listedIds.has(upload.id)) note(problems, 'lost', `${upload.id} (${upload.sha256.slice(0, 8)})`);
  for (const id of ledger.deleted) if (listedIds.has(id)) note(problems, 'revived', id);

  const toCheck = listed.filter((u) => !ledger.verified.has(u.id) || ledger.touched.has(u.sha256));
  await inParallel(toCheck, 8, async (upload) => {
    const raw = await fetch(upload.raw_url);
    const bytes = Buffer.from(await raw.arrayBuffer());
    const thumbnail = await fetch(upload.thumbnail_url);
    await thumbnail.arrayBuffer();
    for (const [what, response] of [
      ['raw', raw],
      ['thumbnail', thumbnail],
    ] as const) {
      if (response.status === 410) note(problems, 'gone', `${what} of ${upload.id}`);
      else if (response.status !== 200) note(problems, 'broken', `${what} of ${upload.id}: ${response.status}`);
    }
    if (raw.status === 200 && !bytes.equals(ledger.sent.get(upload.sha256) ?? Buffer.alloc(0))) note(problems, 'differ', upload.id);
    ledger.verified.add(upload.id);
  });
  for (const id of ledger.deleted) {
    const upload = ledger.acked.get(id)!;
    if (ledger.touched.has(upload.sha256)) {
      // Its links carry the port of the server that made it.
      const status = (await fetch(`${server.url}${new URL(upload.raw_url).pathname}`)).status;
      if (status !== 410) note(problems, 'broken', `deleted ${id} answers ${status}`);
    }
  }
  ledger.touched = new Set();
}

/** One client: uploads (sometimes bytes already sent, sometimes two files) and deletes, until the server dies. */
async function client(url: string, token: string, ledger: Ledger, dead: () => boolean): Promise<void> {
  while (!dead()) {
    const parts: Part[] = [];
    for (let i = 0, files = randomInt(4) === 0 ? 2 : 1; i < files; i++) {
      const known = [...ledger.sent.values()];
      const bytes = known.length > 0 && randomInt(4) === 0 ? known[randomInt(known.length)]! : await uniqueImage();
      const sha = sha256(bytes);
      ledger.sent.set(sha, bytes);
      ledger.touched.add(sha);
      parts.push({ file: `c${ledger.uploads}.png`, bytes });
    }
    const response = await postUpload(url, token, parts).catch(() => undefined);
    if (!response) return;
    const text = await response.text().catch(() => undefined);
    if (text === undefined) return;
    if (response.status !== 201) throw new Error(`upload answered ${response.status}: ${text}`);
    for (const upload of (JSON.parse(text) as { files: Upload[] }).files) ledger.acked.set(upload.id, upload);
    ledger.uploads += parts.length;

    const live = ledger.live().filter((u) => !ledger.deleting.has(u.id));
    if (live.length > 0 && randomInt(6) === 0) {
      const victim = live[randomInt(live.length)]!;
      ledger.deleting.add(victim.id);
      ledger.touched.add(victim.sha256);
      const status = await fetch(`${url}/api/uploads/${victim.id}`, { method: 'DELETE', headers: { token } }).then(
        (r) => r.status,
        () => undefined,
      );
      ledger.deleting.delete(victim.id);
      if (status === undefined) {
        ledger.uncertain.add(victim.id);
        return;
      }
      if (status !== 204) throw new Error(`delete answered ${status}`);
      ledger.deleted.add(victim.id);
    }
  }
}

describe.each(DIALECTS)('SIGKILL at random points during uploads (%s)', (dialect) => {
  it(`loses no 201, leaves no ghost and no temp file, over up to ${KILLS} kills`, { timeout: BUDGET_MS + 120_000 }, async () => {
    const dataDir = await tempDir('di-crash-');
    const env = { DATA_DIR: dataDir, ...(dialect === 'postgres' ? { DATABASE_URL: await freshPostgresDatabase('crash') } : {}) };
    const ledger = new Ledger();
    const problems = noProblems();
    const started = Date.now();
    let server = await startServer(env);
    const token = await register(server.url);
    let kills = 0;
    try {
      while (kills < KILLS && Date.now() - started < BUDGET_MS) {
        const killAfter = ledger.uploads + randomInt(OPS_PER_ROUND * 2);
        let dead = false;
        const clients = Array.from({ length: CLIENTS }, () => client(server.url, token, ledger, () => dead));
        const killer = (async () => {
          while (ledger.uploads < killAfter && !dead) await new Promise((resolve) => setTimeout(resolve, 1));
          // A random moment past the last 201, so the kill lands anywhere in the uploads in flight.
          await new Promise((resolve) => setTimeout(resolve, randomInt(30)));
          await server.stop('SIGKILL');
          dead = true;
        })();
        await Promise.all([killer, ...clients]);
        kills += 1;
        for (const id of ledger.deleting) ledger.uncertain.add(id);
        ledger.deleting.clear();
        server = await startServer(env);
        await verify(server, dataDir, token, ledger, problems);
      }
    } finally {
      await server.stop('SIGKILL');
    }
    const seconds = Math.round((Date.now() - started) / 1000);
    console.log(
      `${dialect}: ${kills} kills, ${ledger.uploads} uploads acknowledged, ${ledger.deleted.size} deleted, in ${seconds} s`,
      problems,
    );
    expect(problems).toEqual(noProblems());
    expect(kills).toBeGreaterThanOrEqual(MIN_KILLS);
  });
});
