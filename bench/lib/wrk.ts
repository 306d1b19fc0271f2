import { runToCompletion } from './processes.js';

export interface WrkResult {
  requestsPerSec: number;
  /** Bytes per second, as wrk counts it (headers included). */
  transferPerSec: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  requests: number;
  /** Non-2xx/3xx responses: a 404 is fast, so these make a figure meaningless. */
  non2xx: number;
  socketErrors: { connect: number; read: number; write: number; timeout: number };
}

export interface WrkOptions {
  threads: number;
  connections: number;
  durationS: number;
}

const TIME_UNITS: Record<string, number> = { us: 0.001, ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };
// wrk formats sizes with binary multiples and a bare "B".
const SIZE_UNITS: Record<string, number> = { B: 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3, TB: 1024 ** 4 };
// Req/Sec per thread uses metric suffixes ("6.30k"), but we only read the total, which is plain.

function match(output: string, pattern: RegExp, what: string): RegExpExecArray {
  const found = pattern.exec(output);
  if (!found) throw new Error(`wrk output has no ${what}:\n${output}`);
  return found;
}

function duration(value: string, unit: string): number {
  const factor = TIME_UNITS[unit];
  if (factor === undefined) throw new Error(`unknown wrk time unit ${unit}`);
  return Number(value) * factor;
}

function size(value: string, unit: string): number {
  const factor = SIZE_UNITS[unit];
  if (factor === undefined) throw new Error(`unknown wrk size unit ${unit}`);
  return Number(value) * factor;
}

/** Parses the text that `wrk --latency` prints. Throws when a figure we rely on is missing. */
export function parseWrk(output: string): WrkResult {
  const p50 = match(output, /^\s*50%\s+([\d.]+)(us|ms|s|m|h)\s*$/m, 'p50 latency (was --latency given?)');
  const p99 = match(output, /^\s*99%\s+([\d.]+)(us|ms|s|m|h)\s*$/m, 'p99 latency (was --latency given?)');
  const rps = match(output, /^Requests\/sec:\s+([\d.]+)\s*$/m, 'Requests/sec');
  const transfer = match(output, /^Transfer\/sec:\s+([\d.]+)(B|KB|MB|GB|TB)\s*$/m, 'Transfer/sec');
  const total = match(output, /^\s*(\d+) requests in /m, 'request count');
  const non2xx = /^\s*Non-2xx or 3xx responses:\s+(\d+)\s*$/m.exec(output);
  const sockets = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(output);
  return {
    requestsPerSec: Number(rps[1]),
    transferPerSec: size(transfer[1]!, transfer[2]!),
    latencyP50Ms: duration(p50[1]!, p50[2]!),
    latencyP99Ms: duration(p99[1]!, p99[2]!),
    requests: Number(total[1]),
    non2xx: non2xx ? Number(non2xx[1]) : 0,
    socketErrors: {
      connect: sockets ? Number(sockets[1]) : 0,
      read: sockets ? Number(sockets[2]) : 0,
      write: sockets ? Number(sockets[3]) : 0,
      timeout: sockets ? Number(sockets[4]) : 0,
    },
  };
}

export async function runWrk(wrkPath: string, url: string, options: WrkOptions): Promise<WrkResult> {
  const args = [`-t${options.threads}`, `-c${options.connections}`, `-d${options.durationS}s`, '--latency', url];
  // wrk stops by itself after -d; the margin only guards against a wedged run.
  const result = await runToCompletion(wrkPath, args, { timeoutMs: (options.durationS + 15) * 1_000 });
  if (result.code !== 0) throw new Error(`wrk exited with ${result.code}: ${result.stderr || result.stdout}`);
  return parseWrk(result.stdout);
}
