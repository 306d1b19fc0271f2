import type { FileHandle } from 'node:fs/promises';

/**
 * Reads are this large (or the whole file, when smaller). Walking a 5 MiB PNG's 8 KiB IDAT
 * chunks touches every window: 1 MiB windows make that 5 reads rather
 * than 80 and the planning about half as costly, for 1 MiB held per upload being checked.
 */
const WINDOW_BYTES = 1024 * 1024;
/** The most `ensure` may ask for at once: a header or segment, never a payload. */
const MAX_LOOKAHEAD = 64 * 1024;

/**
 * Forward-only reading of a file's structure through a bounded window, so container parsers
 * can look at headers and jump over payloads (IDAT, scan data) without holding the file.
 * Offsets given to the accessors are relative to `position`; call `ensure` first.
 */
export class ByteReader {
  /** Absolute offset of the next unread byte. */
  position = 0;
  private readonly window: Buffer;
  private windowStart = 0;
  private windowLength = 0;

  constructor(
    private readonly file: FileHandle,
    readonly size: number,
  ) {
    this.window = Buffer.allocUnsafe(Math.max(MAX_LOOKAHEAD, Math.min(WINDOW_BYTES, size)));
  }

  get remaining(): number {
    return this.size - this.position;
  }

  /** Makes `count` bytes from `position` readable; false when the file ends first. */
  async ensure(count: number): Promise<boolean> {
    if (count > MAX_LOOKAHEAD) throw new RangeError(`cannot look ahead ${count} bytes`);
    if (this.position + count > this.size) return false;
    if (this.holds(count)) return true;
    await this.fill(count);
    return true;
  }

  /**
   * Whether `count` bytes from `position` are readable already, without waiting: loops over
   * thousands of small blocks (PNG chunks, GIF sub-blocks) check this first and await
   * `ensure` only when the window must move, which spares them a promise per block.
   */
  holds(count: number): boolean {
    const offset = this.position - this.windowStart;
    return offset >= 0 && offset + count <= this.windowLength;
  }

  skip(count: number): void {
    this.position += count;
  }

  u8(offset = 0): number {
    return this.window[this.index(offset, 1)]!;
  }

  u16be(offset = 0): number {
    return this.window.readUInt16BE(this.index(offset, 2));
  }

  u32be(offset = 0): number {
    return this.window.readUInt32BE(this.index(offset, 4));
  }

  u32le(offset = 0): number {
    return this.window.readUInt32LE(this.index(offset, 4));
  }

  latin1(offset: number, length: number): string {
    const start = this.index(offset, length);
    return this.window.toString('latin1', start, start + length);
  }

  /** A copy, safe to keep after the window moves. */
  bytes(offset: number, length: number): Buffer {
    const start = this.index(offset, length);
    return Buffer.from(this.window.subarray(start, start + length));
  }

  private index(offset: number, length: number): number {
    const start = this.position - this.windowStart + offset;
    if (start < 0 || start + length > this.windowLength) {
      throw new RangeError('read outside the ensured window');
    }
    return start;
  }

  private async fill(count: number): Promise<void> {
    this.windowStart = this.position;
    this.windowLength = 0;
    const wanted = Math.min(this.window.length, this.size - this.position);
    while (this.windowLength < count) {
      const { bytesRead } = await this.file.read(
        this.window,
        this.windowLength,
        wanted - this.windowLength,
        this.windowStart + this.windowLength,
      );
      if (bytesRead === 0) throw new Error('file shrank while being read');
      this.windowLength += bytesRead;
    }
  }
}
