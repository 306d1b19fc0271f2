import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, closeSync, constants, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { readFile, readdir, readlink } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { request } from 'undici';

/** Repository root: where `npm run build` and the service run. */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * Every process and temp dir the bench creates is registered here, so that one call (from a
 * `finally`, a signal handler or `process.on('exit')`) can remove all of them, whatever failed.
 */
const running = new Set<ChildProcess>();
const tempDirs = new Set<string>();

export interface Started {
  child: ChildProcess;
  pid: number;
  /** Resolves with the exit code (or the signal name) once the process has exited. */
  exited: Promise<number | string>;
  /** Where stdout and stderr go, when a log file was asked for. */
  logPath: string | undefined;
}

export interface StartOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Send stdout and stderr to this file; otherwise they are piped to the caller. */
  logPath?: string;
}

/**
 * Starts a process as the leader of its own process group (`detached`), so that signalling
 * `-pid` also reaches whatever it forks (node:cluster workers, nginx workers) and a Ctrl-C in
 * the terminal does not race our own orderly shutdown.
 */
export function start(command: string, args: string[], options: StartOptions = {}): Started {
  const logFd = options.logPath === undefined ? undefined : openSync(options.logPath, 'a');
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    detached: true,
    stdio: logFd === undefined ? ['ignore', 'pipe', 'pipe'] : ['ignore', logFd, logFd],
  });
  if (logFd !== undefined) closeSync(logFd);
  if (child.pid === undefined) throw new Error(`could not start ${command}`);
  running.add(child);
  const exited = new Promise<number | string>((resolve) => {
    child.once('exit', (code, signal) => {
      running.delete(child);
      resolve(code ?? signal ?? 'unknown');
    });
    child.once('error', (error) => {
      running.delete(child);
      resolve(error.message);
    });
  });
  return { child, pid: child.pid, exited, logPath: options.logPath };
}

/**
 * Runs one of the bench's own servers (bench/servers/*.ts, node built-ins only) as plain
 * JavaScript in `workDir`. Not under tsx: its loader costs a baseline about 10% req/s here,
 * a handicap the compiled service does not carry.
 */
export function startBenchServer(script: string, args: string[], workDir: string): Started {
  const source = readFileSync(join(REPO_ROOT, 'bench', 'servers', script), 'utf8');
  const { outputText } = ts.transpileModule(source, {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
  });
  const name = script.replace(/\.ts$/, '');
  const compiled = join(workDir, `${name}.mjs`);
  writeFileSync(compiled, outputText);
  return start(process.execPath, [compiled, ...args], { cwd: workDir, logPath: join(workDir, `${name}.log`) });
}

export interface Completed {
  code: number | string;
  stdout: string;
  stderr: string;
}

/** Runs a process to completion with a hard time limit, collecting its output. */
export async function runToCompletion(command: string, args: string[], options: { cwd?: string; timeoutMs: number }): Promise<Completed> {
  const started = start(command, args, { cwd: options.cwd });
  // 'exit' can come before the pipes are drained; 'close' comes after both.
  const closed = new Promise((resolve) => started.child.once('close', resolve));
  let stdout = '';
  let stderr = '';
  started.child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  started.child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const timer = setTimeout(() => killGroup(started.pid, 'SIGKILL'), options.timeoutMs);
  try {
    const code = await started.exited;
    await Promise.race([closed, sleep(1_000)]);
    return { code, stdout, stderr };
  } finally {
    clearTimeout(timer);
  }
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: the whole group is already gone.
  }
}

/**
 * SIGTERM to the group, then SIGKILL to the group after `graceMs` whatever happened: the
 * leader exiting does not prove that its workers did.
 */
export async function stop(started: Started, graceMs = 5_000): Promise<void> {
  killGroup(started.pid, 'SIGTERM');
  await Promise.race([started.exited, sleep(graceMs)]);
  killGroup(started.pid, 'SIGKILL');
  await Promise.race([started.exited, sleep(1_000)]);
}

/** Synchronous on purpose: it must also work from `process.on('exit')`. */
export function killEverything(): void {
  for (const child of running) if (child.pid !== undefined) killGroup(child.pid, 'SIGKILL');
  running.clear();
  for (const dir of tempDirs) {
    try {
      // Retries: a process killed a moment ago may still be adding files to its dir.
      rmSync(dir, { recursive: true, force: true, maxRetries: 5 });
    } catch (error) {
      console.error(`could not remove ${dir}: ${(error as Error).message}`);
    }
  }
  tempDirs.clear();
}

/** A fresh directory under os.tmpdir(), removed by killEverything(). */
export function makeTempDir(label: string): string {
  const dir = mkdtempSync(join(tmpdir(), `di-bench-${label}-`));
  tempDirs.add(dir);
  return dir;
}

/** Removes a dir made by makeTempDir as soon as its contents are no longer needed (GBs of uploads). */
export function removeTempDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true, maxRetries: 5 });
  tempDirs.delete(dir);
}

/**
 * Flushes dirty pages to disk. Phases that write GBs run one after another; without this the
 * next phase would pay for the previous one's writeback, and the later phase would always lose.
 */
export async function settleDisk(): Promise<void> {
  await runToCompletion('sync', [], { timeoutMs: 120_000 });
}

/** Asks the kernel for a free loopback port. Racy in theory; fine for a bench on one machine. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === 'object') resolve(address.port);
        else reject(new Error('no port'));
      });
    });
  });
}

/**
 * Polls `url` until a response with an accepted status arrives. Fails early when the process
 * exits (a crash at startup should not cost the whole deadline) and at the deadline.
 */
