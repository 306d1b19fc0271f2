const MiB = 1024 ** 2;

/** A boxed text table: first column left-aligned (labels), the others right-aligned (figures). */
export function renderTable(title: string, headers: string[], rows: string[][], notes: string[] = []): string {
  const widths = headers.map((header, column) => Math.max(header.length, ...rows.map((row) => (row[column] ?? '').length)));
  const line = (cells: string[]) =>
    `| ${cells.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join(' | ')} |`;
  const rule = `+${widths.map((width) => '-'.repeat(width + 2)).join('+')}+`;
  return [title, rule, line(headers), rule, ...rows.map((row) => line(row)), rule, ...notes.map((note) => `  ${note}`)].join('\n');
}

export const fixed = (value: number, digits = 0): string =>
  value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

export const ms = (value: number): string => `${fixed(value, value < 10 ? 2 : 1)} ms`;

export const mib = (bytes: number): string => `${fixed(bytes / MiB, 1)} MiB`;

export const mibPerSec = (bytesPerSec: number): string => `${fixed(bytesPerSec / MiB, 1)} MiB/s`;

/** "0.62x ok (>= 0.50x)" or "0.42x BELOW (>= 0.50x)". */
export function ratio(value: number, target: number): string {
  return `${fixed(value, 2)}x ${value >= target ? 'ok' : 'BELOW'} (>= ${fixed(target, 2)}x)`;
}
