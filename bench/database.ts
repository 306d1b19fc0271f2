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
    const pages = new Map<Dialect, WrkResult>();
    const uploads = new Map<Dialect, LoadResult>();
    const sample = await smallScreenshot();
    for (const dialect of DIALECTS) {
      try {
        const result = await sharePages(context, wrk, await envOf(dialect), `database: share pages on ${dialect}`);
        if (errorCount(result) > 0) problems.push(`database / share pages on ${dialect}: ${errorCount(result)} failed requests`);
        pages.set(dialect, result);
      } catch (error) {
        problems.push(`database / share pages on ${dialect}: ${(error as Error).message}`);
      }
    }
    for (const dialect of DIALECTS) {
      try {
        const result = await serviceIngest(context, sample, await envOf(dialect), `database: uploads on ${dialect}`);
        if (result.failures > 0)
          problems.push(`database / uploads on ${dialect}: ${result.failures} failed: ${JSON.stringify(result.failureKinds)}`);
        uploads.set(dialect, result);
      } catch (error) {
        problems.push(`database / uploads on ${dialect}: ${(error as Error).message}`);
      }
    }

    const versus = (what: string, sqlite: number | undefined, postgres: number | undefined): string => {
      if (sqlite === undefined || postgres === undefined) return 'n/a';
      const share = postgres / sqlite;
      if (share < TARGET) missed.push(`database / ${what}: PostgreSQL at ${fixed(share, 2)}x SQLite (target >= ${fixed(TARGET, 2)}x)`);
      return ratio(share, TARGET);
    };
    const pageShare = versus('share pages', pages.get('sqlite')?.requestsPerSec, pages.get('postgres')?.requestsPerSec);
    const uploadShare = versus('uploads', uploads.get('sqlite')?.uploadsPerSec, uploads.get('postgres')?.uploadsPerSec);
    const rows: string[][] = [];
    for (const dialect of DIALECTS) {
      const page = pages.get(dialect);
      rows.push([
        `share page GET /:id, ${dialect}`,
        page ? fixed(page.requestsPerSec) : 'failed',
        page ? ms(page.latencyP50Ms) : '',
        page ? ms(page.latencyP99Ms) : '',
        page ? fixed(errorCount(page)) : '',
        dialect === 'sqlite' ? '1.00x' : pageShare,
      ]);
    }
    for (const dialect of DIALECTS) {
      const upload = uploads.get(dialect);
      rows.push([
        `upload POST /api/upload, ${dialect}`,
        upload ? fixed(upload.uploadsPerSec, 1) : 'failed',
        upload ? ms(upload.latencyP50Ms) : '',
        upload ? ms(upload.latencyP99Ms) : '',
        upload ? fixed(upload.failures) : '',
        dialect === 'sqlite' ? '1.00x' : uploadShare,
      ]);
    }
    const table = renderTable(
      'DATABASE — the same service on SQLite (baseline) and on PostgreSQL, WORKERS=1, rate limits off',
      ['route, database', 'req/s', 'p50', 'p99', 'errors', 'vs SQLite'],
      rows,
      [
        `target: PostgreSQL >= ${fixed(TARGET, 2)}x SQLite on both routes. PostgreSQL: the local server (TCP, 127.0.0.1:5432), a fresh database per line.`,
        `share pages: wrk -t${LOAD.threads} -c${LOAD.connections} -d${LOAD.durationS}s on one upload's page after a ${WARMUP_S} s warm-up.`,
        `uploads: ${CLIENTS} clients for ${DURATION_MS / 1000} s after a ${WARMUP_MS / 1000} s warm-up, one account, every upload distinct: ${sample.label}.`,
        'PostgreSQL shares the two cores with the service and the load; SQLite runs inside the service.',
      ],
    );
    return {
      table,
      problems,
      missed,
      data: { target: TARGET, sharePages: Object.fromEntries(pages), uploads: Object.fromEntries(uploads), uploadImage: sample.label },
    };
  } finally {
    for (const step of undo.reverse())
      await Promise.resolve()
        .then(step)
        .catch(() => undefined);
  }
}
