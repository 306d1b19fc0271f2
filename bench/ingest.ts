/**
 * Upload ingest: uploads per second and MiB/s with 16 clients each sending 5 MiB images in a
 * loop, to the service (multipart POST /api/upload) and to a bare Node sink that only
 * streams, hashes, fsyncs and renames (raw PUT). Every upload is stored as distinct bytes, as
 * real uploads are, so content addressing cannot skip any work. The JPEG also carries a
 * comment the service must strip (a copy of the file, as for a phone photo with EXIF); the PNG,
 * like most screenshots, has nothing to strip.
 *
 * A second baseline, the sink that also fully decodes each image with sharp as the service
 * must (SPEC.md), shows what that decode alone costs on this machine, and so how close the
 * service comes to the most a server doing the required work could do.
 */
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import sharp from 'sharp';
import { Agent, request } from 'undici';
import { noiseJpeg, screenshotPng, storedUniqueJpeg, storedUniquePng, uniqueJpeg } from './lib/images.js';
import { multipartEnvelope } from './lib/multipart.js';
import {
  REPO_ROOT,
  freePort,
  logTail,
  makeTempDir,
  removeTempDir,
  settleDisk,
  startBenchServer,
  stop,
  waitForHttp,
} from './lib/processes.js';
import type { SectionContext, SectionResult } from './lib/section.js';
import { registerUser, startService, stopService } from './lib/service.js';
import { fixed, mibPerSec, ms, ratio, renderTable } from './lib/table.js';

export const CLIENTS = 16;
export const DURATION_MS = 15_000;
export const WARMUP_MS = 2_000;
const IMAGE_BYTES = 5 * 1024 ** 2;
const TARGET = 0.8;

export interface Sample {
  label: string;
  filename: string;
  type: string;
  bytes: Buffer;
  /** The same picture with different bytes. */
  variant: (tag: string) => Buffer;
}

export interface LoadResult {
  uploads: number;
  failures: number;
  /** Distinct failure messages with how often each was seen. */
  failureKinds: Record<string, number>;
  elapsedS: number;
  uploadsPerSec: number;
  /** Image bytes (not multipart framing) per second. */
  bytesPerSec: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
}

const percentile = (sorted: number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? NaN;

/**
 * CLIENTS loops, each sending one upload after another until `durationMs` is over. Uploads
 * in flight at the deadline are finished and counted, and the rate uses the time until the
 * last one ended, so no partial work is lost or invented.
 */
async function runLoad(durationMs: number, imageBytes: number, send: (tag: string) => Promise<void>): Promise<LoadResult> {
  const latencies: number[] = [];
  const failureKinds: Record<string, number> = {};
  let failures = 0;
  const startedAt = performance.now();
  const deadline = startedAt + durationMs;
  await Promise.all(
    Array.from({ length: CLIENTS }, async (_, client) => {
      for (let seq = 0; performance.now() < deadline; seq += 1) {
        const begin = performance.now();
        try {
          await send(`bench-${process.pid}-${Date.now()}-${client}-${seq}`);
          latencies.push(performance.now() - begin);
        } catch (error) {
          failures += 1;
          const kind = (error as Error).message.slice(0, 200);
          failureKinds[kind] = (failureKinds[kind] ?? 0) + 1;
          // A server that fails instantly would otherwise be hammered in a tight loop.
          await sleep(50);
        }
      }
    }),
  );
  const elapsedS = (performance.now() - startedAt) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    uploads: latencies.length,
    failures,
    failureKinds,
    elapsedS,
    uploadsPerSec: latencies.length / elapsedS,
    bytesPerSec: (latencies.length * imageBytes) / elapsedS,
    latencyP50Ms: percentile(latencies, 50),
    latencyP99Ms: percentile(latencies, 99),
  };
}

/** Warm-up (not counted), then the measured load, on one connection pool sized to the clients. */
async function warmAndMeasure(
  context: SectionContext,
  label: string,
  sample: Sample,
  send: (agent: Agent, tag: string) => Promise<void>,
): Promise<LoadResult> {
  const agent = new Agent({ connections: CLIENTS, headersTimeout: 30_000, bodyTimeout: 30_000 });
  try {
    context.log(`${label}: warm-up ${WARMUP_MS / 1000} s, then ${DURATION_MS / 1000} s with ${CLIENTS} clients`);
    await runLoad(WARMUP_MS, sample.bytes.length, (tag) => send(agent, tag));
    await settleDisk();
    return await runLoad(DURATION_MS, sample.bytes.length, (tag) => send(agent, tag));
  } finally {
    await agent.close();
  }
}

