import type { FastifyRateLimitStore } from '@fastify/rate-limit';
import type { Redis } from 'ioredis';
import type { RedisLink } from './redis-link.js';

type Callback = (error: Error | null, result?: { current: number; ttl: number }) => void;

/** A store that can also read a count without adding to it (`{ increment: false }`, which the guessing policies use). */
export type ReadableRateLimitStore = FastifyRateLimitStore & {
  read(key: string, callback: Callback, timeWindow: number, max: number): void;
};

/** Fixed windows, as MemoryRateLimitStore counts them: the first request of a window sets its end. */
const INCREMENT = `
local current = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if current == 1 or ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {current, ttl}
`;

const READ = `
local current = redis.call('GET', KEYS[1])
if not current then return {0, 0} end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then ttl = 0 end
return {tonumber(current), ttl}
`;

type Scripted = Redis & {
  rateLimitIncrement(key: string, windowMs: number): Promise<[number, number]>;
  rateLimitRead(key: string): Promise<[number, number]>;
};

/**
 * Rate-limit counters in Redis, so a limit counts the requests of every node. While Redis
 * cannot be reached (or does not answer in time) each node counts in `fallback`, its own
 * memory: limits then hold per node rather than not at all, and no request fails for want
 * of Redis. Counts made meanwhile stay local; Redis's own windows resume where they were.
 */
export class RedisRateLimitStore implements ReadableRateLimitStore {
  private readonly redis: Scripted;

  constructor(
    private readonly link: RedisLink,
    private readonly fallback: ReadableRateLimitStore,
  ) {
    link.commands.defineCommand('rateLimitIncrement', { numberOfKeys: 1, lua: INCREMENT });
    link.commands.defineCommand('rateLimitRead', { numberOfKeys: 1, lua: READ });
    this.redis = link.commands as Scripted;
  }

  incr(key: string, callback: Callback, timeWindow: number, max: number): void {
    if (!this.link.available) return this.fallback.incr(key, callback, timeWindow, max);
    this.redis.rateLimitIncrement(this.link.key(`rate:${key}`), timeWindow).then(
      ([current, ttl]) => callback(null, { current, ttl }),
      (error: unknown) => {
        this.link.failed(error as Error);
        this.fallback.incr(key, callback, timeWindow, max);
      },
    );
  }

  read(key: string, callback: Callback, timeWindow: number, max: number): void {
    if (!this.link.available) return this.fallback.read(key, callback, timeWindow, max);
    this.redis.rateLimitRead(this.link.key(`rate:${key}`)).then(
      ([current, ttl]) => callback(null, { current, ttl }),
      (error: unknown) => {
        this.link.failed(error as Error);
        this.fallback.read(key, callback, timeWindow, max);
      },
    );
  }

  child(): FastifyRateLimitStore {
    return this;
  }
}
