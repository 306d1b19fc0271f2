/**
 * SDK upload: 100 screenshots (PNG files on disk, of the sizes screenshots have) uploaded with
 * 4 in flight through @discord-images/sdk (`di.upload(path)`), against the same uploads done
 * with the platform's own tools (`fetch` + `FormData` + `fs.openAsBlob`), in alternating
 * rounds on one service. The SDK streams its own multipart body and counts the bytes as fetch
 * pulls them (for progress); this shows what that costs.
 */
import { openAsBlob } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DiscordImages } from '@discord-images/sdk';
import { screenshotPng, storedUniquePng } from './lib/images.js';
import { logTail, makeTempDir, REPO_ROOT, removeTempDir, runToCompletion, treeCpuMs } from './lib/processes.js';
import type { SectionContext, SectionResult } from './lib/section.js';
import { registerUser, startService, stopService } from './lib/service.js';
import { fixed, mibPerSec, ms, ratio, renderTable } from './lib/table.js';

const FILES = 100;
const IN_FLIGHT = 4;
const ROUNDS = 3;
const WARMUP_FILES = 8;
const TARGET = 0.95;
/** Screenshot sizes: a mostly flat window, a page with a picture, a busy full screen. */
const SIZES = [150 * 1024, 400 * 1024, 900 * 1024, 1800 * 1024];

type Subject = 'sdk' | 'fetch';
type Send = (path: string) => Promise<void>;

interface Run {
  subject: Subject;
  round: number;
  wallMs: number;
  bytes: number;
  uploadsPerSec: number;
  /** CPU of the bench process (the client) per upload. */
  clientCpuMs: number;
  /** CPU of the service per upload: the same work whoever sends. */
  serverCpuMs: number;
  latencyP50Ms: number;
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
};

/** Sends every file, IN_FLIGHT at a time, and times the whole batch. */
async function runBatch(paths: string[], send: Send): Promise<{ wallMs: number; clientCpuMs: number; latencies: number[] }> {
  const latencies: number[] = [];
  let next = 0;
  const cpuBefore = process.cpuUsage();
  const began = performance.now();
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next < paths.length) {
        const path = paths[next++]!;
        const start = performance.now();
        await send(path);
        latencies.push(performance.now() - start);
      }
    }),
  );
  const wallMs = performance.now() - began;
  const cpu = process.cpuUsage(cpuBefore);
  return { wallMs, clientCpuMs: (cpu.user + cpu.system) / 1000, latencies };
}

