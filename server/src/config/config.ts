import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';

/** Who may create an account after the first (the admin): anyone, whoever has an admin's invite code, or nobody. */
export type Registration = 'open' | 'invite' | 'closed';
/** Where file bytes live: under DATA_DIR, or in an S3-compatible bucket (docs/configuration.md#storage). */
export type StorageKind = 'local' | 's3';

/** STORAGE=s3: the bucket and how to reach it. */
export interface S3Config {
  /** Unset = AWS itself; else the store's URL, such as http://minio:9000. */
  endpoint: string | undefined;
  /** @default 'us-east-1' */
  region: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** `<endpoint>/<bucket>/<key>` rather than `<bucket>.<endpoint>/<key>` (MinIO, most self-hosted stores). @default false */
  forcePathStyle: boolean;
  /** Starts every object's key, so that one bucket can hold other things: '' or ending in '/'. @default '' */
  prefix: string;
  /** Raw files are answered by a redirect to `<publicUrl>/<prefix><key>` (a CDN or a public bucket), without a trailing slash. */
  publicUrl: string | undefined;
}

export interface Config {
  /** @default 3000 */
  port: number;
  /** @default '0.0.0.0' */
  host: string;
  /** Base of every link handed out, without a trailing slash. @default `http://localhost:${port}` */
  publicUrl: string;
  /** SQLite file and local files. @default './data' (absolute after loading) */
  dataDir: string;
  /** Unset = SQLite in dataDir; `postgres://...` = PostgreSQL. */
  databaseUrl: string | undefined;
  /** PostgreSQL: run statements as named, prepared ones (off behind a pooler that cannot keep them). @default true */
  databasePreparedStatements: boolean;
  /** @default 'local' */
  storage: StorageKind;
  /** Set when storage is 's3'. */
  s3: S3Config | undefined;
  /** Unset = one node: rate limits and deletions stay on this machine. `redis://...` = shared by every node (docs/configuration.md#redis). */
  redisUrl: string | undefined;
  /** Starts every Redis key and channel, so several deployments can share one Redis. @default 'discord-images:' */
  redisPrefix: string;
  /** Bytes per file. @default 100 MiB */
  maxFileSize: number;
  /** Parts per upload request. @default 20 */
  maxFiles: number;
  /** Width x height (per frame) above which an image is refused as a decompression bomb. @default 100 megapixels */
  maxPixels: number;
  /** Bytes each new account may store; null = unlimited. @default null */
  defaultQuota: number | null;
  /** @default 'open' (the first user can always register and becomes admin) */
  registration: Registration;
  /** Bytes of hot raw files kept in memory per process. 0 disables. @default 256 MiB */
  cacheSize: number;
  /** Processes serving HTTP (node:cluster). @default 1 */
  workers: number;
  /** Session cookie lifetime in seconds. @default 30 days */
  sessionTtl: number;
  /** Trust X-Forwarded-* from a reverse proxy. @default false */
  trustProxy: boolean;
  /** Pino level. @default 'info' */
  logLevel: string;
  /** JSON lines, or pino-pretty's coloured lines for a person; `auto` = pretty when stdout is a terminal. @default 'auto' */
  logFormat: LogFormat;
  /** `GET /metrics` (Prometheus); null = METRICS=off. @default null unless METRICS_TOKEN or METRICS_PORT is set */
  metrics: MetricsConfig | null;
  /** Milliseconds SIGTERM waits for in-flight requests before exiting anyway. @default 30000 */
  shutdownTimeout: number;
  /** Requests allowed per window, by policy (docs/configuration.md#rate-limits); null = RATE_LIMIT=off. */
  rateLimits: RateLimits | null;
  /** Milliseconds for a request's headers to arrive. @default 20000 */
  headersTimeout: number;
  /** Milliseconds for a request's body to arrive, plus a second per `bodyMinRate` bytes received. @default 30000 */
  requestTimeout: number;
  /** Bytes per second of body that earn one more second past `requestTimeout`; 0 = none. @default 16 KiB */
  bodyMinRate: number;
  /** Milliseconds a connection may be silent while a request is received or answered. @default 30000 */
  idleTimeout: number;
  /** Milliseconds an idle keep-alive connection stays open. @default 72000 */
  keepAliveTimeout: number;
  /** Connections open at once, in all. @default 4096 */
  maxConnections: number;
  /** Connections open at once from one address; 0 = no limit. Not applied with `trustProxy`. @default 128 */
  maxConnectionsPerIp: number;
}

