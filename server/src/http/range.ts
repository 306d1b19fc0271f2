import type { ByteRange } from '../domain/byte-range.js';

/**
 * One `Range: bytes=...` against a file of `size` bytes (RFC 9110 §14). Returns undefined to
 * serve the whole file (no header, another unit, or several ranges, which we answer in full),
 * or 'unsatisfiable' for a range that cannot be served (416).
 */
export function parseRange(header: string | undefined, size: number): ByteRange | 'unsatisfiable' | undefined {
  if (header === undefined) return undefined;
  const match = /^\s*bytes\s*=\s*(.*)$/i.exec(header);
  if (!match || match[1]!.includes(',')) return undefined;
  const spec = /^(\d*)\s*-\s*(\d*)\s*$/.exec(match[1]!);
  if (!spec || (spec[1] === '' && spec[2] === '')) return 'unsatisfiable';
  if (spec[1] === '') {
    // Suffix range: the last N bytes.
    const length = Number(spec[2]);
    if (length === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - length), end: size - 1 };
  }
  const start = Number(spec[1]);
  const end = spec[2] === '' ? size - 1 : Math.min(Number(spec[2]), size - 1);
  if (start >= size || end < start) return 'unsatisfiable';
  return { start, end };
}
