/**
 * Load on a cluster: the shape of e2e/cluster.e2e.test.ts (three nodes, WORKERS=1 each, on one
 * PostgreSQL database, one S3 bucket in moto and one Redis, behind nginx; e2e/helpers/cluster.ts
 * starts it for both) under 64 clients for 60 s of mixed uploads, lists and raw reads through
 * nginx. Reports what a cluster gets wrong under load rather than how fast it is: answers 5xx,
 * timeouts, p50/p99 per route, and each node's open file descriptors and resident memory at
 * start and end (a leak grows them under steady load).
 */
import { createHash } from 'node:crypto';
import { pngImage, postUpload, type Upload } from '../e2e/helpers/uploads.js';
import { type Cluster, startCluster } from '../e2e/helpers/cluster.js';
import { register } from '../e2e/helpers/server.js';
import { treeOpenFds, treeRss } from './lib/processes.js';
import type { SectionContext, SectionResult } from './lib/section.js';
import { SERVICE_MAIN } from './lib/service.js';
import { fixed, mib, ms, renderTable } from './lib/table.js';

const NODES = 3;
const CLIENTS = 64;
const DURATION_MS = 60_000;
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

interface NodeSample {
  fds: number;
  rssBytes: number;
}

const percentile = (sorted: number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;

async function sampleNodes(cluster: Cluster): Promise<NodeSample[]> {
  return Promise.all(
    cluster.nodes.map(async (node) => ({ fds: await treeOpenFds(node.process.pid!), rssBytes: (await treeRss(node.process.pid!)).bytes })),
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

    const before = await sampleNodes(cluster);
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
    await Promise.all(Array.from({ length: CLIENTS }, (_, i) => client(i)));
    const seconds = (performance.now() - loadStart) / 1000;
    const after = await sampleNodes(cluster);

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
    const nodeRows = cluster.nodes.map((_, i) => [
      `node ${String.fromCharCode(65 + i)} (${cluster.address(i)})`,
      fixed(before[i]!.fds),
      fixed(after[i]!.fds),
      mib(before[i]!.rssBytes),
      mib(after[i]!.rssBytes),
    ]);
    const table = [
      renderTable(
        `CLUSTER LOAD — ${NODES} nodes (WORKERS=1) behind nginx, PostgreSQL, S3 (moto), Redis; ${CLIENTS} clients for ${fixed(seconds, 1)} s, ${fixed(requests)} requests`,
        ['route', 'requests', 'req/s', 'p50', 'p99', '5xx', 'timeouts', 'no answer'],
        rows,
        [
          `a timeout is no answer within ${TIMEOUT_MS / 1000} s; mix: ${UPLOAD_SHARE * 100}% uploads (256x256 PNG), ${LIST_SHARE * 100}% lists, the rest raw reads`,
        ],
      ),
      renderTable('CLUSTER LOAD — each node before and after', ['node', 'open fds before', 'after', 'RSS before', 'after'], nodeRows, [
        'RSS sums the process tree; fds include sockets (nginx keeps up to 32 idle connections open to the nodes)',
      ]),
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
      nodes: cluster.nodes.map((_, i) => ({ address: cluster.address(i), before: before[i], after: after[i] })),
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
