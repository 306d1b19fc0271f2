import { afterAll } from 'vitest';

const pending: Array<() => unknown> = [];

// Registered while the test file is collected, because Vitest never runs an afterAll() that
// is called later, from inside a hook or a test: where helpers such as createTestApp() run.
afterAll(async () => {
  const failures: unknown[] = [];
  for (const undo of pending.splice(0).reverse()) {
    // One failing step must not leave the rest (databases, directories) behind.
    await Promise.resolve()
      .then(undo)
      .catch((error: unknown) => failures.push(error));
  }
  if (failures.length > 0) throw new AggregateError(failures, 'cleanup after the test file failed');
});

/** Work to undo once the test file's tests are done; the latest registered runs first. */
export function atFileEnd(undo: () => unknown): void {
  pending.push(undo);
}
