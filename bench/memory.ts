/**
 * Memory while a 1 GiB upload streams in: the service's resident memory (whole process tree,
 * sampled every 100 ms) before, during and after one upload of a PNG header followed by 1 GiB
 * of junk. A service that streams to disk stays flat; one that buffers grows by the file size.
 */
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import { pngHeader } from './lib/images.js';
import { multipartEnvelope } from './lib/multipart.js';
import { logTail, settleDisk, treeRss } from './lib/processes.js';
import type { SectionContext, SectionResult } from './lib/section.js';
import { registerUser, startService, stopService } from './lib/service.js';
import { fixed, mib, mibPerSec, renderTable } from './lib/table.js';

const FILE_BYTES = 1024 ** 3;
const CHUNK_BYTES = 64 * 1024;
const SAMPLE_MS = 100;
const BEFORE_MS = 1_000;
const AFTER_MS = 2_000;
const UPLOAD_TIMEOUT_MS = 120_000;
const TARGET_GROWTH = 100 * 1024 ** 2;

type Phase = 'before' | 'during' | 'after';
interface Sample {
  atMs: number;
  phase: Phase;
  rssBytes: number;
  processes: number;
}

/**
 * The upload body, generated as it is sent: multipart head, a valid PNG signature and IHDR
 * (so that a type sniffer on the first bytes does not cut the upload short),
 * junk up to FILE_BYTES, multipart tail. The junk is one random MiB repeated, so the bench
 * itself holds 1 MiB, not 1 GiB, and spends no CPU making randomness.
 */
function hugeUpload(progress: { sent: number }): { body: Readable; contentType: string; length: number } {
  const envelope = multipartEnvelope('files[]', 'huge.png', 'image/png');
  const header = pngHeader(4000, 3000);
  const junk = randomBytes(1024 ** 2);
  async function* generate(): AsyncGenerator<Buffer> {
    for (const part of [envelope.head, header]) {
      progress.sent += part.length;
      yield part;
    }
    for (let written = header.length; written < FILE_BYTES;) {
      const offset = written % junk.length;
      const chunk = junk.subarray(offset, Math.min(junk.length, offset + CHUNK_BYTES, offset + FILE_BYTES - written));
      written += chunk.length;
      progress.sent += chunk.length;
      yield chunk;
    }
    progress.sent += envelope.tail.length;
    yield envelope.tail;
  }
  return {
    body: Readable.from(generate(), { objectMode: false }),
    contentType: envelope.contentType,
    length: envelope.head.length + FILE_BYTES + envelope.tail.length,
  };
}

/** Samples the tree's RSS every SAMPLE_MS; a tick still reading /proc makes the next one skip. */
function startSampler(pid: number, phase: { current: Phase }): { samples: Sample[]; stop: () => void } {
  const samples: Sample[] = [];
  const origin = performance.now();
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    const current = phase.current;
    void treeRss(pid)
      .then(({ bytes, processes }) => {
        if (processes > 0) samples.push({ atMs: Math.round(performance.now() - origin), phase: current, rssBytes: bytes, processes });
      })
      .finally(() => (busy = false));
  }, SAMPLE_MS);
  return { samples, stop: () => clearInterval(timer) };
}

export async function benchMemory(context: SectionContext): Promise<SectionResult> {
  if (context.serviceUnavailable) throw new Error(context.serviceUnavailable);
  await settleDisk();
  const service = await startService({ workers: 1, env: { MAX_FILE_SIZE: '2GB' } });
  try {
    const token = await registerUser(service);
    const phase = { current: 'before' as Phase };
    const sampler = startSampler(service.started.pid, phase);
    await sleep(BEFORE_MS);

    context.log(`memory: streaming ${mib(FILE_BYTES)} to POST /api/upload while sampling RSS every ${SAMPLE_MS} ms`);
    phase.current = 'during';
    const progress = { sent: 0 };
    const upload = hugeUpload(progress);
    const began = performance.now();
    let status: number | string;
    let answer = '';
    let sentAtAnswer = 0;
    try {
      const response = await request(`${service.baseUrl}/api/upload`, {
        method: 'POST',
        headers: { 'content-type': upload.contentType, 'content-length': String(upload.length), token },
        body: upload.body,
        headersTimeout: UPLOAD_TIMEOUT_MS,
        bodyTimeout: UPLOAD_TIMEOUT_MS,
        signal: AbortSignal.timeout(UPLOAD_TIMEOUT_MS),
      });
      sentAtAnswer = progress.sent;
      status = response.statusCode;
      answer = (await response.body.text()).slice(0, 200);
    } catch (error) {
      sentAtAnswer = progress.sent;
      status = `error: ${(error as Error).message}`;
    }
    const seconds = (performance.now() - began) / 1000;
    phase.current = 'after';
    await sleep(AFTER_MS);
    sampler.stop();

    const { samples } = sampler;
    const of = (p: Phase) => samples.filter((sample) => sample.phase === p).map((sample) => sample.rssBytes);
    const before = of('before').at(-1) ?? NaN;
    const peak = Math.max(...of('during'));
    const after = of('after').at(-1) ?? NaN;
    const growth = peak - before;
    const processes = Math.max(...samples.map((sample) => sample.processes));
    const fullySent = sentAtAnswer >= upload.length;

    const problems: string[] = [];
    const missed: string[] = [];
    if (!(growth < TARGET_GROWTH)) missed.push(`memory: RSS grew by ${mib(growth)} while streaming (target < ${mib(TARGET_GROWTH)})`);
    if (!fullySent)
      problems.push(`memory: the service answered after ${mib(sentAtAnswer)} of ${mib(upload.length)}, so the file did not fully stream`);
    if (typeof status !== 'number') problems.push(`memory: upload ${status}\n${logTail(service.started.logPath)}`);

    const table = renderTable(
      `MEMORY — one ${mib(FILE_BYTES)} upload (PNG header + junk) streamed to POST /api/upload, WORKERS=1, MAX_FILE_SIZE=2GB`,
      ['measure', 'value'],
      [
        [`RSS before (process tree, ${processes} process${processes > 1 ? 'es' : ''})`, mib(before)],
        ['RSS peak while streaming', mib(peak)],
        ['peak - before', `${mib(growth)} ${growth < TARGET_GROWTH ? 'ok' : 'BELOW TARGET'} (< ${mib(TARGET_GROWTH)})`],
        [`RSS ${AFTER_MS / 1000} s after the answer`, mib(after)],
        ['time to answer', `${fixed(seconds, 1)} s`],
        ['throughput', mibPerSec(sentAtAnswer / seconds)],
        ['body sent when the answer came', `${mib(sentAtAnswer)} of ${mib(upload.length)}${fullySent ? '' : ' (answered early)'}`],
        ['answer (status)', String(status)],
      ],
      [
        `RSS = sum of VmRSS over the server process and its children, sampled every ${SAMPLE_MS} ms (${samples.length} samples).`,
        `the answer: ${answer.replace(/\s+/g, ' ').slice(0, 160) || '(none)'}`,
        'a refusal at the end (415: not a decodable image) is expected; the figure that matters is the RSS growth.',
      ],
    );
    return {
      table,
      problems,
      missed,
      data: { fileBytes: FILE_BYTES, status, answer, seconds, sentAtAnswer, before, peak, after, growth, samples },
    };
  } finally {
    await stopService(service);
  }
}
