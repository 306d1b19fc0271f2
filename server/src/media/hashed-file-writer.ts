import { createHash } from 'node:crypto';
import { type FileHandle, open } from 'node:fs/promises';

/** Bytes gathered before one write. */
const BATCH_BYTES = 256 * 1024;

/**
 * Writes a file from pieces as they come (an upload's chunks, a stripper's output), hashing
 * them on the way. Pieces are written a few at a time: each write is a hop to a libuv thread
 * and back, and one per 64 KiB socket read, 80 for a 5 MiB upload, cost the event loop more
 * than hashing. The batch bounds what a slow upload holds in memory. Pieces must not be
 * changed after they are handed over.
 */
export class HashedFileWriter {
  private readonly hash = createHash('sha256');
  private batch: Buffer[] = [];
  private batched = 0;
  private size = 0;

  private constructor(private readonly file: FileHandle) {}

  static async create(path: string): Promise<HashedFileWriter> {
    return new HashedFileWriter(await open(path, 'w'));
  }

  /** Takes a piece; the returned promise (only when a batch is written) must be awaited before the next. */
  add(piece: Buffer): Promise<void> | undefined {
    if (piece.length === 0) return undefined;
    this.hash.update(piece);
    this.size += piece.length;
    this.batch.push(piece);
    this.batched += piece.length;
    return this.batched >= BATCH_BYTES ? this.flush() : undefined;
  }

  /** Writes what is left and closes the file; returns its size and sha256 (hex). */
  async finish(): Promise<{ size: number; sha256: string }> {
    await this.flush();
    await this.file.close();
    return { size: this.size, sha256: this.hash.digest('hex') };
  }

  /** Closes the file after a failure; the caller removes it. */
  async abandon(): Promise<void> {
    await this.file.close().catch(() => {});
  }

  private async flush(): Promise<void> {
    const { batch, batched } = this;
    this.batch = [];
    this.batched = 0;
    if (batched > 0) await writeAll(this.file, batch, batched);
  }
}

/**
 * Writes all of `buffers` (`length` bytes). libuv retries a short write, but when a retry
 * fails after some bytes went out (the disk filled up, a file-size limit) it reports the
 * short count as success: writing the rest again brings the error out (ENOSPC: 507).
 */
async function writeAll(file: FileHandle, buffers: Buffer[], length: number): Promise<void> {
  let written = (await file.writev(buffers)).bytesWritten;
  if (written === length) return;
  const rest = Buffer.concat(buffers, length);
  while (written < length) {
    const { bytesWritten } = await file.write(rest, written);
    if (bytesWritten === 0) throw new Error('the file takes no more bytes');
    written += bytesWritten;
  }
}
