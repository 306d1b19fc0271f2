const UNITS = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'] as const;

/**
 * Bytes as a person reads them, in the 1024s the server's own settings use (`DEFAULT_QUOTA=5GiB`):
 * "1 byte", "535 bytes", "1.5 MiB", "12 GiB".
 */
export function formatBytes(bytes: number): string {
  if (bytes === 1) return '1 byte';
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  const digits = unit === 0 || value >= 100 ? 0 : value >= 10 ? 1 : 2;
  return `${new Intl.NumberFormat(undefined, { maximumFractionDigits: digits }).format(value)} ${UNITS[unit]}`;
}

/** Whole numbers with the reader's grouping: 12,345. */
export const formatCount = (count: number): string => new Intl.NumberFormat().format(count);

/** The units a quota is typed in. */
export const QUOTA_UNITS = { MiB: 1024 ** 2, GiB: 1024 ** 3, TiB: 1024 ** 4 } as const;
export type QuotaUnit = keyof typeof QUOTA_UNITS;

/** A quota in bytes as the editor shows it: the largest unit that says it exactly in at most 2 decimals. */
export function quotaParts(bytes: number): { amount: string; unit: QuotaUnit } {
  for (const unit of ['TiB', 'GiB', 'MiB'] as const) {
    const amount = bytes / QUOTA_UNITS[unit];
    const rounded = Math.round(amount * 100) / 100;
    if (amount >= 1 && Math.round(rounded * QUOTA_UNITS[unit]) === bytes) return { amount: String(rounded), unit };
  }
  return { amount: String(Math.round((bytes / QUOTA_UNITS.MiB) * 100) / 100), unit: 'MiB' };
}

/** What the quota editor's amount and unit make in bytes; null when the amount is not a number ≥ 0. */
export function quotaBytes(amount: string, unit: QuotaUnit): number | null {
  const value = Number(amount.trim().replace(',', '.'));
  if (amount.trim() === '' || !Number.isFinite(value) || value < 0) return null;
  return Math.round(value * QUOTA_UNITS[unit]);
}