async function expectStatus(response: Awaited<ReturnType<typeof request>>, status: number): Promise<void> {
  const text = await response.body.text();
  if (response.statusCode !== status) throw new Error(`HTTP ${response.statusCode}: ${text.slice(0, 150)}`);
}

async function baseline(context: SectionContext, sample: Sample, decode: boolean): Promise<LoadResult> {
  const work = makeTempDir('ingest-sink');
  const port = await freePort();
  const args = [join(work, 'files'), String(port), ...(decode ? ['decode', REPO_ROOT] : [])];
  const started = startBenchServer('ingest-sink.ts', args, work);
  try {
    await waitForHttp(`http://127.0.0.1:${port}/`, { started, deadlineMs: 15_000, accept: (status) => status === 405 });
    const url = `http://127.0.0.1:${port}/upload`;
    return await warmAndMeasure(context, `${decode ? 'sink + decode' : 'bare sink'} ${sample.label}`, sample, async (agent, tag) => {
      const response = await request(url, { method: 'PUT', dispatcher: agent, body: sample.variant(tag) });
      await expectStatus(response, 201);
    });
  } catch (error) {
    throw new Error(`${(error as Error).message}\n${logTail(started.logPath)}`);
  } finally {
    await stop(started);
    removeTempDir(work);
  }
}

/** The service's ingest; `env` adds settings (the s3 section's STORAGE=s3). */
export async function serviceIngest(
  context: SectionContext,
  sample: Sample,
  env: Record<string, string> = {},
  label = 'service',
): Promise<LoadResult> {
  // WORKERS=1: the baseline is one process too, so the ratio is per process. Rate limits off:
  // one account uploading as fast as it can is the load, not an abuse to refuse.
  const running = await startService({ workers: 1, env: { RATE_LIMIT: 'off', ...env } });
  try {
    const token = await registerUser(running);
    const url = `${running.baseUrl}/api/upload`;
    return await warmAndMeasure(context, `${label} ${sample.label}`, sample, async (agent, tag) => {
      const envelope = multipartEnvelope('files[]', sample.filename, sample.type);
      const response = await request(url, {
        method: 'POST',
        dispatcher: agent,
        headers: { 'content-type': envelope.contentType, token },
        body: Buffer.concat([envelope.head, sample.variant(tag), envelope.tail]),
      });
      await expectStatus(response, 201);
    });
  } catch (error) {
    throw new Error(`${(error as Error).message}\n${logTail(running.started.logPath)}`);
  } finally {
    await stopService(running);
  }
}

/** The 5 MiB JPEG photo and PNG screenshot, each with a variant maker giving distinct stored bytes. */
export async function ingestSamples(context: SectionContext): Promise<Sample[]> {
  context.log('ingest: generating the 5 MiB images');
  const jpeg = await noiseJpeg(IMAGE_BYTES);
  const png = await screenshotPng(IMAGE_BYTES);
  const describe = async (image: Buffer) => {
    const { width, height } = await sharp(image).metadata();
    return `${width}x${height}, ${fixed(image.length / 1024 ** 2, 2)} MiB`;
  };
  // Kept metadata (pixel density) that differs per upload, so no two are stored as one file.
  let density = 0;
  const nextDensity = () => (density++ % 65535) + 1;
  const samples: Sample[] = [
    {
      label: `JPEG photo, ${await describe(jpeg)}`,
      filename: 'photo.jpg',
      type: 'image/jpeg',
      bytes: jpeg,
      variant: (tag) => storedUniqueJpeg(uniqueJpeg(jpeg, tag), nextDensity()),
    },
    {
      label: `PNG screenshot, ${await describe(png)}`,
      filename: 'screenshot.png',
      type: 'image/png',
      bytes: png,
      variant: () => storedUniquePng(png, nextDensity()),
    },
  ];
  return samples;
}

