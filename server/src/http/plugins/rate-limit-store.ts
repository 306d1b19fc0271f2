import type { FastifyRateLimitStore } from '@fastify/rate-limit';

/** Counters kept per process; the oldest window goes first beyond this many. */
const MAX_KEYS = 100_000;

interface Window {
  current: number;
  resetAt: number;
}

/**
 * Fixed-window counters in memory, through @fastify/rate-limit's store interface (a Redis
 * store takes its place for several nodes). Not the plugin's LocalStore: that one hands every
 * caller the same mutable counter, which later increments change before the caller reads it,
 * so a burst of concurrent requests all saw the burst's final count and were all refused.
 * Here each answer is a snapshot. One map serves every policy: keys start with the policy.
 */
export class MemoryRateLimitStore implements FastifyRateLimitStore {
  private readonly windows = new Map<string, Window>();

  incr(key: string, callback: (error: Error | null, result?: { current: number; ttl: number }) => void, timeWindow: number): void {
    const now = Date.now();
    let window = this.windows.get(key);
    if (!window || window.resetAt <= now) {
      window = { current: 0, resetAt: now + timeWindow };
      // Re-inserted, so the map's order stays the order in which windows began.
      this.windows.delete(key);
      this.windows.set(key, window);
      if (this.windows.size > MAX_KEYS) this.windows.delete(this.windows.keys().next().value!);
    }
    window.current += 1;
    callback(null, { current: window.current, ttl: window.resetAt - now });
  }

  /** The count so far without adding to it (`{ increment: false }`). */
  read(key: string, callback: (error: Error | null, result?: { current: number; ttl: number }) => void): void {
    const now = Date.now();
    const window = this.windows.get(key);
    callback(null, window && window.resetAt > now ? { current: window.current, ttl: window.resetAt - now } : { current: 0, ttl: 0 });
  }

  child(): FastifyRateLimitStore {
    return this;
  }
}
