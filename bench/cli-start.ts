/**
 * CLI start-up: wall time of `discord-images --version` (node packages/cli/bin/discord-images.js,
 * what the npm bin link runs) against a bare `node -e 0` measured in the same rounds, and
 * `upload --help`, which loads one command's chunk too. The target: --version within 2x the bare Node start.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT, runToCompletion } from './lib/processes.js';
import type { SectionContext, SectionResult } from './lib/section.js';
import { fixed, ms, renderTable } from './lib/table.js';

const ROUNDS = 21;
const TARGET_RATIO = 2;
const BIN = join(REPO_ROOT, 'packages', 'cli', 'bin', 'discord-images.js');

interface Subject {
  name: string;
  args: string[];
  /** Held to the target; the baseline is not. */
  isCli: boolean;
}

/** Runs node with `args` to its exit; fails on a non-zero exit, so a broken build is not timed as fast. */
function timeRun(args: string[]): Promise<number> {
  const began = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'], cwd: REPO_ROOT });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) => {
      const wall = performance.now() - began;
      if (code === 0) resolve(wall);
      else reject(new Error(`node ${args.join(' ')} exited with ${code}: ${stderr.trim()}`));
    });
  });
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

export async function benchCliStart(context: SectionContext): Promise<SectionResult> {
  context.log('cli-start: building the CLI (packages/cli/build.js; skipped when up to date)');
  const build = await runToCompletion(process.execPath, [join(REPO_ROOT, 'packages', 'cli', 'build.js')], {
    cwd: REPO_ROOT,
    timeoutMs: 120_000,
  });
  if (build.code !== 0) throw new Error(`packages/cli/build.js failed: ${build.stderr.trim().split('\n').slice(-5).join(' ')}`);
  const subjects: Subject[] = [
    { name: 'node -e 0 (bare Node)', args: ['-e', '0'], isCli: false },
    { name: 'discord-images --version', args: [BIN, '--version'], isCli: true },
    { name: 'discord-images upload --help', args: [BIN, 'upload', '--help'], isCli: true },
  ];
  const samples = new Map<string, number[]>(subjects.map((subject) => [subject.name, []]));
  // One untimed run each, so the first round does not pay for a cold disk cache alone.
  for (const subject of subjects) await timeRun(subject.args);
  for (let round = 1; round <= ROUNDS; round++) {
    // Rotated each round, so that no subject always follows the same one.
    for (let i = 0; i < subjects.length; i++) {
      const subject = subjects[(i + round) % subjects.length]!;
      samples.get(subject.name)!.push(await timeRun(subject.args));
    }
  }
  const bare = median(samples.get(subjects[0]!.name)!);
  const missed: string[] = [];
  const rows = subjects.map((subject) => {
    const times = samples.get(subject.name)!;
    const ratio = median(times) / bare;
    let target = '';
    if (subject.name === 'discord-images --version') {
      target = ratio <= TARGET_RATIO ? 'ok' : 'MISSED';
      if (target === 'MISSED') missed.push(`cli-start / ${subject.name}: ${fixed(ratio, 2)}x bare Node (target <= ${TARGET_RATIO}x)`);
    }
    return [subject.name, ms(median(times)), ms(Math.min(...times)), ms(Math.max(...times)), `${fixed(ratio, 2)}x`, target];
  });
  const table = renderTable(
    `CLI START-UP — process start to exit, ${ROUNDS} rounds each`,
    ['command', 'median', 'fastest', 'slowest', 'vs bare', `<= ${TARGET_RATIO}x`],
    rows,
    [
      'node -e 0 is the baseline: the cost of starting Node itself here.',
      'discord-images = node packages/cli/bin/discord-images.js (what npm links), which loads dist/cli.js and, for a command, its chunk.',
    ],
  );
  return { table, problems: [], missed, data: { rounds: ROUNDS, targetRatio: TARGET_RATIO, samples: Object.fromEntries(samples) } };
}