export type LogFormat = 'auto' | 'json' | 'pretty';

/** Where `GET /metrics` answers: at least one of the two is set (docs/metrics.md). */
export interface MetricsConfig {
  /** On the main port, to `Authorization: Bearer <token>` only. */
  token: string | undefined;
  /** A listener of its own, without authentication, on `host`. */
  port: number | undefined;
  /** @default HOST */
  host: string;
}

/** A bearer token shorter than this is refused: it could be guessed. */
export const METRICS_TOKEN_MIN_LENGTH = 32;

/** At most `max` requests (or failures, for the guessing policies) per `windowSeconds`. */
export interface RateLimit {
  max: number;
  windowSeconds: number;
}

/** The rate-limit policies: see docs/configuration.md#rate-limits for what each counts. */
export const RATE_LIMIT_DEFAULTS = {
  /** Every request from one address, except raw files and thumbnails. @default 600 a minute */
  ip: { max: 600, windowSeconds: 60 },
  /** Requests of one account (all its keys and sessions). @default 300 a minute */
  account: { max: 300, windowSeconds: 60 },
  /** Upload requests of one account. @default 60 a minute */
  upload: { max: 60, windowSeconds: 60 },
  /** Sign-in attempts from one address. @default 10 a minute */
  login: { max: 10, windowSeconds: 60 },
  /** Registrations from one address. @default 10 an hour */
  register: { max: 10, windowSeconds: 3600 },
  /** Requests refused for a wrong API key or session, from one address. @default 20 in 10 minutes */
  badKey: { max: 20, windowSeconds: 600 },
  /** Deletion links with a wrong secret or id, from one address. @default 20 in 10 minutes */
  badLink: { max: 20, windowSeconds: 600 },
} as const satisfies Record<string, RateLimit>;

export type RateLimits = Record<keyof typeof RATE_LIMIT_DEFAULTS, RateLimit>;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

const SIZE_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  k: 1024,
  m: 1024 ** 2,
  g: 1024 ** 3,
  t: 1024 ** 4,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
  tib: 1024 ** 4,
};

/** "100MB", "512 KiB", "1048576" -> bytes. */
export function parseSize(value: string): number | undefined {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(value);
  const unit = match ? SIZE_UNITS[match[2]!.toLowerCase()] : undefined;
  if (!match || unit === undefined) return undefined;
  const bytes = Math.floor(Number(match[1]) * unit);
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}

export type Env = Record<string, string | undefined>;

/**
 * Reads and validates every variable at once, so a bad deployment is told all that is wrong
 * in one go. Throws ConfigError whose message has one line per bad variable.
 */
