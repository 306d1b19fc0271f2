import { describe, expect, it } from 'vitest';
import { QueueFullError, Semaphore } from '../../src/media/semaphore.js';

describe('Semaphore', () => {
  it('runs at most `limit` tasks at once, in arrival order', async () => {
    const semaphore = new Semaphore(2);
    let running = 0;
    let peak = 0;
    const started: number[] = [];
    const releases: Array<() => void> = [];
    const tasks = [0, 1, 2, 3, 4].map((id) =>
      semaphore.run(async () => {
        started.push(id);
        running += 1;
        peak = Math.max(peak, running);
        await new Promise<void>((resolve) => releases.push(resolve));
        running -= 1;
        return id;
      }),
    );
    const settle = () => new Promise((resolve) => setImmediate(resolve));
    await settle();
    expect(started).toEqual([0, 1]);
    while (releases.length > 0) {
      releases.shift()!();
      await settle();
    }
    expect(await Promise.all(tasks)).toEqual([0, 1, 2, 3, 4]);
    expect(started).toEqual([0, 1, 2, 3, 4]);
    expect(peak).toBe(2);
  });

  it('frees the slot when a task fails', async () => {
    const semaphore = new Semaphore(1);
    await expect(semaphore.run(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(semaphore.run(() => Promise.resolve('next'))).resolves.toBe('next');
  });

  it('refuses at once beyond maxWaiting, and hands slots on in order after a refusal', async () => {
    const semaphore = new Semaphore(1, { maxWaiting: 2 });
    let release!: () => void;
    const first = semaphore.run(() => new Promise<string>((resolve) => (release = () => resolve('first'))));
    const waiting = [semaphore.run(() => Promise.resolve('second')), semaphore.run(() => Promise.resolve('third'))];
    await expect(semaphore.run(() => Promise.resolve('fourth'))).rejects.toBeInstanceOf(QueueFullError);
    release();
    expect(await Promise.all([first, ...waiting])).toEqual(['first', 'second', 'third']);
    await expect(semaphore.run(() => Promise.resolve('later'))).resolves.toBe('later');
  });

  it('refuses a task that waited maxWaitMs, and gives its place to the next', async () => {
    const semaphore = new Semaphore(1, { maxWaitMs: 100 });
    let release!: () => void;
    const first = semaphore.run(() => new Promise<void>((resolve) => (release = resolve)));
    const started = Date.now();
    await expect(semaphore.run(() => Promise.resolve())).rejects.toBeInstanceOf(QueueFullError);
    // Generous upper bound for a loaded machine; the lower one shows it did wait its turn.
    expect(Date.now() - started).toBeGreaterThanOrEqual(90);
    expect(Date.now() - started).toBeLessThan(5_000);
    const next = semaphore.run(() => Promise.resolve('next'));
    release();
    await first;
    await expect(next).resolves.toBe('next');
  });
});
