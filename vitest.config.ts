import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['server/test/**/*.test.ts', 'e2e/**/*.test.ts'],
    // Only a hung test meets these: the e2e tests start real servers through tsx, which took
    // over 30 s under a load of 30 on this shared two-core machine.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Two cores: sharp and SQLite are CPU-bound, more forks only add contention.
    pool: 'forks',
    maxWorkers: 2,
    // Files and the tests inside them run in a random order, so a test that leans on another's
    // leftovers fails here rather than on a day the order changes. A failing order comes back
    // with `--sequence.seed=<the seed printed at the start>`.
    sequence: { shuffle: { files: true, tests: true } },
  },
});
