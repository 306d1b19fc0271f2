import { Redis } from 'ioredis';

/** What the link reports through: the app's pino logger. */
export interface RedisLog {
  info(details: object, message: string): void;
  warn(details: object, message: string): void;
}

/** What `/readyz` says of Redis. */
export type RedisState = 'ready' | 'unavailable';

/** Reconnection waits grow by this much per attempt, up to RECONNECT_MAX_MS. */
const RECONNECT_STEP_MS = 100;
const RECONNECT_MAX_MS = 2_000;
/** A command Redis does not answer in this time fails, and the caller falls back: a request never hangs on Redis. */
const COMMAND_TIMEOUT_MS = 1_000;

/**
 * The connections to REDIS_URL shared by the rate-limit store and the deletion bus: one for
 * commands, one in subscribe mode (Redis allows nothing else on a subscribed connection).
 * Redis is a help, never a dependency: while it is away, commands fail at once (no offline
 * queue) so callers fall back to this node's own state, the outage is logged once, and both
 * connections keep reconnecting by themselves.
 */
export class RedisLink {
  readonly commands: Redis;
  readonly subscriber: Redis;
  private log: RedisLog | undefined;
  /** The outage not yet logged (it began before a logger was given). */
  private unreported: Error | undefined;
  private down = false;
  private closing = false;
  /** Whether the subscriber's subscriptions are confirmed by Redis on its current connection. */
  private subscribed = false;
  private readonly channels = new Map<string, (message: string) => void>();
  private readonly reconnected: (() => void)[] = [];

  constructor(
    url: string,
    /** Starts every key and channel, so several deployments can share one Redis. */
    readonly prefix: string,
  ) {
    const retryStrategy = (attempt: number) => Math.min(attempt * RECONNECT_STEP_MS, RECONNECT_MAX_MS);
    this.commands = new Redis(url, {
      retryStrategy,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: COMMAND_TIMEOUT_MS,
      connectionName: 'discord-images',
    });
    // Subscribed here on each connection rather than by ioredis's autoResubscribe, which
    // reports the connection ready before Redis has confirmed the subscriptions.
    this.subscriber = new Redis(url, {
      retryStrategy,
      autoResubscribe: false,
      maxRetriesPerRequest: null,
      connectionName: 'discord-images-bus',
    });
    for (const client of [this.commands, this.subscriber]) {
      client.on('error', (error: Error) => this.failed(error));
      client.on('close', () => this.failed(new Error('connection closed')));
    }
    this.commands.on('ready', () => this.recovered());
    this.subscriber.on('close', () => (this.subscribed = false));
    this.subscriber.on('ready', () => this.resubscribe());
    this.subscriber.on('message', (channel: string, message: string) => this.channels.get(channel)?.(message));
  }

  /** Whether a command can be sent now; when not, callers use their local fallback straight away. */
  get available(): boolean {
    return this.commands.status === 'ready';
  }

  /** Hands each message of the channel (a name under the prefix) to `listener`, from now on and across reconnections. */
  subscribe(channel: string, listener: (message: string) => void): void {
    this.channels.set(this.key(channel), listener);
    if (this.subscriber.status === 'ready') this.resubscribe();
  }

  /** Publishes on a channel (a name under the prefix); a failure is logged as an outage, never thrown. */
  publish(channel: string, message: string): void {
    if (!this.available) return;
    this.commands.publish(this.key(channel), message).catch((error: unknown) => this.failed(error as Error));
  }

  /** Starts logging; an outage that began before is logged now. */
  useLog(log: RedisLog): void {
    this.log = log;
    if (this.unreported) this.report(this.unreported);
  }

  /** Called back each time both connections are back after an outage (not on the first connection). */
  onReconnect(listener: () => void): void {
    this.reconnected.push(listener);
  }

  /** A key or channel name under this deployment's prefix. */
  key(name: string): string {
    return `${this.prefix}${name}`;
  }

  /** Marks an outage (a failed command, a lost connection); logged once until Redis is back. */
  failed(error: Error): void {
    if (this.down || this.closing) return;
    this.down = true;
    if (this.log) this.report(error);
    else this.unreported = error;
  }

  /** Ready when a command is answered and the subscriptions hold. */
  async state(): Promise<RedisState> {
    if (!this.available || (this.channels.size > 0 && !this.subscribed)) return 'unavailable';
    try {
      await this.commands.ping();
      return 'ready';
    } catch (error) {
      this.failed(error as Error);
      return 'unavailable';
    }
  }

  async close(): Promise<void> {
    // Nothing waits on these connections once requests are drained: publishes are fire and forget.
    this.closing = true;
    this.commands.disconnect();
    this.subscriber.disconnect();
  }

  private report(error: Error): void {
    this.unreported = undefined;
    this.log?.warn(
      { err: error },
      'Redis cannot be reached: rate limits count on this node alone, and other nodes learn of deletions within 10 s, until it is back (reconnecting)',
    );
  }

  private resubscribe(): void {
    if (this.channels.size === 0) return;
    this.subscriber.subscribe(...this.channels.keys()).then(
      () => {
        this.subscribed = true;
        this.recovered();
      },
      (error: unknown) => this.failed(error as Error),
    );
  }

  private recovered(): void {
    if (!this.down || !this.available || (this.channels.size > 0 && !this.subscribed)) return;
    this.down = false;
    if (this.unreported) this.unreported = undefined;
    else this.log?.info({}, 'Redis reachable again: rate limits and deletions are shared across nodes');
    for (const listener of this.reconnected) listener();
  }
}
