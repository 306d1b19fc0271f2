/**
 * Start-up: time from process start to the first 200 on /healthz, for a bare node:http server
 * (the baseline: what starting Node costs on this machine), the service as `npm start` runs it
 * once its build is up to date, and `npm start` itself with nothing changed since the build
 * (npm, the compiler's up-to-date check, then the service). All use one DATA_DIR set up by a
 * first start that is not counted, so every measured start is a second start.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import { REPO_ROOT, freePort, logTail, makeTempDir, start, stop, treeCpuMs } from './lib/processes.js';
import type { SectionContext, SectionResult } from './lib/section.js';
import { SERVICE_MAIN, serviceEnv } from './lib/service.js';
import { fixed, ms, renderTable } from './lib/table.js';

const ROUNDS = 7;
const POLL_MS = 5;
const DEADLINE_MS = 30_000;
const TARGET_MS = 1_000;

interface Subject {
  name: string;
  command: string;
  args: string[];
  /** Held to the target; the baseline is not. */
  isService: boolean;
}

const BARE = "require('node:http').createServer((q, s) => s.end('ok')).listen(+process.env.PORT, '127.0.0.1')";

interface Sample {
  wallMs: number;
  /** CPU time of the whole process tree by then. */
  cpuMs: number;
}

/** Starts the command and polls /healthz every few ms until it answers 200 (the baseline answers 200 to any path). */
async function timeToHealthy(subject: Subject, env: NodeJS.ProcessEnv, cwd: string, logPath: string): Promise<Sample> {
  const url = `http://127.0.0.1:${env.PORT}/healthz`;
  const began = performance.now();
  const started = start(subject.command, subject.args, { cwd, env, logPath });
  let exited: number | string | undefined;
  void started.exited.then((code) => (exited = code));
  try {
    while (performance.now() - began < DEADLINE_MS) {
      if (exited !== undefined) throw new Error(`${subject.name} exited (${exited}) before answering:\n${logTail(logPath)}`);
      try {
        const response = await request(url, { headersTimeout: 1_000, bodyTimeout: 1_000 });
        await response.body.dump();
        if (response.statusCode === 200) {
          const wallMs = performance.now() - began;
          return { wallMs, cpuMs: await treeCpuMs(started.pid) };
        }
      } catch {
        // not listening yet
      }
      await sleep(POLL_MS);
    }
    throw new Error(`${subject.name} did not answer 200 within ${DEADLINE_MS} ms:\n${logTail(logPath)}`);
  } finally {
    await stop(started);
  }
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
};

export async function benchStartup(context: SectionContext): Promise<SectionResult> {
  const work = makeTempDir('start');
  const dataDir = join(work, 'data');
  mkdirSync(dataDir);
  const subjects: Subject[] = [
    { name: 'node -e (bare node:http)', command: process.execPath, args: ['-e', BARE], isService: false },
    { name: 'node server/dist/main.js', command: process.execPath, args: [SERVICE_MAIN], isService: true },
    { name: 'npm start (nothing changed)', command: 'npm', args: ['start', '--silent'], isService: true },
  ];
  const problems: string[] = [];
  if (existsSync(join(REPO_ROOT, '.env'))) problems.push(`start: ${join(REPO_ROOT, '.env')} exists, and the npm start line reads it`);
  // npm start must run in the repository; the others run in the bench's own directory.
  const cwdOf = (subject: Subject) => (subject.command === 'npm' ? REPO_ROOT : work);
  const envFor = async (): Promise<NodeJS.ProcessEnv> => serviceEnv({ port: await freePort(), dataDir, workers: 1 });
  const logPath = join(work, 'start.log');

  const samples = new Map<string, Sample[]>(subjects.map((subject) => [subject.name, []]));
  const skipped = context.serviceUnavailable !== undefined;
  try {
    if (!skipped) {
      context.log('start: first start of the service (migrations), not counted');
      await timeToHealthy(subjects[1]!, await envFor(), work, logPath);
    }
    for (let round = 1; round <= ROUNDS; round++) {
      context.log(`start: round ${round} of ${ROUNDS}`);
      // Rotated each round, so that no subject always follows the same one.
      for (let i = 0; i < subjects.length; i++) {
        const subject = subjects[(i + round) % subjects.length]!;
        if (subject.isService && skipped) continue;
        samples.get(subject.name)!.push(await timeToHealthy(subject, await envFor(), cwdOf(subject), logPath));
      }
    }
  } catch (error) {
    problems.push(`start: ${(error as Error).message}`);
  }

  const baseline = samples.get(subjects[0]!.name)!;
  const medianOf = (of: Sample[], key: keyof Sample) => median(of.map((sample) => sample[key]));
  const vsBare = (of: Sample[], key: keyof Sample) =>
    baseline.length === ROUNDS ? `${fixed(medianOf(of, key) / medianOf(baseline, key), 2)}x` : 'n/a';
  const missed: string[] = [];
  const rows = subjects.map((subject) => {
    const times = samples.get(subject.name)!;
    if (times.length < ROUNDS) return [subject.name, skipped && subject.isService ? 'not built' : 'failed', '', '', '', '', '', ''];
    const wall = times.map((sample) => sample.wallMs);
    let target = '';
    if (subject.isService) {
      target = median(wall) < TARGET_MS ? 'ok' : 'BELOW';
      if (target === 'BELOW')
        missed.push(`start / ${subject.name}: median ${ms(median(wall))} to the first 200 (target < ${ms(TARGET_MS)})`);
    }
    const cpu = medianOf(times, 'cpuMs');
    return [
      subject.name,
      ms(median(wall)),
      ms(Math.min(...wall)),
      ms(Math.max(...wall)),
      vsBare(times, 'wallMs'),
      ms(cpu),
      vsBare(times, 'cpuMs'),
      target,
    ];
  });
  const table = renderTable(
    `START-UP — process start to the first 200 on /healthz, ${ROUNDS} rounds each (a second start: DATA_DIR already set up)`,
    ['command', 'median', 'fastest', 'slowest', 'vs bare', 'CPU (median)', 'CPU vs bare', `< ${ms(TARGET_MS)}`],
    rows,
    [
      'node -e is a bare node:http server: the cost of starting Node itself here, the baseline.',
      'npm start = npm, then server/build.js finding the bundle up to date, then node server/dist/main.js.',
      `Polled every ${POLL_MS} ms; the service runs with npm start's settings (no LOG_LEVEL), WORKERS=1.`,
      'CPU = user + system time of the process tree up to the first 200: less swayed by other work on the machine than wall time.',
    ],
  );
  return { table, problems, missed, data: { rounds: ROUNDS, targetMs: TARGET_MS, samples: Object.fromEntries(samples) } };
}
