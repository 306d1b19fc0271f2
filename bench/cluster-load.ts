/**
 * Load on a cluster: the shape of e2e/cluster.e2e.test.ts (three nodes, WORKERS=1 each, on one
 * PostgreSQL database, one S3 bucket in moto and one Redis, behind nginx; e2e/helpers/cluster.ts
 * starts it for both) under 64 clients for 60 s of mixed uploads, lists and raw reads through
 * nginx. Reports what a cluster gets wrong under load rather than how fast it is: answers 5xx,
 * timeouts, p50/p99 per route, and each node's open file descriptors (by kind) and resident
 * memory, sampled through the load and once more after the cluster has idled: a leak grows them
 * under steady load and keeps them afterwards, a pool gives back what it took.
 */
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { pngImage, postUpload, type Upload } from '../e2e/helpers/uploads.js';
import { type Cluster, startCluster } from '../e2e/helpers/cluster.js';
import { register } from '../e2e/helpers/server.js';
import { positiveInt } from './lib/env.js';
import { type OpenFd, treeOpenFdList, treeRss } from './lib/processes.js';
import type { SectionContext, SectionResult } from './lib/section.js';
import { SERVICE_MAIN } from './lib/service.js';
import { fixed, mib, ms, renderTable } from './lib/table.js';

const NODES = 3;
const CLIENTS = 64;
/** CLUSTER_LOAD_SECONDS runs a longer load, to see whether memory levels off. */
const DURATION_MS = positiveInt('CLUSTER_LOAD_SECONDS', 60) * 1000;
/** A request unanswered this long counts as a timeout (and is abandoned). */
const TIMEOUT_MS = 10_000;
/** Accounts the clients share: each registration costs an scrypt hash. */
const ACCOUNTS = 8;
/** Distinct images the clients upload, over and over (identical bytes are stored once, each upload is a row). */
const IMAGES = 32;
/** Of each client's requests: uploads, lists, the rest raw reads. */
const UPLOAD_SHARE = 0.2;
const LIST_SHARE = 0.3;

type Route = 'POST /api/upload' | 'GET /api/uploads' | 'GET /i/:file';
const ROUTES: Route[] = ['POST /api/upload', 'GET /api/uploads', 'GET /i/:file'];

interface RouteStats {
  latenciesMs: number[];
  statuses: Map<number, number>;
  timeouts: number;
  /** Socket errors and the like: no HTTP answer at all. */
  errors: Map<string, number>;
  /** Reads whose bytes were not the upload's (sha256). */
  wrongBytes: number;
}

/** Each node's open fds and RSS are sampled this often during the load. */
const SAMPLE_EVERY_MS = 5_000;
/**
 * How long the cluster idles after the load before the last sample: longer than pg's idle
 * timeout (10 s), so what is left open then is what stays open.
 */
const IDLE_MS = 15_000;
/**
 * After idling, a node may hold up to this many connections from nginx: nginx keeps that many
 * idle ones open for reuse (`keepalive 32`, docs/deployment.md), and all may go to one node.
 */
const NGINX_KEEPALIVE = 32;
/**
 * After idling, a node's other fds may be this many above what they were before the load: a
 * pooled connection (PostgreSQL's, the S3 agent's) that has not timed out yet. A leak of one
 * fd per upload, as the S3 driver had (an unread temp file stream), leaves hundreds.
 */
const IDLE_OTHER_FDS_ALLOWED = 4;
/**
 * After idling, a node's RSS may be this much above what it was before the load. V8 grows its
 * heap under load and gives memory back only after a full collection, which an idle process
 * may not run for minutes: in our runs nodes ended 23–68 MiB above the start, having peaked at
 * about 70 MiB above it. So RSS only catches a gross leak; the fds catch the usual one.
 */
const IDLE_RSS_ALLOWED_BYTES = 96 * 1024 ** 2;

const FROM_NGINX = 'from nginx';

interface NodeSample {
  /** ms since the load started (0: before it). */
  atMs: number;
  fds: number;
  rssBytes: number;
  /** The fds by kind (kindOf). */
  kinds: Record<string, number>;
}

