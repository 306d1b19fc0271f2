import { randomBytes } from 'node:crypto';
import type { DeletionBus } from '../services/deletion-bus.js';
import type { RedisLink } from './redis-link.js';

/** Under REDIS_PREFIX: every process of every node subscribes to it. */
const CHANNEL = 'deletions';

/**
 * Deletions across nodes: each one is published on a Redis channel that every process of every
 * node subscribes to, beside the `inner` bus that reaches this machine's processes without Redis.
 * A message names the process that sent it, which has told its own listeners already. While
 * Redis is away, deletions still reach this machine's processes; other nodes' in-memory
 * metadata expires within its TTL (FileService), and the container clears it when Redis is back.
 */
export class RedisDeletionBus implements DeletionBus {
  private readonly origin = randomBytes(9).toString('base64url');
  private readonly listeners: ((id: string) => void)[] = [];

  constructor(
    private readonly link: RedisLink,
    private readonly inner: DeletionBus,
  ) {
    link.subscribe(CHANNEL, (message) => {
      const [origin, id] = message.split(' ');
      if (origin === this.origin || !id) return;
      for (const listener of this.listeners) listener(id);
    });
  }

  publish(id: string): void {
    this.inner.publish(id);
    this.link.publish(CHANNEL, `${this.origin} ${id}`);
  }

  subscribe(listener: (id: string) => void): void {
    this.inner.subscribe(listener);
    this.listeners.push(listener);
  }
}
