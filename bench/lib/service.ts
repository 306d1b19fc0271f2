import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'undici';
import { multipartEnvelope } from './multipart.js';
import {
  REPO_ROOT,
  freePort,
  logTail,
  makeTempDir,
  removeTempDir,
  runToCompletion,
  start,
  stop,
  waitForHttp,
  type Started,
} from './processes.js';

export interface Service {
  baseUrl: string;
  started: Started;
  /** Holds DATA_DIR and service.log. */
  runDir: string;
}

/** `npm run build` once per bench run; returns the compiler output when it fails. */
export async function buildService(): Promise<{ ok: true } | { ok: false; output: string }> {
  const result = await runToCompletion('npm', ['run', 'build'], { cwd: REPO_ROOT, timeoutMs: 300_000 });
  if (result.code === 0) return { ok: true };
  return { ok: false, output: `${result.stdout}${result.stderr}`.trimEnd().split('\n').slice(-30).join('\n') };
}

/** What `npm start` runs once its build is up to date (package.json "start"). */
export const SERVICE_MAIN = join(REPO_ROOT, 'server', 'dist', 'main.js');

/**
 * The service's environment, built from scratch (not inherited) so that a DATABASE_URL,
 * STORAGE or REDIS_URL in the caller's shell cannot change what is measured. Nothing is
 * tuned (no LOG_LEVEL, no NODE_ENV): the bench measures what `npm start` runs, only on
 * loopback, in its own DATA_DIR, and told to stop quickly.
 */
export function serviceEnv(options: { port: number; dataDir: string; workers: number; env?: Record<string, string> }): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    PORT: String(options.port),
    HOST: '127.0.0.1',
    DATA_DIR: options.dataDir,
    PUBLIC_URL: `http://127.0.0.1:${options.port}`,
    WORKERS: String(options.workers),
    // The bench stops the service between runs; it has nothing in flight worth 30 s.
    SHUTDOWN_TIMEOUT: '2000',
    // As `npm start` runs it (package.json; docs/configuration.md, "Memory allocator").
    MALLOC_ARENA_MAX: '2',
    ...options.env,
  };
}

/**
 * Starts `node server/dist/main.js` on a free port with a fresh DATA_DIR and waits for
 * /healthz (or on the DATA_DIR of `runDir`, see there). It runs in its own directory, so that a `.env` in the repository root (which the
 * service reads from its working directory) cannot change what is measured either.
 */
export async function startService(options: { workers: number; env?: Record<string, string>; runDir?: string }): Promise<Service> {
  const port = await freePort();
  // A runDir given back (from a service stopped with stop(), not stopService()) starts on the data it holds.
  const runDir = options.runDir ?? makeTempDir(`service-w${options.workers}`);
  const dataDir = join(runDir, 'data');
  mkdirSync(dataDir, { recursive: true });
  const baseUrl = `http://127.0.0.1:${port}`;
  const started = start(process.execPath, [SERVICE_MAIN], {
    cwd: runDir,
    env: serviceEnv({ port, dataDir, ...options }),
    logPath: join(runDir, 'service.log'),
  });
  try {
    await waitForHttp(`${baseUrl}/healthz`, { started, deadlineMs: 30_000, accept: (status) => status === 200 });
  } catch (error) {
    await stop(started);
    throw new Error(`service did not start: ${(error as Error).message}\n${logTail(started.logPath)}`);
  }
  return { baseUrl, started, runDir };
}

/** Stops the service and deletes its DATA_DIR: what it stored is not needed after the measurement. */
export async function stopService(service: Service): Promise<void> {
  await stop(service.started);
  removeTempDir(service.runDir);
}

async function expectJson(response: Awaited<ReturnType<typeof request>>, status: number, what: string): Promise<unknown> {
  const text = await response.body.text();
  if (response.statusCode !== status) {
    throw new Error(`${what}: expected ${status}, got ${response.statusCode}: ${text.slice(0, 300)}`);
  }
  return JSON.parse(text) as unknown;
}

/** Registers the bench user (the first user of a fresh DATA_DIR) and returns its API token. */
export async function registerUser(service: Service): Promise<string> {
  const response = await request(`${service.baseUrl}/api/auth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'bench', password: 'bench-password-123' }),
  });
  const body = (await expectJson(response, 201, 'POST /api/auth/register')) as { token?: unknown };
  if (typeof body.token !== 'string') throw new Error(`register answered without a token: ${JSON.stringify(body)}`);
  return body.token;
}

/** One file in `files[]`, as the web page would send it; returns the stored file's raw URL. */
export async function uploadFile(
  service: Service,
  token: string,
  file: { bytes: Buffer; filename: string; type: string },
): Promise<string> {
  const envelope = multipartEnvelope('files[]', file.filename, file.type);
  const response = await request(`${service.baseUrl}/api/upload`, {
    method: 'POST',
    headers: { 'content-type': envelope.contentType, token },
    body: Buffer.concat([envelope.head, file.bytes, envelope.tail]),
  });
  const body = (await expectJson(response, 201, 'POST /api/upload')) as { files?: { raw_url?: unknown }[] };
  const rawUrl = body.files?.[0]?.raw_url;
  if (typeof rawUrl !== 'string') throw new Error(`upload answered without files[0].raw_url: ${JSON.stringify(body)}`);
  // PUBLIC_URL is the service's own address here, but accept a relative URL all the same.
  return new URL(rawUrl, service.baseUrl).href;
}
