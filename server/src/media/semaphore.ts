/** run() was refused: too many tasks were waiting, or this one waited too long. */
export class QueueFullError extends Error {
  override name = 'QueueFullError';
}

export interface SemaphoreLimits {
  /** Tasks that may wait for a slot; run() rejects at once beyond it. @default Infinity */
  maxWaiting?: number;
  /** Milliseconds a task may wait for a slot before run() rejects it. @default Infinity */
  maxWaitMs?: number;
}

/** At most `limit` tasks run at once; the others wait in arrival order, within `limits`. */
export class Semaphore {
  private active = 0;
  private readonly waiting: Array<() => void> = [];
  private readonly maxWaiting: number;
  private readonly maxWaitMs: number;

  constructor(
    private readonly limit: number,
    { maxWaiting = Infinity, maxWaitMs = Infinity }: SemaphoreLimits = {},
  ) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError('limit must be a positive integer');
    this.maxWaiting = maxWaiting;
    this.maxWaitMs = maxWaitMs;
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    await this.acquire();
    try {
      return await task();
    } finally {
      this.release();
    }
  }

  private acquire(): Promise<void> {
    if (this.active < this.limit) {
      this.active += 1;
      return Promise.resolve();
    }
    if (this.waiting.length >= this.maxWaiting)
      return Promise.reject(new QueueFullError(`${this.waiting.length} tasks are already waiting`));
    // The slot is handed over by release(), so `active` stays counted meanwhile.
    return new Promise((resolve, reject) => {
      const timer = Number.isFinite(this.maxWaitMs)
        ? setTimeout(() => {
            this.waiting.splice(this.waiting.indexOf(granted), 1);
            reject(new QueueFullError(`no slot within ${this.maxWaitMs} ms`));
          }, this.maxWaitMs)
        : undefined;
      const granted = () => {
        clearTimeout(timer);
        resolve();
      };
      this.waiting.push(granted);
    });
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.active -= 1;
  }
}
