import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, mkdtempSync, openSync, readdirSync, readSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inject } from 'vitest';
import { addResponseSource, checkingContract, observe } from '../../server/test/helpers/contract-check.js';
import type { ObservedResponse } from '../../server/test/helpers/contract.js';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const RECORDER = new URL('./contract-recorder.js', import.meta.url).href;

/** A response as contract-recorder.js wrote it down in the server's process. */
type RecordedResponse = ObservedResponse & { hidden: boolean };

/**
 * Has the contract test judge every response a server started here sends (whoever asked:
 * fetch, a bare socket, Chromium, the SDK, the CLI). The server's processes write them down
 * (contract-recorder.js, one file per process) before each answer leaves; the records are
 * read before each test's verdict, and once more when the file ends, with whatever came last.
 * Returns the environment that turns the recorder on.
 */
function recordResponses(env: Record<string, string>): Record<string, string> {
  if (!checkingContract) return {};
  const directory = mkdtempSync(join(tmpdir(), 'di-contract-'));
  const read = new Map<string, number>();
  const readRecords = () => {
    for (const name of readdirSync(directory)) {
      const path = join(directory, name);
      const from = read.get(path) ?? 0;
      const size = statSync(path).size;
      if (size <= from) continue;
      const bytes = Buffer.alloc(size - from);
      const fd = openSync(path, 'r');
      try {
        readSync(fd, bytes, 0, bytes.length, from);
      } finally {
        closeSync(fd);
      }
      // Whole lines only: a process killed mid-write (the crash tests) leaves a partial last one.
      const end = bytes.lastIndexOf(0x0a) + 1;
      read.set(path, from + end);
      for (const line of bytes.subarray(0, end).toString('utf8').split('\n')) {
        if (line === '') continue;
        const { hidden, ...response } = JSON.parse(line) as RecordedResponse;
        if (!hidden) observe(response);
      }
    }
  };
  addResponseSource({ read: readRecords, dispose: () => rmSync(directory, { recursive: true, force: true }) });
  return { CONTRACT_RECORD: directory, NODE_OPTIONS: `--import ${RECORDER}${env.NODE_OPTIONS ? ` ${env.NODE_OPTIONS}` : ''}` };
}

export interface RunningServer {
  url: string;
  port: number;
  process: ChildProcess;
  /** Where the server's processes write down their responses for the contract check (contract-recorder.js); unset outside Vitest. */
  contractRecords: string | undefined;
  /** Everything the process wrote, for assertions and failure messages. */
  output(): string;
  /** Sends a signal and waits for the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  return port;
}

/** Polls until `check` passes or the deadline runs out (no fixed sleeps). */
export async function until(check: () => Promise<boolean> | boolean, timeoutMs = 15_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (
      await Promise.resolve()
        .then(check)
        .catch(() => false)
    )
      return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** The banner's line once the server listens on `port`: the proof that this process, not another, holds it. */
const listeningOn = (port: number) => new RegExp(`^ *Listening on +http://\\S+:${port}\\b`, 'm');

declare module 'vitest' {
  export interface ProvidedContext {
    /** The bundled server's main.js (e2e/global-setup.ts). */
    serverBundle: string;
  }
}

/** The server as `npm start` runs it, bundled once for the test run (e2e/global-setup.ts). */
const bundledServer = (): string[] => ['node', inject('serverBundle')];

/**
 * Starts the real server on a free port and waits until it is up. By default it runs the
 * bundled server; `command` can run anything else (e.g. `npm start`).
 * Rate limits are off unless `env` turns them on (RATE_LIMIT: 'on'): tests make many requests from one address.
 * The port is free when picked but not reserved: another test's server can take it first, so
 * a start that finds it taken (EADDRINUSE) tries again on another. `env.PORT` names the port
 * instead (a node restarted where its load balancer expects it), with no second try.
 */
export async function startServer(
  env: Record<string, string>,
  command: string[] = bundledServer(),
  startTimeoutMs = 60_000,
): Promise<RunningServer> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(env, command, startTimeoutMs);
    } catch (error) {
      if (attempt === 3 || !(error instanceof PortTaken) || env.PORT !== undefined) throw error;
    }
  }
}

class PortTaken extends Error {}

async function startOnce(env: Record<string, string>, command: string[], startTimeoutMs: number): Promise<RunningServer> {
  const port = env.PORT === undefined ? await freePort() : Number(env.PORT);
  const url = `http://127.0.0.1:${port}`;
  const recording = recordResponses(env);
  const child = spawn(command[0]!, command.slice(1), {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      PORT: String(port),
      HOST: '127.0.0.1',
      PUBLIC_URL: url,
      LOG_LEVEL: 'warn',
      RATE_LIMIT: 'off',
      ...env,
      ...recording,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  try {
    // Each probe is bounded, so a server that accepts but never answers cannot stall the wait;
    // an early exit ends it at once (until() treats a throwing check as not yet). /healthz alone
    // could be another server's answer on a port taken from under this one: the banner is not.
    await until(
      async () =>
        child.exitCode !== null ||
        (listeningOn(port).test(output) && (await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(5_000) })).ok),
      startTimeoutMs,
      `server on ${url}`,
    );
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`);
  } catch (error) {
    if (child.exitCode === null) process.kill(-child.pid!, 'SIGKILL');
    const message = `${(error as Error).message}\n${output}`;
    throw output.includes('EADDRINUSE') ? new PortTaken(message) : new Error(message);
  }
  return {
    url,
    contractRecords: recording.CONTRACT_RECORD,
    port,
    process: child,
    output: () => output,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) process.kill(signal === 'SIGKILL' ? -child.pid! : child.pid!, signal);
      return exited;
    },
  };
}

export async function register(url: string, username = `u${Math.random().toString(36).slice(2, 10)}`): Promise<string> {
  const response = await fetch(`${url}/api/auth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password: 'correct horse battery' }),
  });
  if (response.status !== 201) throw new Error(`register: ${response.status} ${await response.text()}`);
  return ((await response.json()) as { token: string }).token;
}
