import { formatBytes } from './format.js';

const WIDTH = 24;
/** Redraws at most this often; the last event (everything sent) is always drawn. */
const INTERVAL_MS = 80;

/**
 * One bar per file on a terminal's stderr. The SDK reports the bytes sent for the whole
 * request; the files go in the order given, so the first `size` bytes belong to the first
 * file and so on (the multipart envelope around them is spread over all in proportion).
 */
export class ProgressBars {
  private drawn = false;
  private lastDraw = 0;

  constructor(
    private readonly files: { name: string; size: number }[],
    private readonly out: NodeJS.WriteStream = process.stderr,
  ) {}

  update(loaded: number, total: number): void {
    const now = Date.now();
    if (loaded < total && now - this.lastDraw < INTERVAL_MS) return;
    this.lastDraw = now;
    const sum = this.files.reduce((all, file) => all + file.size, 0);
    let sent = total > 0 ? (loaded / total) * sum : 0;
    const nameWidth = Math.min(32, Math.max(...this.files.map((file) => file.name.length)));
    const lines = this.files.map((file) => {
      const done = loaded >= total ? file.size : Math.max(0, Math.min(file.size, sent));
      sent -= file.size;
      const fraction = file.size > 0 ? done / file.size : 1;
      const filled = Math.round(fraction * WIDTH);
      const name = file.name.length > nameWidth ? `…${file.name.slice(-(nameWidth - 1))}` : file.name.padEnd(nameWidth);
      return `${name} [${'#'.repeat(filled)}${'-'.repeat(WIDTH - filled)}] ${String(Math.floor(fraction * 100)).padStart(3)}% ${formatBytes(done)} / ${formatBytes(file.size)}`;
    });
    // Back to the first bar and over the old lines, clearing each (\x1b[2K).
    const up = this.drawn ? `\x1b[${lines.length}F` : '';
    this.out.write(`${up}${lines.map((line) => `\x1b[2K${line}`).join('\n')}\n`);
    this.drawn = true;
  }
}