export async function benchIngest(context: SectionContext): Promise<SectionResult> {
  const samples = await ingestSamples(context);

  const problems: string[] = [];
  const missed: string[] = [];
  const rows: string[][] = [];
  const data: unknown[] = [];
  const attempt = async (what: string, run: () => Promise<LoadResult>): Promise<LoadResult | undefined> => {
    try {
      const result = await run();
      if (result.failures > 0) {
        problems.push(`ingest / ${what}: ${result.failures} failed uploads: ${JSON.stringify(result.failureKinds)}`);
      }
      return result;
    } catch (error) {
      problems.push(`ingest / ${what}: ${(error as Error).message}`);
      return undefined;
    }
  };
  const row = (name: string, result: LoadResult | undefined, vs: string[], missing = 'failed'): string[] =>
    result
      ? [
          name,
          fixed(result.uploadsPerSec, 1),
          mibPerSec(result.bytesPerSec),
          ms(result.latencyP50Ms),
          ms(result.latencyP99Ms),
          `${result.uploads} / ${result.failures}`,
          ...vs,
        ]
      : [name, missing, '', '', '', '', '', ''];
  const share = (result: LoadResult | undefined, base: LoadResult | undefined) =>
    result && base ? result.uploadsPerSec / base.uploadsPerSec : undefined;

  for (const sample of samples) {
    const sink = await attempt(`bare sink, ${sample.label}`, () => baseline(context, sample, false));
    const decoding = await attempt(`sink + decode, ${sample.label}`, () => baseline(context, sample, true));
    const subject = context.serviceUnavailable
      ? undefined
      : await attempt(`service, ${sample.label}`, () => serviceIngest(context, sample));
    const ofSink = share(subject, sink);
    const ofDecoding = share(subject, decoding);
    if (ofSink !== undefined && ofSink < TARGET) {
      missed.push(
        `ingest / ${sample.label}: ${fixed(ofSink, 2)}x the bare sink's uploads/s (target >= ${fixed(TARGET, 2)}x); ` +
          `the sink that also decodes reaches ${fixed(share(decoding, sink) ?? NaN, 2)}x, the service ${fixed(ofDecoding ?? NaN, 2)}x of that`,
      );
    }
    const plain = (value: number | undefined) => (value === undefined ? 'n/a' : `${fixed(value, 2)}x`);
    rows.push(
      [sample.label, '', '', '', '', '', '', ''],
      row('  bare sink (PUT)', sink, ['1.00x', '']),
      row('  sink + sharp decode (PUT)', decoding, [plain(share(decoding, sink)), '1.00x']),
      row(
        '  service (POST multipart)',
        subject,
        [ofSink === undefined ? 'n/a' : ratio(ofSink, TARGET), plain(ofDecoding)],
        context.serviceUnavailable ? 'not built' : 'failed',
      ),
    );
    data.push({ image: sample.label, bytes: sample.bytes.length, baseline: sink, sinkWithDecode: decoding, service: subject });
  }

  const table = renderTable(
    `UPLOAD INGEST — ${CLIENTS} concurrent clients, ${DURATION_MS / 1000} s each after a ${WARMUP_MS / 1000} s warm-up, every upload distinct`,
    ['image / server', 'uploads/s', 'image MiB/s', 'p50', 'p99', 'ok / failed', 'vs bare sink', 'vs sink + decode'],
    rows,
    [
      `target: service >= ${fixed(TARGET, 2)}x the bare sink. Service: WORKERS=1, fresh DATA_DIR, one 201 per upload required.`,
      'bare sink: node:http, raw PUT body streamed to a temp file while hashing (sha256), then fsync + rename;',
      'no multipart parsing, no type check, no image decoding, no database (the service does all of these).',
      'sink + sharp decode: the bare sink plus the full decode the service must do (sharp, failOn error, to a 64 px sample),',
      'before the rename: the most any server doing the required work could reach here.',
      'JPEG photo: Gaussian noise at quality 90. PNG screenshot: flat chat-client UI around a noise "photo".',
    ],
  );
  return {
    table,
    problems,
    missed,
    data: { clients: CLIENTS, durationMs: DURATION_MS, warmupMs: WARMUP_MS, target: TARGET, results: data },
  };
}
