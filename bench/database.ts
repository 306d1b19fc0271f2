/**
 * Database: the same service on SQLite (the default, in its DATA_DIR) and on PostgreSQL
 * (DATABASE_URL, a fresh database on the local server), side by side. A cluster runs on
 * PostgreSQL, so its speed is the cluster's: this shows what PostgreSQL costs where every
 * request asks the database, on share pages (wrk, as serve measures raw files) and on uploads
 * of a small screenshot (ingest's clients; a small image, so that the database's part of the
 * work shows rather than the decode's).
 */
import sharp from 'sharp';
import { request } from 'undici';
import { createPostgresDatabase } from '../server/test/helpers/postgres-admin.js';
import { screenshotPng, storedUniquePng } from './lib/images.js';
import type { SectionContext, SectionResult } from './lib/section.js';
import { registerUser, startService, stopService, uploadFile } from './lib/service.js';
import { fixed, ms, ratio, renderTable } from './lib/table.js';
import { runWrk, type WrkResult } from './lib/wrk.js';
import { CLIENTS, DURATION_MS, serviceIngest, WARMUP_MS, type LoadResult, type Sample } from './ingest.js';
import { errorCount, LOAD, WARMUP_S } from './serve.js';

const TARGET = 0.8;
/** Each route is measured this many times on each database, alternately. */
const ROUNDS = 2;
const DIALECTS = ['sqlite', 'postgres'] as const;
type Dialect = (typeof DIALECTS)[number];

/** A region capture as ShareX sends one: the ingest screenshot scaled to 960x540. */
async function smallScreenshot(): Promise<Sample> {
  const png = await sharp(await screenshotPng(5 * 1024 ** 2))
    .resize(960, 540)
    .png()
    .toBuffer();
  let density = 0;
  return {
    label: `PNG screenshot, 960x540, ${fixed(png.length / 1024)} KiB`,
    filename: 'capture.png',
    type: 'image/png',
    bytes: png,
    variant: () => storedUniquePng(png, (density++ % 65535) + 1),
  };
}

/** Share pages are HTML with the image's tags: a fast 404 or an error page proves nothing. */
async function checkSharePage(url: string, rawUrl: string): Promise<void> {
  const response = await request(url);
  const body = await response.body.text();
  if (response.statusCode !== 200) throw new Error(`GET ${url} answered ${response.statusCode}`);
  if (!body.includes(`content="${rawUrl}"`)) throw new Error(`GET ${url} has no og:image for ${rawUrl}`);
}

async function sharePages(context: SectionContext, wrk: string, env: Record<string, string>, label: string): Promise<WrkResult> {
  // Rate limits off: 64 connections from one address would measure the limit (600 a minute), not the page.
  const service = await startService({ workers: 1, env: { RATE_LIMIT: 'off', ...env } });
  try {
    const token = await registerUser(service);
    const sample = await smallScreenshot();
    const rawUrl = await uploadFile(service, token, sample);
    const url = rawUrl.replace(/\/i\/([^/.]+)\.[^/]+$/, '/$1');
    await checkSharePage(url, rawUrl);
    context.log(`${label}: warm-up ${WARMUP_S} s, then ${LOAD.durationS} s of wrk -t${LOAD.threads} -c${LOAD.connections} on ${url}`);
    await runWrk(wrk, url, { ...LOAD, durationS: WARMUP_S });
    return await runWrk(wrk, url, LOAD);
  } finally {
    await stopService(service);
  }
}

/** One measurement of a route on one database, whichever load measured it. */
interface Figures {
  rate: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
}

const fromWrk = (result: WrkResult): Figures => ({
  rate: result.requestsPerSec,
  p50Ms: result.latencyP50Ms,
  p99Ms: result.latencyP99Ms,
  errors: errorCount(result),
});
const fromIngest = (result: LoadResult): Figures => ({
  rate: result.uploadsPerSec,
  p50Ms: result.latencyP50Ms,
  p99Ms: result.latencyP99Ms,
  errors: result.failures,
});