/** What a node's fd is, in words: sockets by the other end. */
function kindOf(fd: OpenFd, nodePort: number, backends: Cluster['backendPorts']): string {
  switch (fd.type) {
    case 'tcp':
      if (fd.listening) return 'listening';
      if (fd.localPort === nodePort) return FROM_NGINX;
      if (fd.remotePort === backends.storage) return 'to S3 (moto)';
      if (fd.remotePort === backends.database) return 'to PostgreSQL';
      if (fd.remotePort === backends.redis) return 'to Redis';
      return 'other TCP';
    case 'file': {
      const kind = /\.upload(\.stripped)?( \(deleted\))?$/.test(fd.path) ? 'upload temp file' : 'file';
      // Linux marks a file removed while still open: the trace of a leaked descriptor.
      return fd.path.endsWith(' (deleted)') ? `${kind} (deleted)` : kind;
    }
    case 'socket':
      return 'other socket';
    case 'pipe':
      return 'pipe';
    case 'anon':
      return 'epoll/eventfd';
  }
}

const describeKinds = (kinds: Record<string, number>): string =>
  Object.entries(kinds)
    .sort(([, a], [, b]) => b - a)
    .map(([kind, n]) => `${kind} ${n}`)
    .join(', ');

const percentile = (sorted: number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;

async function sampleNodes(cluster: Cluster, atMs: number): Promise<NodeSample[]> {
  return Promise.all(
    cluster.nodes.map(async (node, i) => {
      const fds = await treeOpenFdList(node.process.pid!);
      const kinds: Record<string, number> = {};
      const nodePort = Number(cluster.address(i).split(':')[1]);
      for (const fd of fds) {
        const kind = kindOf(fd, nodePort, cluster.backendPorts);
        kinds[kind] = (kinds[kind] ?? 0) + 1;
      }
      return { atMs, fds: fds.length, rssBytes: (await treeRss(node.process.pid!)).bytes, kinds };
    }),
  );
}

export async function benchClusterLoad(context: SectionContext): Promise<SectionResult> {
  if (context.serviceUnavailable) throw new Error(context.serviceUnavailable);
  if (!context.tools.nginx) throw new Error('nginx is not installed (apt-get install -y nginx)');
  const undo: (() => unknown)[] = [];
  // The nodes run in process groups of their own (startServer), out of reach of killEverything:
  // a Ctrl-C (run.ts exits at once) takes them down here. moto, Redis and nginx share ours.
  let nodes: { process: { pid?: number } }[] = [];
  const killNodes = () => {
    for (const node of nodes) {
      try {
        process.kill(-node.process.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  };
  process.on('exit', killNodes);
  try {
    context.log(`starting ${NODES} nodes, PostgreSQL database, moto, redis-server and nginx`);
    const cluster = await startCluster({
      nodes: NODES,
      defer: (step) => undo.push(step),
      command: ['node', SERVICE_MAIN],
      // As `npm start` runs it, but without rate limits: 64 clients from one address would meet them.
      env: { LOG_LEVEL: 'info', MALLOC_ARENA_MAX: '2', SHUTDOWN_TIMEOUT: '2000', RATE_LIMIT: 'off' },
    });
    nodes = cluster.nodes;
    // One at a time: a node refuses (503) a password hash beyond the few it runs at once.
    const tokens: string[] = [];
    for (let i = 0; i < ACCOUNTS; i++) tokens.push(await register(cluster.url));
    const images = await Promise.all(
      Array.from({ length: IMAGES }, (_, i) => pngImage(256, 256, [(i * 37) % 256, (i * 91) % 256, (i * 53) % 256], [i, 255 - i, 128])),
    );
    // Something to read from the first request on: one upload per account.
    const known: Upload[] = [];
    for (const [i, token] of tokens.entries()) {
      const response = await postUpload(cluster.url, token, [{ file: `seed${i}.png`, bytes: images[i % IMAGES]! }]);
      if (response.status !== 201) throw new Error(`seed upload: ${response.status} ${await response.text()}`);
      known.push(...((await response.json()) as { files: Upload[] }).files);
    }

    const stats = new Map<Route, RouteStats>(
      ROUTES.map((route) => [route, { latenciesMs: [], statuses: new Map(), timeouts: 0, errors: new Map(), wrongBytes: 0 }]),
    );
    const count = <K>(map: Map<K, number>, key: K) => map.set(key, (map.get(key) ?? 0) + 1);
    const timed = async (
      route: Route,
      send: (signal: AbortSignal) => Promise<Response>,
      check?: (body: Buffer) => boolean,
    ): Promise<Buffer | undefined> => {
      const routeStats = stats.get(route)!;
      const start = performance.now();
      try {
        const response = await send(AbortSignal.timeout(TIMEOUT_MS));
        const body = Buffer.from(await response.arrayBuffer());
        routeStats.latenciesMs.push(performance.now() - start);
        count(routeStats.statuses, response.status);
        if (response.ok && check && !check(body)) routeStats.wrongBytes += 1;
        return response.ok ? body : undefined;
      } catch (error) {
        if ((error as Error).name === 'TimeoutError') routeStats.timeouts += 1;
        else count(routeStats.errors, `${(error as Error).name}: ${(error as Error).message}`);
        return undefined;
      }
    };

    const before = await sampleNodes(cluster, 0);
    context.log(`${CLIENTS} clients for ${DURATION_MS / 1000} s through nginx (${cluster.url})`);
    const end = Date.now() + DURATION_MS;
    let requests = 0;
    const client = async (index: number): Promise<void> => {
      const token = tokens[index % ACCOUNTS]!;
      for (let n = 0; Date.now() < end; n++) {
        requests += 1;
        const roll = Math.random();
        if (roll < UPLOAD_SHARE) {
          const bytes = images[(index + n) % IMAGES]!;
          const body = await timed('POST /api/upload', (signal) =>
            postUpload(cluster.url, token, [{ file: `c${index}-${n}.png`, bytes }], {}, signal),
          );
          if (body) known.push(...(JSON.parse(body.toString()) as { files: Upload[] }).files);
        } else if (roll < UPLOAD_SHARE + LIST_SHARE) {
          await timed('GET /api/uploads', (signal) => fetch(`${cluster.url}/api/uploads?limit=50`, { headers: { token }, signal }));
        } else {
          const file = known[Math.floor(Math.random() * known.length)]!;
          await timed(
            'GET /i/:file',
            (signal) => fetch(file.raw_url, { signal }),
            (body) => createHash('sha256').update(body).digest('hex') === file.sha256,
          );
        }
      }
    };
    const loadStart = performance.now();
    const during: NodeSample[][] = [];
    let sampled = Promise.resolve();
    const sampling = setInterval(() => {
      sampled = sampleNodes(cluster, performance.now() - loadStart).then((sample) => void during.push(sample));
    }, SAMPLE_EVERY_MS);
    await Promise.all(Array.from({ length: CLIENTS }, (_, i) => client(i)));
    clearInterval(sampling);
    await sampled; // the last one may still be reading /proc
    const seconds = (performance.now() - loadStart) / 1000;
    const atEnd = await sampleNodes(cluster, performance.now() - loadStart);
    context.log(`load done; the cluster idles for ${IDLE_MS / 1000} s`);
    await sleep(IDLE_MS);
    const afterIdle = await sampleNodes(cluster, performance.now() - loadStart);

    const problems: string[] = [];
    const rows = ROUTES.map((route) => {
      const routeStats = stats.get(route)!;
      const sorted = [...routeStats.latenciesMs].sort((a, b) => a - b);
      const fivexx = [...routeStats.statuses].filter(([status]) => status >= 500).reduce((sum, [, n]) => sum + n, 0);
      const errors = [...routeStats.errors.values()].reduce((sum, n) => sum + n, 0);
      const other = [...routeStats.statuses].filter(([status]) => status >= 400 && status < 500);
      if (fivexx > 0) problems.push(`cluster-load: ${fivexx} answers 5xx on ${route}`);
      if (routeStats.timeouts > 0) problems.push(`cluster-load: ${routeStats.timeouts} timeouts (> ${TIMEOUT_MS / 1000} s) on ${route}`);
      if (errors > 0)
        problems.push(`cluster-load: ${errors} requests without an answer on ${route}: ${[...routeStats.errors.keys()].join('; ')}`);
      if (other.length > 0) problems.push(`cluster-load: ${route} answered ${other.map(([status, n]) => `${n} x ${status}`).join(', ')}`);
      if (routeStats.wrongBytes > 0) problems.push(`cluster-load: ${routeStats.wrongBytes} reads on ${route} served the wrong bytes`);
      return [
        route,
        fixed(sorted.length + routeStats.timeouts + errors),
        fixed(sorted.length / seconds, 1),
        ms(percentile(sorted, 50)),
        ms(percentile(sorted, 99)),
        fixed(fivexx),
        fixed(routeStats.timeouts),
        fixed(errors),
      ];
    });
    const nodeName = (i: number) => `node ${String.fromCharCode(65 + i)} (${cluster.address(i)})`;
    const nodeRows = cluster.nodes.map((_, i) => {
      const spanOf = (key: 'fds' | 'rssBytes', format: (value: number) => string) => {
        const values = during.map((sample) => sample[i]![key]);
        return values.length === 0 ? '-' : `${format(Math.min(...values))}–${format(Math.max(...values))}`;
      };
      const [start, last, idled] = [before[i]!, atEnd[i]!, afterIdle[i]!];
      // nginx's idle connections are its pool, not the node's: bounded apart from the rest.
      const fromNginx = (sample: NodeSample) => sample.kinds[FROM_NGINX] ?? 0;
      if (fromNginx(idled) > NGINX_KEEPALIVE || idled.fds - fromNginx(idled) > start.fds - fromNginx(start) + IDLE_OTHER_FDS_ALLOWED)
        problems.push(
          `cluster-load: ${nodeName(i)} holds ${idled.fds} fds after idling, ${start.fds} before the load (${describeKinds(idled.kinds)})`,
        );
      if (idled.rssBytes > start.rssBytes + IDLE_RSS_ALLOWED_BYTES)
        problems.push(`cluster-load: ${nodeName(i)} holds ${mib(idled.rssBytes)} RSS after idling, ${mib(start.rssBytes)} before the load`);
      return [
        nodeName(i),
        fixed(start.fds),
        spanOf('fds', fixed),
        fixed(last.fds),
        fixed(idled.fds),
        mib(start.rssBytes),
        spanOf('rssBytes', mib),
        mib(last.rssBytes),
        mib(idled.rssBytes),
      ];
    });
    // The fds by kind at the busiest sample and after idling: what grew, and what stayed.
    const kindRows = cluster.nodes.flatMap((_, i) => {
      const busiest = [...during.map((sample) => sample[i]!), atEnd[i]!].reduce((a, b) => (b.fds > a.fds ? b : a));
      return [
        [nodeName(i), 'before', describeKinds(before[i]!.kinds)],
        ['', `busiest (${fixed(busiest.atMs / 1000, 0)} s)`, describeKinds(busiest.kinds)],
        ['', 'after idling', describeKinds(afterIdle[i]!.kinds)],
      ];
    });
    const table = [
      renderTable(
        `CLUSTER LOAD — ${NODES} nodes (WORKERS=1) behind nginx, PostgreSQL, S3 (moto), Redis; ${CLIENTS} clients for ${fixed(seconds, 1)} s, ${fixed(requests)} requests`,
        ['route', 'requests', 'req/s', 'p50', 'p99', '5xx', 'timeouts', 'no answer'],
        rows,
        [
          `a timeout is no answer within ${TIMEOUT_MS / 1000} s; mix: ${UPLOAD_SHARE * 100}% uploads (256x256 PNG), ${LIST_SHARE * 100}% lists, the rest raw reads`,
        ],
      ),
      renderTable(
        'CLUSTER LOAD — each node: before the load, during it (min–max), at its end, after idling',
        ['node', 'fds before', 'during', 'end', 'idle', 'RSS before', 'during', 'end', 'idle'],
        nodeRows,
        [
          `sampled every ${SAMPLE_EVERY_MS / 1000} s during the load, then after ${IDLE_MS / 1000} s of idling; RSS sums the process tree`,
          `a problem, after idling: more than ${NGINX_KEEPALIVE} connections from nginx (its keepalive pool), more than ${IDLE_OTHER_FDS_ALLOWED} other fds or ${mib(IDLE_RSS_ALLOWED_BYTES)} RSS above before the load`,
        ],
      ),
      renderTable('CLUSTER LOAD — what the fds are', ['node', 'when', 'fds by kind'], kindRows),
    ].join('\n\n');
    const data = {
      seconds,
      requests,
      routes: Object.fromEntries(
        ROUTES.map((route) => {
          const routeStats = stats.get(route)!;
          const sorted = [...routeStats.latenciesMs].sort((a, b) => a - b);
          return [
            route,
            {
              answered: sorted.length,
              p50Ms: percentile(sorted, 50),
              p99Ms: percentile(sorted, 99),
              statuses: Object.fromEntries(routeStats.statuses),
              timeouts: routeStats.timeouts,
              errors: Object.fromEntries(routeStats.errors),
              wrongBytes: routeStats.wrongBytes,
            },
          ];
        }),
      ),
      nodes: cluster.nodes.map((_, i) => ({
        address: cluster.address(i),
        before: before[i],
        during: during.map((sample) => sample[i]),
        end: atEnd[i],
        afterIdle: afterIdle[i],
      })),
    };
    return { table, data, problems };
  } finally {
    for (const step of undo.reverse())
      await Promise.resolve()
        .then(step)
        .catch(() => undefined);
    process.off('exit', killNodes);
  }
}