export function loadConfig(env: Env = process.env): Readonly<Config> {
  const problems: string[] = [];
  const get = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value === '' ? undefined : value;
  };
  const integer = (name: string, fallback: number, min: number, max: number): number => {
    const raw = get(name);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min || value > max) {
      problems.push(`${name}=${raw} is not valid: expected a whole number from ${min} to ${max}`);
      return fallback;
    }
    return value;
  };
  const size = (name: string, fallback: number, min: number): number => {
    const raw = get(name);
    if (raw === undefined) return fallback;
    const value = parseSize(raw);
    if (value === undefined || value < min) {
      problems.push(
        `${name}=${raw} is not valid: expected bytes or a size with a unit, such as 104857600, 100MiB or 512KB (KB/MB/GB count in 1000s; K/M/G and KiB/MiB/GiB in 1024s) (at least ${min} ${min === 1 ? 'byte' : 'bytes'})`,
      );
      return fallback;
    }
    return value;
  };
  const oneOf = <T extends string>(name: string, choices: readonly T[], fallback: T): T => {
    const raw = get(name);
    if (raw === undefined) return fallback;
    if (!(choices as readonly string[]).includes(raw)) {
      problems.push(`${name}=${raw} is not valid: expected one of ${choices.join(', ')}`);
      return fallback;
    }
    return raw as T;
  };
  const bool = (name: string, fallback: boolean): boolean => {
    const raw = get(name)?.toLowerCase();
    if (raw === undefined) return fallback;
    if (['1', 'true', 'yes', 'on'].includes(raw)) return true;
    if (['0', 'false', 'no', 'off'].includes(raw)) return false;
    problems.push(`${name}=${raw} is not valid: expected true or false`);
    return fallback;
  };
  const url = (name: string, protocols: string[]): string | undefined => {
    const raw = get(name);
    if (raw === undefined) return undefined;
    try {
      const parsed = new URL(raw);
      if (!protocols.includes(parsed.protocol)) throw new Error('protocol');
      return raw;
    } catch {
      problems.push(`${name}=${redact(raw)} is not valid: expected a ${protocols.map((p) => `${p}//`).join(' or ')} URL`);
      return undefined;
    }
  };

  /** RATE_LIMIT=off, else each policy from RATE_LIMIT_<POLICY>=<max>/<window>, e.g. 10/1m. */
  const rateLimits = (): RateLimits | null => {
    if (!bool('RATE_LIMIT', true)) return null;
    const limits = { ...RATE_LIMIT_DEFAULTS } as RateLimits;
    for (const policy of Object.keys(RATE_LIMIT_DEFAULTS) as (keyof RateLimits)[]) {
      const name = `RATE_LIMIT_${policy.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;
      const raw = get(name);
      if (raw === undefined) continue;
      const parsed = parseRateLimit(raw);
      if (parsed) limits[policy] = parsed;
      else
        problems.push(
          `${name}=${raw} is not valid: expected <requests>/<window>, such as 10/1m, 600/60s or 5/1h (1 to 1000000 requests, a window of 1 s to 24 h)`,
        );
    }
    return limits;
  };

  const port = integer('PORT', 3000, 0, 65535);
  const host = get('HOST') ?? '0.0.0.0';

  /** METRICS=on|off; on needs a token, a port, or both; either one alone turns it on. */
  const metrics = (): MetricsConfig | null => {
    const token = get('METRICS_TOKEN');
    const metricsPort = get('METRICS_PORT') === undefined ? undefined : integer('METRICS_PORT', 0, 1, 65535);
    const configured = token !== undefined || metricsPort !== undefined;
    if (!bool('METRICS', configured)) return null;
    if (!configured) {
      problems.push(
        'METRICS=on needs METRICS_TOKEN (GET /metrics on the main port, to that bearer token only) or METRICS_PORT (a separate listener, without authentication), or both: metrics are never open to anyone on the main port',
      );
    }
    if (token !== undefined && (token.length < METRICS_TOKEN_MIN_LENGTH || !/^[\x21-\x7e]+$/.test(token))) {
      problems.push(
        `METRICS_TOKEN is not valid: expected at least ${METRICS_TOKEN_MIN_LENGTH} visible ASCII characters without spaces, such as the output of: openssl rand -hex 32`,
      );
    }
    if (metricsPort !== undefined && metricsPort === port) {
      problems.push(`METRICS_PORT=${metricsPort} is not valid: it must differ from PORT (the metrics listener is a server of its own)`);
    }
    return { token, port: metricsPort, host: get('METRICS_HOST') ?? host };
  };
  const redisPrefix = get('REDIS_PREFIX') ?? 'discord-images:';
  if (!/^[\x21-\x7e]{1,64}$/.test(redisPrefix)) {
    problems.push(
      `REDIS_PREFIX=${redisPrefix} is not valid: expected 1 to 64 visible ASCII characters without spaces, such as images-prod:`,
    );
  }
  const publicUrl = (url('PUBLIC_URL', ['http:', 'https:']) ?? `http://localhost:${port}`).replace(/\/+$/, '');
  const storage = oneOf<StorageKind>('STORAGE', ['local', 's3'], 'local');
  /** STORAGE=s3 names everything it needs, all missing ones in one message. */
  const s3 = (): S3Config | undefined => {
    if (storage !== 's3') return undefined;
    const required = (name: string): string => {
      const value = get(name);
      if (value === undefined) problems.push(`${name} is required with STORAGE=s3 (docs/configuration.md#storage)`);
      return value ?? '';
    };
    const bucket = required('S3_BUCKET');
    const accessKeyId = required('S3_ACCESS_KEY_ID');
    const secretAccessKey = required('S3_SECRET_ACCESS_KEY');
    const prefix = (get('S3_PREFIX') ?? '').replace(/^\/+|\/+$/g, '');
    if (prefix.split('/').some((part) => part === '.' || part === '..') || /[\\\0]|\/\//.test(prefix)) {
      problems.push(`S3_PREFIX=${prefix} is not valid: expected path segments such as images/ (no empty, . or .. segments)`);
    }
    return {
      endpoint: url('S3_ENDPOINT', ['http:', 'https:']),
      region: get('S3_REGION') ?? 'us-east-1',
      bucket,
      accessKeyId,
      secretAccessKey,
      forcePathStyle: bool('S3_FORCE_PATH_STYLE', false),
      prefix: prefix === '' ? '' : `${prefix}/`,
      publicUrl: url('S3_PUBLIC_URL', ['http:', 'https:'])?.replace(/\/+$/, ''),
    };
  };

  const config: Config = {
    port,
    host,
    publicUrl,
    dataDir: resolve(get('DATA_DIR') ?? './data'),
    databaseUrl: url('DATABASE_URL', ['postgres:', 'postgresql:']),
    databasePreparedStatements: bool('DATABASE_PREPARED_STATEMENTS', true),
    storage,
    s3: s3(),
    redisUrl: url('REDIS_URL', ['redis:', 'rediss:']),
    redisPrefix,
    maxFileSize: size('MAX_FILE_SIZE', 100 * 1024 ** 2, 1),
    maxFiles: integer('MAX_FILES', 20, 1, 1000),
    maxPixels: integer('MAX_PIXELS', 100_000_000, 1, 2 ** 40),
    defaultQuota: get('DEFAULT_QUOTA') === undefined ? null : size('DEFAULT_QUOTA', 0, 0),
    registration: oneOf<Registration>('REGISTRATION', ['open', 'invite', 'closed'], 'open'),
    cacheSize: size('CACHE_SIZE', 256 * 1024 ** 2, 0),
    workers: get('WORKERS') === 'auto' ? availableParallelism() : integer('WORKERS', 1, 1, 64),
    sessionTtl: integer('SESSION_TTL', 30 * 24 * 3600, 60, 10 * 365 * 24 * 3600),
    trustProxy: bool('TRUST_PROXY', false),
    logLevel: oneOf('LOG_LEVEL', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], 'info'),
    logFormat: oneOf<LogFormat>('LOG_FORMAT', ['auto', 'json', 'pretty'], 'auto'),
    metrics: metrics(),
    shutdownTimeout: integer('SHUTDOWN_TIMEOUT', 30_000, 0, 600_000),
    rateLimits: rateLimits(),
    headersTimeout: integer('HEADERS_TIMEOUT', 20_000, 100, 3_600_000),
    requestTimeout: integer('REQUEST_TIMEOUT', 30_000, 100, 3_600_000),
    bodyMinRate: size('BODY_MIN_RATE', 16 * 1024, 0),
    idleTimeout: integer('IDLE_TIMEOUT', 30_000, 100, 3_600_000),
    keepAliveTimeout: integer('KEEP_ALIVE_TIMEOUT', 72_000, 100, 3_600_000),
    maxConnections: integer('MAX_CONNECTIONS', 4096, 1, 1_000_000),
    maxConnectionsPerIp: integer('MAX_CONNECTIONS_PER_IP', 128, 0, 1_000_000),
  };
  if (problems.length > 0) throw new ConfigError(problems.join('\n'));
  return Object.freeze(config);
}

const WINDOW_UNITS: Record<string, number> = { s: 1, m: 60, h: 3600 };

/** "10/1m", "600/60s", "5/1h" (a bare window counts seconds) -> { max, windowSeconds }. */
export function parseRateLimit(value: string): RateLimit | undefined {
  const match = /^\s*(\d+)\s*\/\s*(\d+)\s*([smh]?)\s*$/i.exec(value);
  if (!match) return undefined;
  const max = Number(match[1]);
  const windowSeconds = Number(match[2]) * WINDOW_UNITS[match[3]!.toLowerCase() || 's']!;
  if (max < 1 || max > 1_000_000 || windowSeconds < 1 || windowSeconds > 24 * 3600) return undefined;
  return { max, windowSeconds };
}

/** Never echo a password from a connection string into a log. */
const redact = (raw: string): string => raw.replace(/\/\/([^:/@]*):[^@/]*@/, '//$1:***@');
