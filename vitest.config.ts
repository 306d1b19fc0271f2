import { BaseSequencer, type TestSpecification } from 'vitest/node';
import { defineConfig } from 'vitest/config';

/**
 * Files that take minutes: they start first, so that the other worker runs the rest of the
 * suite alongside them, instead of one of them starting last and running alone (with the crash
 * test last, a run took 3 minutes longer).
 */
const LONG_FILES = [/\/e2e\/crash\.e2e\.test\.ts$/];

/**
 * Files in a random order from the run's seed, as Vitest's own shuffle does, but the long ones
 * first. The order still changes with each run, so a file that leans on another's leftovers
 * fails here rather than on a day the order changes.
 */
class ShuffledLongFirst extends BaseSequencer {
  override sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const random = seeded(this.ctx.config.sequence.seed);
    const shuffled = [...files];
    for (let i = shuffled.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
    }
    const isLong = (file: TestSpecification) => LONG_FILES.some((pattern) => pattern.test(file.moduleId));
    return Promise.resolve([...shuffled.filter(isLong), ...shuffled.filter((file) => !isLong(file))]);
  }
}

/** mulberry32: a small, well-spread generator, enough to order files. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = Math.imul(state ^ (state >>> 15), state | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

export default defineConfig({
  test: {
    include: ['server/test/**/*.test.ts', 'e2e/**/*.test.ts'],
    // The server the e2e tests start, bundled once for the run.
    globalSetup: ['e2e/global-setup.ts'],
    // Only a hung test meets these: the e2e tests start real servers, which took over 30 s
    // (through tsx) under a load of 30 on this shared two-core machine.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Two cores: sharp and SQLite are CPU-bound, more forks only add contention.
    pool: 'forks',
    maxWorkers: 2,
    // Tests inside a file run in a random order too. A failing order comes back with
    // `--sequence.seed=<the seed printed at the start>`.
    sequence: { sequencer: ShuffledLongFirst, shuffle: { files: false, tests: true } },
  },
});
