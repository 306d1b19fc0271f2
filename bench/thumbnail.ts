/**
 * Thumbnails. (a) The first request of a thumbnail, which renders and stores it, timed by the
 * client for fresh uploads, against bare sharp doing the same resize on the same files in
 * this process. (b) Serving a cached thumbnail with wrk, against raw serving by the same
 * service of the original and of a file as large as the thumbnail, in alternating rounds.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { request } from 'undici';
import { noiseJpeg, screenshotPng, storedUniqueJpeg, storedUniquePng } from './lib/images.js';
import { makeTempDir, removeTempDir } from './lib/processes.js';
import type { SectionContext, SectionResult } from './lib/section.js';
import { registerUser, startService, stopService, uploadFile, type Service } from './lib/service.js';
import { fixed, mibPerSec, ms, ratio, renderTable } from './lib/table.js';
import { runWrk, type WrkResult } from './lib/wrk.js';

const IMAGE_BYTES = 3 * 1024 ** 2;
/** Rounds measured: with 30, the median moved by about ±4 % between runs on a noisy 2-core machine. */
const ROUNDS = 60;
const WARMUP_ROUNDS = 3;
/** Service's first-hit median over bare sharp's: at most this. */
const FIRST_HIT_TARGET = 1.1;
const LOAD = { threads: 2, connections: 64, durationS: 3 };
const WARMUP_S = 2;
/** Each URL is loaded this many times, taking turns, so that a burst of load from elsewhere on the machine cannot land on one only. */
const SERVING_ROUNDS = 7;
/** Cached thumbnail req/s over raw req/s: at least this. */
const SERVING_TARGET = 0.9;

/**
 * What server/src/media/thumbnailer.ts does, called directly: same box, same first frame,
 * same encoder settings. The service's output must come out byte for byte the same.
 */
const BOX = 400;
const bareThumbnail = (input: string, output: string) =>
  sharp(input, { failOn: 'none', pages: 1 })
    .autoOrient()
    .resize({ width: BOX, height: BOX, fit: 'inside', withoutEnlargement: true })
    .webp({ quality: 80, effort: 2 })
    .toFile(output);

interface Sample {
  label: string;
  filename: string;
  type: string;
  bytes: Buffer;
  width: number;
  height: number;
  /** The same picture with different stored bytes (n >= 1), so each upload gets a thumbnail of its own. */
  variant: (n: number) => Buffer;
}

interface FirstHit {
  label: string;
  sharpMs: number[];
  serviceMs: number[];
  /** Rounds whose service thumbnail differed from bare sharp's output. */
  differing: number;
  thumbnailBytes: number;
}

