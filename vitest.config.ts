import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['server/test/**/*.test.ts', 'e2e/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Two cores: sharp and SQLite are CPU-bound, more forks only add contention.
    pool: 'forks',
    maxWorkers: 2,
  },
});
