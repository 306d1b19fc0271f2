/**
 * Work to undo later, latest first: atFileEnd (cleanup.ts) in a test file, a bench's own list
 * elsewhere. Helpers that the benches share take one instead of importing cleanup.ts, whose
 * afterAll() fails outside Vitest.
 */
export type Defer = (undo: () => unknown) => void;
