import { createHash } from 'node:crypto';
import { open, rm } from 'node:fs/promises';

type Piece = { kind: 'copy'; start: number; end: number } | { kind: 'insert'; bytes: Uint8Array };

const COPY_CHUNK_BYTES = 1024 * 1024;

/**
 * What the stripped file is made of: byte ranges of the input, kept as they are, and a few
 * small new byte strings (a rewritten header). Parsers build it while reading only the
 * structure, so deciding "nothing to strip" never writes a byte.
 */
export class OutputPlan {
  private readonly pieces: Piece[] = [];

  keep(start: number, end: number): void {
    if (end <= start) return;
    const last = this.pieces.at(-1);
    if (last?.kind === 'copy' && last.end === start) last.end = end;
    else this.pieces.push({ kind: 'copy', start, end });
  }

  insert(bytes: Uint8Array): void {
    this.pieces.push({ kind: 'insert', bytes });
  }

  append(other: OutputPlan): void {
    for (const piece of other.pieces) {
      if (piece.kind === 'copy') this.keep(piece.start, piece.end);
      else this.insert(piece.bytes);
    }
  }

  get size(): number {
    let total = 0;
    for (const piece of this.pieces) {
      total += piece.kind === 'copy' ? piece.end - piece.start : piece.bytes.length;
    }
    return total;
  }

  /** True when the plan is exactly input bytes [start, end), unchanged. */
  isCopyOf(start: number, end: number): boolean {
    const only = this.pieces[0];
    return this.pieces.length === 1 && only?.kind === 'copy' && only.start === start && only.end === end;
  }

  /**
   * Writes the plan to `outputPath`, hashing on the way. Input ranges are streamed through a
   * fixed buffer, so memory stays flat whatever the file size. A failed write leaves no file.
   */
  async write(inputPath: string, outputPath: string): Promise<{ size: number; sha256: string }> {
    const hash = createHash('sha256');
    const input = await open(inputPath, 'r');
    try {
      const output = await open(outputPath, 'w');
      try {
        const buffer = Buffer.allocUnsafe(COPY_CHUNK_BYTES);
        for (const piece of this.pieces) {
          if (piece.kind === 'insert') {
            hash.update(piece.bytes);
            await output.write(piece.bytes);
            continue;
          }
          for (let at = piece.start; at < piece.end;) {
            const length = Math.min(buffer.length, piece.end - at);
            const { bytesRead } = await input.read(buffer, 0, length, at);
            if (bytesRead === 0) throw new Error('file shrank while being copied');
            const chunk = buffer.subarray(0, bytesRead);
            hash.update(chunk);
            await output.write(chunk);
            at += bytesRead;
          }
        }
      } finally {
        await output.close();
      }
    } catch (error) {
      await rm(outputPath, { force: true });
      throw error;
    } finally {
      await input.close();
    }
    return { size: this.size, sha256: hash.digest('hex') };
  }
}
