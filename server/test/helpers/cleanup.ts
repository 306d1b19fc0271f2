import { afterAll } from 'vitest';

const pending: Array<() => unknown> = [];

// Registered while the test file is collected, because Vitest never runs an afterAll() that
// is called later, from inside a hook or a test: where helpers such as createTestApp() run.
afterAll(async () => {
  for (const undo of pending.splice(0).reverse()) await undo();
});

/** Work to undo once the test file's tests are done; the latest registered runs first. */
export function atFileEnd(undo: () => unknown): void {
  pending.push(undo);
}
