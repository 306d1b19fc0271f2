import type { ByteRange } from '../domain/byte-range.js';

/** Inclusive and in order; the end may run past the object, which just ends the stream early. */
export function checkedRange(range: ByteRange): ByteRange {
  const { start, end } = range;
  if (!(Number.isSafeInteger(start) && Number.isSafeInteger(end) && 0 <= start && start <= end)) {
    throw new RangeError(`Invalid byte range ${start}-${end}`);
  }
  return range;
}

/** The bytes handed to put() are not those its caller described: nothing was stored. */
export function mismatch(key: string, what: string): Error {
  return new Error(`Refused to store ${key}: the body held ${what}`);
}

/** Keys come from services, so a bad one is a bug: fail loudly rather than escape the root or the prefix. */
export function checkedKey(key: string): string {
  const badPart = (part: string) => part === '' || part === '.' || part === '..';
  if (key.includes('\\') || key.includes('\0') || key.split('/').some(badPart)) {
    throw new Error(`Invalid storage key: ${JSON.stringify(key)}`);
  }
  return key;
}