export async function waitForHttp(
  url: string,
  options: { started: Started; deadlineMs: number; accept: (status: number) => boolean },
): Promise<void> {
  const deadline = Date.now() + options.deadlineMs;
  let exitCode: number | string | undefined;
  void options.started.exited.then((code) => (exitCode = code));
  let last = 'no answer';
  while (Date.now() < deadline) {
    if (exitCode !== undefined) throw new Error(`process exited (${exitCode}) before ${url} answered`);
    try {
      const response = await request(url, { headersTimeout: 1_000, bodyTimeout: 1_000 });
      await response.body.dump();
      if (options.accept(response.statusCode)) return;
      last = `status ${response.statusCode}`;
    } catch (error) {
      last = (error as Error).message;
    }
    await sleep(100);
  }
  throw new Error(`${url} not ready after ${options.deadlineMs} ms (last: ${last})`);
}

/** Last lines of a log file, to explain a failure without dumping everything. */
export function logTail(path: string | undefined, lines = 20): string {
  if (path === undefined) return '';
  try {
    return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

/** Full path of an executable, looking in PATH and in the sbin dirs a non-root PATH lacks. */
export function findExecutable(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/sbin', '/usr/local/sbin'];
  for (const dir of dirs) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Every pid in the tree rooted at `pid` (the pid itself first), via /proc/<pid>/task/<tid>/children. */
async function processTree(pid: number): Promise<number[]> {
  const result: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    const current = queue.shift()!;
    result.push(current);
    let tasks: string[];
    try {
      tasks = await readdir(`/proc/${current}/task`);
    } catch {
      continue; // exited meanwhile
    }
    for (const task of tasks) {
      const children = await readFile(`/proc/${current}/task/${task}/children`, 'utf8').catch(() => '');
      for (const child of children.split(' ')) if (child.trim()) queue.push(Number(child));
    }
  }
  return result;
}

/** Clock ticks per second of /proc/<pid>/stat's CPU times (USER_HZ, 100 on Linux). */
const USER_HZ = 100;

/**
 * CPU time (user + system) a process tree has used so far, in ms: each live member's own, plus
 * that of its children that have exited and been waited for (a build step before the server).
 * Less sensitive than wall time to other work on the machine.
 */
export async function treeCpuMs(pid: number): Promise<number> {
  let ticks = 0;
  for (const member of await processTree(pid)) {
    const stat = await readFile(`/proc/${member}/stat`, 'utf8').catch(() => '');
    // Fields after the command name (which may hold spaces): utime, stime, cutime, cstime are 14-17.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    for (const index of [11, 12, 13, 14]) ticks += Number(fields[index] ?? 0);
  }
  return (ticks * 1000) / USER_HZ;
}

/**
 * Resident memory of a whole process tree, in bytes. Summing RSS counts shared pages (the node
 * binary, libvips) once per process, so compare a tree with itself over time, not across sizes.
 */
export async function treeRss(pid: number): Promise<{ bytes: number; processes: number }> {
  let bytes = 0;
  let processes = 0;
  for (const member of await processTree(pid)) {
    const status = await readFile(`/proc/${member}/status`, 'utf8').catch(() => '');
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    if (!match) continue;
    bytes += Number(match[1]) * 1024;
    processes += 1;
  }
  return { bytes, processes };
}

/** One open file descriptor: a TCP socket with its ports, a file with its path, or just its type. */
export type OpenFd =
  | { type: 'tcp'; localPort: number; remotePort: number; listening: boolean }
  | { type: 'file'; path: string }
  /** Other sockets (Unix, UDP), pipes, anonymous inodes (epoll, eventfd, timerfd, signalfd). */
  | { type: 'socket' | 'pipe' | 'anon' };

/**
 * The open file descriptors of a whole process tree (a leak grows their number under steady
 * load), each with what it is: TCP sockets are told apart by /proc/<pid>/net/tcp{,6}.
 */
export async function treeOpenFdList(pid: number): Promise<OpenFd[]> {
  const tcp = new Map<string, OpenFd>();
  for (const table of ['tcp', 'tcp6']) {
    const lines = (await readFile(`/proc/${pid}/net/${table}`, 'utf8').catch(() => '')).split('\n').slice(1);
    for (const line of lines) {
      // sl local_address rem_address st ... inode (the 10th column); addresses are hex ip:port.
      const [, local, remote, state, , , , , , inode] = line.trim().split(/\s+/);
      if (inode === undefined) continue;
      const port = (address: string) => parseInt(address.split(':')[1]!, 16);
      tcp.set(inode, { type: 'tcp', localPort: port(local!), remotePort: port(remote!), listening: state === '0A' });
    }
  }
  const fds: OpenFd[] = [];
  for (const member of await processTree(pid)) {
    for (const fd of await readdir(`/proc/${member}/fd`).catch(() => [])) {
      const link = await readlink(`/proc/${member}/fd/${fd}`).catch(() => undefined);
      if (link === undefined) continue; // closed meanwhile
      const socket = /^socket:\[(\d+)\]$/.exec(link);
      if (socket) fds.push(tcp.get(socket[1]!) ?? { type: 'socket' });
      else if (link.startsWith('pipe:')) fds.push({ type: 'pipe' });
      else if (link.startsWith('anon_inode:')) fds.push({ type: 'anon' });
      else fds.push({ type: 'file', path: link });
    }
  }
  return fds;
}
