/**
 * Raw serving: requests per second and tail latency for GET of one ~200 KB JPEG, from nginx
 * (the baseline), a bare node:http server (reference point) and the service with WORKERS=1
 * and WORKERS=2. Each server runs alone, one after the other, so they never share the CPU.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { request } from 'undici';
import { noiseJpeg } from './lib/images.js';
import { startNginx } from './lib/nginx.js';
import { freePort, logTail, makeTempDir, startBenchServer, stop, waitForHttp } from './lib/processes.js';
import type { SectionContext, SectionResult } from './lib/section.js';
import { registerUser, startService, stopService, uploadFile } from './lib/service.js';
import { fixed, mibPerSec, ms, ratio, renderTable } from './lib/table.js';
import { runWrk, type WrkResult } from './lib/wrk.js';

export const LOAD = { threads: 2, connections: 64, durationS: 10 };
export const WARMUP_S = 2;
const TARGET = 0.5;

export interface Row {
  name: string;
  /** Held to the target; the other lines are baselines. */
  isService?: boolean;
  result?: WrkResult;
  error?: string;
  /** Not measured because the service did not build (already reported once by run.ts). */
  skipped?: boolean;
}

/** Refuses to benchmark a URL that does not serve exactly our bytes: a fast 404 proves nothing. */
async function checkServes(url: string, expected: Buffer): Promise<void> {
  const response = await request(url);
  const body = Buffer.from(await response.body.arrayBuffer());
  if (response.statusCode !== 200) throw new Error(`GET ${url} answered ${response.statusCode}`);
  if (!body.equals(expected)) throw new Error(`GET ${url} returned ${body.length} bytes that differ from the ${expected.length} uploaded`);
}

export async function measure(context: SectionContext, wrk: string, label: string, url: string, image: Buffer): Promise<WrkResult> {
  await checkServes(url, image);
  context.log(`${label}: warm-up ${WARMUP_S} s, then ${LOAD.durationS} s of wrk -t${LOAD.threads} -c${LOAD.connections}`);
  await runWrk(wrk, url, { ...LOAD, durationS: WARMUP_S });
  return runWrk(wrk, url, LOAD);
}

/** Runs `body`, always tearing down what `launch` started, and turns a failure into an error row. */
export async function subject<T>(
  name: string,
  launch: () => Promise<T>,
  body: (handle: T) => Promise<WrkResult>,
  teardown: (handle: T) => Promise<void>,
): Promise<Row> {
  let handle: T | undefined;
  try {
    handle = await launch();
    return { name, result: await body(handle) };
  } catch (error) {
    return { name, error: (error as Error).message };
  } finally {
    if (handle) await teardown(handle);
  }
}

export function errorCount(result: WrkResult): number {
  const { connect, read, write, timeout } = result.socketErrors;
  return result.non2xx + connect + read + write + timeout;
}

export async function benchServe(context: SectionContext): Promise<SectionResult> {
  const { nginx, wrk } = context.tools;
  if (!nginx || !wrk) throw new Error('serve needs nginx and wrk (apt-get install -y nginx wrk)');
  const work = makeTempDir('serve');
  const image = await noiseJpeg(200_000);
  const { width, height } = await sharp(image).metadata();
  const root = join(work, 'www');
  mkdirSync(join(root, 'i'), { recursive: true });
  const imagePath = join(root, 'i', 'bench.jpg');
  writeFileSync(imagePath, image);
  context.log(`serve: ${width}x${height} noise JPEG, ${image.length} bytes`);

  const rows: Row[] = [];
  const nginxPort = await freePort();
  rows.push(
    await subject(
      'nginx (sendfile)',
      () => startNginx(nginx, { prefix: join(work, 'nginx'), root, port: nginxPort, probePath: '/i/bench.jpg' }),
      () => measure(context, wrk, 'nginx', `http://127.0.0.1:${nginxPort}/i/bench.jpg`, image),
      (started) => stop(started),
    ),
  );

  const barePort = await freePort();
  rows.push(
    await subject(
      'node:http + createReadStream',
      async () => {
        const started = startBenchServer('static-file.ts', [imagePath, String(barePort)], work);
        try {
          await waitForHttp(`http://127.0.0.1:${barePort}/`, { started, deadlineMs: 15_000, accept: (status) => status === 200 });
        } catch (error) {
          await stop(started);
          throw new Error(`${(error as Error).message}\n${logTail(started.logPath)}`);
        }
        return started;
      },
      () => measure(context, wrk, 'node-bare', `http://127.0.0.1:${barePort}/i/bench.jpg`, image),
      (started) => stop(started),
    ),
  );

  // The metrics line: every answer of the fast path is counted then (docs/metrics.md), which must cost nothing measurable.
  for (const { workers, metrics } of [{ workers: 1 }, { workers: 1, metrics: true }, { workers: 2 }]) {
    const name = `service WORKERS=${workers}${metrics ? ' METRICS on' : ''}`;
    if (context.serviceUnavailable) {
      rows.push({ name, isService: true, skipped: true });
      continue;
    }
    rows.push({
      isService: true,
      ...(await subject(
        name,
        async () => startService({ workers, env: metrics ? { METRICS_PORT: String(await freePort()) } : {} }),
        async (service) => {
          const token = await registerUser(service);
          const rawUrl = await uploadFile(service, token, { bytes: image, filename: 'bench.jpg', type: 'image/jpeg' });
          return measure(context, wrk, name, rawUrl, image);
        },
        stopService,
      )),
    });
  }

  const nginxRps = rows[0]?.result?.requestsPerSec;
  const problems: string[] = [];
  const missed: string[] = [];
  const tableRows = rows.map((row) => {
    if (!row.result) {
      if (!row.skipped) problems.push(`serve / ${row.name}: ${row.error}`);
      return [row.name, row.skipped ? 'not built' : 'failed', '', '', '', '', ''];
    }
    const r = row.result;
    const errors = errorCount(r);
    if (errors > 0) problems.push(`serve / ${row.name}: ${errors} failed requests (non-2xx or socket errors)`);
    const share = nginxRps ? r.requestsPerSec / nginxRps : undefined;
    let vsNginx = share === undefined ? 'n/a' : `${fixed(share, 2)}x`;
    if (row.isService && share !== undefined) {
      vsNginx = ratio(share, TARGET);
      if (share < TARGET) missed.push(`serve / ${row.name}: ${fixed(share, 2)}x nginx req/s (target >= ${fixed(TARGET, 2)}x)`);
    }
    return [row.name, fixed(r.requestsPerSec), ms(r.latencyP50Ms), ms(r.latencyP99Ms), mibPerSec(r.transferPerSec), fixed(errors), vsNginx];
  });
  const table = renderTable(
    `RAW SERVING — GET of one ${fixed(image.length / 1000, 1)} KB JPEG (${width}x${height}), wrk -t${LOAD.threads} -c${LOAD.connections} -d${LOAD.durationS}s after a ${WARMUP_S} s warm-up`,
    ['server', 'req/s', 'p50', 'p99', 'transfer', 'errors', 'req/s vs nginx'],
    tableRows,
    [
      `target: service >= ${fixed(TARGET, 2)}x nginx req/s. nginx: worker_processes auto (${availableParallelism()} here), sendfile, access_log off.`,
      'node:http + createReadStream is one process, no framework: a reference point, not a target.',
      'wrk runs on the same 2 cores as the server, so every line pays the same client cost.',
    ],
  );
  return {
    table,
    problems,
    missed,
    data: { image: { bytes: image.length, width, height }, load: { ...LOAD, warmupS: WARMUP_S }, target: TARGET, rows },
  };
}