export async function benchDatabase(context: SectionContext): Promise<SectionResult> {
  const { wrk } = context.tools;
  if (!wrk) throw new Error('database needs wrk (apt-get install -y wrk)');
  if (context.serviceUnavailable) return { table: 'DATABASE: not built', problems: [], data: {} };
  const undo: (() => unknown)[] = [];
  const problems: string[] = [];
  const missed: string[] = [];
  // Each run gets a database of its own, so that PostgreSQL starts as empty as SQLite's fresh file.
  const envOf = async (dialect: Dialect): Promise<Record<string, string>> =>
    dialect === 'sqlite' ? {} : { DATABASE_URL: await createPostgresDatabase('di_bench_database', (step) => undo.push(step)) };
  try {
    const sample = await smallScreenshot();
    const routes = [
      {
        name: 'share page GET /:id',
        unit: 'req/s',
        run: async (dialect: Dialect) =>
          fromWrk(await sharePages(context, wrk, await envOf(dialect), `database: share pages on ${dialect}`)),
      },
      {
        name: 'upload POST /api/upload',
        unit: 'uploads/s',
        run: async (dialect: Dialect) =>
          fromIngest(await serviceIngest(context, sample, await envOf(dialect), `database: uploads on ${dialect}`)),
      },
    ];
    const rows: string[][] = [];
    const data: Record<string, { rounds: Partial<Record<Dialect, Figures>>[]; share?: number }> = {};
    for (const route of routes) {
      // Rounds alternate the databases, so that a drift in the machine's speed weighs on both alike.
      const rounds: Partial<Record<Dialect, Figures>>[] = [];
      for (let round = 1; round <= ROUNDS; round++) {
        const figures: Partial<Record<Dialect, Figures>> = {};
        for (const dialect of DIALECTS) {
          try {
            const result = await route.run(dialect);
            if (result.errors > 0) problems.push(`database / ${route.name} on ${dialect}: ${result.errors} failed requests`);
            figures[dialect] = result;
          } catch (error) {
            problems.push(`database / ${route.name} on ${dialect}: ${(error as Error).message}`);
          }
        }
        rounds.push(figures);
        const { sqlite, postgres } = figures;
        for (const dialect of DIALECTS) {
          const result = figures[dialect];
          rows.push([
            `${route.name}, ${dialect}, round ${round}`,
            result ? `${fixed(result.rate, result.rate < 100 ? 1 : 0)} ${route.unit}` : 'failed',
            result ? ms(result.p50Ms) : '',
            result ? ms(result.p99Ms) : '',
            result ? fixed(result.errors) : '',
            dialect === 'sqlite' ? '1.00x' : sqlite && postgres ? `${fixed(postgres.rate / sqlite.rate, 2)}x` : 'n/a',
          ]);
        }
      }
      // The target is held by the rates summed over the rounds.
      const total = (dialect: Dialect) => rounds.reduce((sum, figures) => sum + (figures[dialect]?.rate ?? NaN), 0);
      const share = total('postgres') / total('sqlite');
      data[route.name] = { rounds, ...(Number.isFinite(share) && { share }) };
      if (share < TARGET)
        missed.push(`database / ${route.name}: PostgreSQL at ${fixed(share, 2)}x SQLite (target >= ${fixed(TARGET, 2)}x)`);
      rows.push([`${route.name}: PostgreSQL, ${ROUNDS} rounds`, '', '', '', '', Number.isFinite(share) ? ratio(share, TARGET) : 'n/a']);
    }
    const table = renderTable(
      'DATABASE — the same service on SQLite (baseline) and on PostgreSQL, WORKERS=1, rate limits off',
      ['route, database', 'rate', 'p50', 'p99', 'errors', 'vs SQLite'],
      rows,
      [
        `target: PostgreSQL >= ${fixed(TARGET, 2)}x SQLite on both routes, by the rates summed over ${ROUNDS} rounds (SQLite, PostgreSQL, SQLite, PostgreSQL).`,
        'PostgreSQL: the local server (TCP, 127.0.0.1:5432), a fresh database per line, sharing the two cores with the service and the load.',
        `share pages: wrk -t${LOAD.threads} -c${LOAD.connections} -d${LOAD.durationS}s on one upload's page after a ${WARMUP_S} s warm-up.`,
        `uploads: ${CLIENTS} clients for ${DURATION_MS / 1000} s after a ${WARMUP_MS / 1000} s warm-up, one account, every upload distinct: ${sample.label}.`,
      ],
    );
    return { table, problems, missed, data: { target: TARGET, rounds: ROUNDS, uploadImage: sample.label, routes: data } };
  } finally {
    for (const step of undo.reverse())
      await Promise.resolve()
        .then(step)
        .catch(() => undefined);
  }
}