export async function benchSdkUpload(context: SectionContext): Promise<SectionResult> {
  const problems: string[] = [];
  if (context.serviceUnavailable) return { table: 'SDK UPLOAD: not run (service not built)', data: {}, problems };
  // The SDK as `npm install` leaves it (prepare); cheap when it is up to date.
  const build = await runToCompletion(process.execPath, [join(REPO_ROOT, 'packages/sdk/build.js')], { cwd: REPO_ROOT, timeoutMs: 120_000 });
  if (build.code !== 0) throw new Error(`packages/sdk/build.js failed:\n${build.stdout}${build.stderr}`);

  context.log(`sdk-upload: generating ${SIZES.length} screenshots (${SIZES.map((size) => `${Math.round(size / 1024)} KiB`).join(', ')})`);
  const screenshots = await Promise.all(SIZES.map((size) => screenshotPng(size, 0.05)));
  const work = makeTempDir('sdk-upload');
  // Every upload gets its own bytes (a pHYs chunk the service keeps), so none is stored as another's copy.
  let density = 0;
  const writeSet = async (name: string, count: number): Promise<{ paths: string[]; bytes: number }> => {
    const dir = join(work, name);
    await mkdir(dir);
    let bytes = 0;
    const paths = await Promise.all(
      Array.from({ length: count }, async (_, i) => {
        const png = storedUniquePng(screenshots[i % screenshots.length]!, ++density);
        bytes += png.length;
        const path = join(dir, `screenshot-${i}.png`);
        await writeFile(path, png);
        return path;
      }),
    );
    return { paths, bytes };
  };

  const running = await startService({ workers: 1, env: { RATE_LIMIT: 'off' } });
  const runs: Run[] = [];
  try {
    const token = await registerUser(running);
    const di = new DiscordImages({ baseUrl: running.baseUrl, token });
    const uploadUrl = `${running.baseUrl}/api/upload`;
    const senders: Record<Subject, Send> = {
      sdk: async (path) => {
        await di.upload(path);
      },
      fetch: async (path) => {
        const form = new FormData();
        form.append('files[]', await openAsBlob(path, { type: 'image/png' }), path.slice(path.lastIndexOf('/') + 1));
        const response = await fetch(uploadUrl, { method: 'POST', headers: { token }, body: form });
        const text = await response.text();
        if (response.status !== 201) throw new Error(`fetch upload: HTTP ${response.status}: ${text.slice(0, 200)}`);
        JSON.parse(text);
      },
    };

    for (const subject of ['sdk', 'fetch'] as const) {
      context.log(`sdk-upload: warm-up, ${WARMUP_FILES} uploads through ${subject}`);
      await runBatch((await writeSet(`warmup-${subject}`, WARMUP_FILES)).paths, senders[subject]);
    }
    for (let round = 1; round <= ROUNDS; round++) {
      // Alternated, so that neither always runs on a warmer (or busier) machine.
      const order: Subject[] = round % 2 === 1 ? ['sdk', 'fetch'] : ['fetch', 'sdk'];
      for (const subject of order) {
        const set = await writeSet(`round-${round}-${subject}`, FILES);
        context.log(`sdk-upload: round ${round} of ${ROUNDS}, ${FILES} uploads through ${subject}, ${IN_FLIGHT} in flight`);
        const serverBefore = await treeCpuMs(running.started.pid);
        const batch = await runBatch(set.paths, senders[subject]);
        const serverCpu = (await treeCpuMs(running.started.pid)) - serverBefore;
        runs.push({
          subject,
          round,
          wallMs: batch.wallMs,
          bytes: set.bytes,
          uploadsPerSec: FILES / (batch.wallMs / 1000),
          clientCpuMs: batch.clientCpuMs / FILES,
          serverCpuMs: serverCpu / FILES,
          latencyP50Ms: median(batch.latencies),
        });
      }
    }
  } catch (error) {
    problems.push(`sdk-upload: ${(error as Error).message}\n${logTail(running.started.logPath)}`);
  } finally {
    await stopService(running);
    removeTempDir(work);
  }

  const of = (subject: Subject) => runs.filter((run) => run.subject === subject);
  const complete = of('sdk').length === ROUNDS && of('fetch').length === ROUNDS;
  const sdkRate = median(of('sdk').map((run) => run.uploadsPerSec));
  const fetchRate = median(of('fetch').map((run) => run.uploadsPerSec));
  const missed: string[] = [];
  if (complete && sdkRate / fetchRate < TARGET) {
    missed.push(`sdk-upload: the SDK uploads at ${fixed(sdkRate / fetchRate, 2)}x raw fetch (target >= ${TARGET}x)`);
  }
  const row = (subject: Subject, label: string) => {
    const list = of(subject);
    if (list.length < ROUNDS) return [label, 'failed', '', '', '', '', '', ''];
    return [
      label,
      list.map((run) => fixed(run.uploadsPerSec, 1)).join(' / '),
      fixed(median(list.map((run) => run.uploadsPerSec)), 1),
      mibPerSec(median(list.map((run) => run.bytes / (run.wallMs / 1000)))),
      ms(median(list.map((run) => run.latencyP50Ms))),
      ms(median(list.map((run) => run.clientCpuMs))),
      ms(median(list.map((run) => run.serverCpuMs))),
      subject === 'sdk' && complete ? ratio(sdkRate / fetchRate, TARGET) : '',
    ];
  };
  const table = renderTable(
    `SDK UPLOAD — ${FILES} PNG screenshots (${SIZES.map((size) => `${Math.round(size / 1024)}`).join('/')} KiB, from disk), ${IN_FLIGHT} in flight, ${ROUNDS} alternating rounds`,
    ['client', 'uploads/s per round', 'median', 'MiB/s', 'p50 per upload', 'client CPU/upload', 'server CPU/upload', 'vs fetch'],
    [row('fetch', 'fetch + FormData + openAsBlob (baseline)'), row('sdk', 'SDK di.upload(path)')],
    [
      'One service (WORKERS=1, rate limits off), one account; each upload is one request with one file and distinct bytes.',
      'Ratio = median uploads/s of the SDK / median of raw fetch. CPU per upload: the bench process (client) and the service (server).',
    ],
  );
  return { table, problems, missed, data: { files: FILES, inFlight: IN_FLIGHT, rounds: ROUNDS, sizes: SIZES, runs } };
}