interface ServingRow {
  name: string;
  bytes: number;
  /** The run with the median req/s. */
  result?: WrkResult;
  runs: WrkResult[];
  error?: string;
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

/** "1.04x ok (<= 1.10x)" or "1.25x ABOVE (<= 1.10x)": table.ts's ratio() is for lower bounds. */
const atMost = (value: number, target: number): string =>
  `${fixed(value, 2)}x ${value <= target ? 'ok' : 'ABOVE'} (<= ${fixed(target, 2)}x)`;

/** The thumbnail URL of an upload, from its raw URL (`/i/<id>.<ext>` -> `/t/<id>.webp`, SPEC.md). */
function thumbnailUrlOf(rawUrl: string): string {
  const url = new URL(rawUrl);
  const match = /^\/i\/([^/.]+)\.[a-z]+$/.exec(url.pathname);
  if (!match) throw new Error(`unexpected raw_url ${rawUrl}`);
  url.pathname = `/t/${match[1]}.webp`;
  return url.href;
}

async function fetchBytes(url: string): Promise<{ status: number; type: string | undefined; body: Buffer }> {
  const response = await request(url);
  const body = Buffer.from(await response.body.arrayBuffer());
  const type = response.headers['content-type'];
  return { status: response.statusCode, type: typeof type === 'string' ? type : undefined, body };
}

async function expectServes(url: string, expected: Buffer, what: string): Promise<void> {
  const { status, body } = await fetchBytes(url);
  if (status !== 200) throw new Error(`${what}: GET ${url} answered ${status}`);
  if (!body.equals(expected))
    throw new Error(`${what}: GET ${url} returned ${body.length} bytes that differ from the ${expected.length} expected`);
}

/**
 * Each round uploads a fresh variant (not timed), then times bare sharp on that file and the
 * service's first GET of its thumbnail. The order alternates, so neither side always runs
 * on a warmer machine.
 */
async function firstHits(context: SectionContext, service: Service, token: string, sample: Sample, work: string): Promise<FirstHit> {
  const result: FirstHit = { label: sample.label, sharpMs: [], serviceMs: [], differing: 0, thumbnailBytes: 0 };
  for (let round = -WARMUP_ROUNDS; round < ROUNDS; round += 1) {
    const bytes = sample.variant(WARMUP_ROUNDS + round + 1);
    const input = join(work, `input-${round}`);
    const output = join(work, `bare-${round}.webp`);
    writeFileSync(input, bytes);
    const thumbnailUrl = thumbnailUrlOf(await uploadFile(service, token, { bytes, filename: sample.filename, type: sample.type }));

    const timeSharp = async () => {
      const started = performance.now();
      await bareThumbnail(input, output);
      return performance.now() - started;
    };
    const timeService = async () => {
      const started = performance.now();
      const answer = await fetchBytes(thumbnailUrl);
      const elapsed = performance.now() - started;
      if (answer.status !== 200 || answer.type !== 'image/webp') {
        throw new Error(`GET ${thumbnailUrl} answered ${answer.status} ${answer.type ?? ''}: ${answer.body.toString('utf8', 0, 300)}`);
      }
      return { elapsed, body: answer.body };
    };
    let sharpMs: number;
    let served: { elapsed: number; body: Buffer };
    if (round % 2 === 0) {
      sharpMs = await timeSharp();
      served = await timeService();
    } else {
      served = await timeService();
      sharpMs = await timeSharp();
    }
    if (round < 0) continue;
    result.sharpMs.push(sharpMs);
    result.serviceMs.push(served.elapsed);
    result.thumbnailBytes = served.body.length;
    if (!served.body.equals(readFileSync(output))) result.differing += 1;
  }
  context.log(
    `thumbnail: ${sample.label}: bare sharp ${ms(median(result.sharpMs))}, service first GET ${ms(median(result.serviceMs))} (medians of ${ROUNDS})`,
  );
  return result;
}

/** Loads every URL SERVING_ROUNDS times in turn; each row keeps its median run. */
async function serving(
  context: SectionContext,
  wrk: string,
  targets: { name: string; url: string; expected: Buffer }[],
): Promise<ServingRow[]> {
  const rows: ServingRow[] = [];
  for (const { name, url, expected } of targets) {
    const row: ServingRow = { name, bytes: expected.length, runs: [] };
    rows.push(row);
    try {
      await expectServes(url, expected, name);
      await runWrk(wrk, url, { ...LOAD, durationS: WARMUP_S });
    } catch (error) {
      row.error = (error as Error).message;
    }
  }
  for (let round = 1; round <= SERVING_ROUNDS; round += 1) {
    context.log(
      `thumbnail: serving round ${round} of ${SERVING_ROUNDS}, ${LOAD.durationS} s of wrk -t${LOAD.threads} -c${LOAD.connections} per URL`,
    );
    for (const [index, row] of rows.entries()) {
      if (row.error !== undefined) continue;
      try {
        row.runs.push(await runWrk(wrk, targets[index]!.url, LOAD));
      } catch (error) {
        row.error = (error as Error).message;
      }
    }
  }
  for (const row of rows) {
    const sorted = [...row.runs].sort((a, b) => a.requestsPerSec - b.requestsPerSec);
    if (row.error === undefined) row.result = sorted[Math.floor(sorted.length / 2)];
  }
  return rows;
}

/** Non-2xx answers and socket errors over all runs: a fast error makes a figure meaningless. */
function errorCount(results: WrkResult[]): number {
  return results.reduce(
    (sum, { non2xx, socketErrors: { connect, read, write, timeout } }) => sum + non2xx + connect + read + write + timeout,
    0,
  );
}

export async function benchThumbnail(context: SectionContext): Promise<SectionResult> {
  const { wrk } = context.tools;
  if (!wrk) throw new Error('thumbnail needs wrk (apt-get install -y wrk)');
  if (context.serviceUnavailable) throw new Error(context.serviceUnavailable);
  // The service turns sharp's cache off; the baseline must not get repeated work for free either.
  sharp.cache(false);

  const work = makeTempDir('thumbnail');
  const photo = await noiseJpeg(IMAGE_BYTES);
  const screenshot = await screenshotPng(IMAGE_BYTES);
  const samples: Sample[] = [];
  for (const [label, filename, type, bytes, variant] of [
    ['photo JPEG', 'photo.jpg', 'image/jpeg', photo, storedUniqueJpeg],
    ['screenshot PNG', 'screenshot.png', 'image/png', screenshot, storedUniquePng],
  ] as const) {
    const { width = 0, height = 0 } = await sharp(bytes).metadata();
    samples.push({
      label: `${label} ${width}x${height}, ${fixed(bytes.length / 1024 ** 2, 1)} MiB`,
      filename,
      type,
      bytes,
      width,
      height,
      variant: (n) => variant(bytes, n),
    });
    context.log(`thumbnail: ${label} ${width}x${height}, ${bytes.length} bytes`);
  }

  const problems: string[] = [];
  const missed: string[] = [];
  const hits: FirstHit[] = [];
  const rows: ServingRow[] = [];
  // Rate limits off: each round uploads, faster than the upload limit allows one account.
  const service = await startService({ workers: 1, env: { RATE_LIMIT: 'off' } });
  try {
    const token = await registerUser(service);
    for (const sample of samples) hits.push(await firstHits(context, service, token, sample, work));

    // (b) One photo upload: its thumbnail (cached after a first GET), its raw bytes, and an
    // upload of the thumbnail's own bytes, so that one raw line moves exactly as many bytes.
    const rawUrl = await uploadFile(service, token, { bytes: photo, filename: 'photo.jpg', type: 'image/jpeg' });
    const thumbnailUrl = thumbnailUrlOf(rawUrl);
    const thumbnail = (await fetchBytes(thumbnailUrl)).body;
    const twinUrl = await uploadFile(service, token, { bytes: thumbnail, filename: 'twin.webp', type: 'image/webp' });
    rows.push(
      ...(await serving(context, wrk, [
        { name: 'thumbnail /t/ (cached)', url: thumbnailUrl, expected: thumbnail },
        { name: 'raw /i/ of the original photo', url: rawUrl, expected: photo },
        { name: 'raw /i/ of a file the size of the thumbnail', url: twinUrl, expected: thumbnail },
      ])),
    );
  } finally {
    await stopService(service);
    removeTempDir(work);
  }

  const firstHitRows = hits.map((hit) => {
    const sharpMedian = median(hit.sharpMs);
    const serviceMedian = median(hit.serviceMs);
    const value = serviceMedian / sharpMedian;
    if (value > FIRST_HIT_TARGET)
      missed.push(`thumbnail / first hit ${hit.label}: ${fixed(value, 2)}x bare sharp (target <= ${fixed(FIRST_HIT_TARGET, 2)}x)`);
    if (hit.differing > 0)
      problems.push(
        `thumbnail / first hit ${hit.label}: ${hit.differing} of ${ROUNDS} thumbnails differ from bare sharp's, so the work compared is not the same`,
      );
    return [
      hit.label,
      ms(sharpMedian),
      ms(serviceMedian),
      ms(Math.max(...hit.serviceMs)),
      `${fixed(hit.thumbnailBytes / 1000, 1)} KB`,
      hit.differing === 0 ? 'yes' : `no (${hit.differing})`,
      atMost(value, FIRST_HIT_TARGET),
    ];
  });

  const thumbnailRps = rows[0]?.result?.requestsPerSec;
  const servingRows = rows.map((row) => {
    if (!row.result) {
      problems.push(`thumbnail / ${row.name}: ${row.error}`);
      return [row.name, `${fixed(row.bytes / 1000, 1)} KB`, 'failed', '', '', '', '', ''];
    }
    const r = row.result;
    const errors = errorCount(row.runs);
    if (errors > 0) problems.push(`thumbnail / ${row.name}: ${errors} failed requests (non-2xx or socket errors)`);
    let vs = '';
    if (row !== rows[0] && thumbnailRps !== undefined) {
      const value = thumbnailRps / r.requestsPerSec;
      if (value < SERVING_TARGET)
        missed.push(`thumbnail / cached thumbnail vs ${row.name}: ${fixed(value, 2)}x req/s (target >= ${fixed(SERVING_TARGET, 2)}x)`);
      vs = ratio(value, SERVING_TARGET);
    }
    return [
      row.name,
      `${fixed(row.bytes / 1000, 1)} KB`,
      fixed(r.requestsPerSec),
      ms(r.latencyP50Ms),
      ms(r.latencyP99Ms),
      mibPerSec(r.transferPerSec),
      fixed(errors),
      vs,
    ];
  });

  const table = [
    renderTable(
      `THUMBNAILS (a) — first request of a thumbnail (render, store, send) for a fresh upload, median of ${ROUNDS}, against bare sharp on the same files`,
      ['image', 'bare sharp p50', 'service p50', 'service max', 'thumbnail', 'same bytes', 'service / sharp'],
      firstHitRows,
      [
        `target: service <= ${fixed(FIRST_HIT_TARGET, 2)}x bare sharp. Service: WORKERS=1, GET timed by the client, from request to last byte.`,
        `bare sharp: the service's settings (${BOX} px box, first frame, autoOrient, WebP q80 effort 2) from a file to a file, in the bench process.`,
        `${WARMUP_ROUNDS} warm-up rounds are not counted; each round alternates which of the two runs first.`,
      ],
    ),
    renderTable(
      `THUMBNAILS (b) — cached thumbnail against raw serving by the same service, wrk -t${LOAD.threads} -c${LOAD.connections} -d${LOAD.durationS}s, ${SERVING_ROUNDS} rounds taking turns after a ${WARMUP_S} s warm-up; the median round of each`,
      ['GET', 'size', 'req/s', 'p50', 'p99', 'transfer', 'errors', 'thumbnail req/s vs this'],
      servingRows,
      [
        `target: thumbnail >= ${fixed(SERVING_TARGET, 2)}x raw req/s. The original moves far more bytes per request; the`,
        'file the size of the thumbnail (its own bytes, uploaded as a WebP) is the like-for-like comparison.',
      ],
    ),
  ].join('\n\n');

  return {
    table,
    problems,
    missed,
    data: {
      rounds: ROUNDS,
      warmupRounds: WARMUP_ROUNDS,
      firstHitTarget: FIRST_HIT_TARGET,
      servingTarget: SERVING_TARGET,
      load: { ...LOAD, warmupS: WARMUP_S, rounds: SERVING_ROUNDS },
      images: samples.map(({ label, width, height, bytes }) => ({ label, width, height, bytes: bytes.length })),
      firstHits: hits,
      serving: rows,
    },
  };
}
