/**
 * A cluster as docs/deployment.md ("Many nodes") draws it, on this machine: server processes
 * (WORKERS=1 each, a DATA_DIR of their own) on one PostgreSQL database, one S3 bucket (moto)
 * and one Redis (a redis-server of its own), behind nginx configured as the guide's nginx
 * section recommends. e2e/cluster.e2e.test.ts and bench/cluster-load.ts both start it, so it
 * takes a Defer for its cleanup instead of importing Vitest.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Defer } from '../../server/test/helpers/defer.js';
import { launchMoto } from '../../server/test/helpers/moto-server.js';
import { createPostgresDatabase } from '../../server/test/helpers/postgres-admin.js';
import { freePort, type RunningServer, startServer, until } from './server.js';

export interface ClusterOptions {
  /** How many server processes. */
  nodes: number;
  /** Added to every node's environment (rate limits, log level ...). */
  env?: Record<string, string>;
  /**
   * Whether the nodes share a Redis (REDIS_URL). Off only to show what it brings.
   * @default true
   */
  redis?: boolean;
  /** Where the cluster's teardown goes: atFileEnd in a test file. */
  defer: Defer;
  /**
   * What runs each node (startServer's `command`): the built server for a bench.
   * @default the server bundled for the test run (startServer's default)
   */
  command?: string[];
}

export interface Cluster {
  /** nginx: the one public address, every node's PUBLIC_URL. */
  url: string;
  /** The running nodes, in the upstream's order; restart() replaces one in place. */
  nodes: RunningServer[];
  /** `127.0.0.1:<port>` of node `index`, as nginx's `X-Upstream` answer header names it. */
  address(index: number): string;
  /** SIGKILL: the node dies mid-request, as on a power cut. */
  kill(index: number): Promise<void>;
  /** Starts node `index` again: the same environment and port, a new process. */
  restart(index: number): Promise<RunningServer>;
  /** The ports the nodes connect to, so that a node's sockets can be told apart. */
  backendPorts: { storage: number; database: number; redis?: number };
}

/** Debian's nginx lives in /usr/sbin, which a non-root PATH may lack. */
const NGINX = existsSync('/usr/sbin/nginx') ? '/usr/sbin/nginx' : 'nginx';

/** Which node of the cluster answered a request through nginx (`127.0.0.1:<port>`; a list when nginx tried several). */
export const UPSTREAM_HEADER = 'x-upstream';

export async function startCluster(options: ClusterOptions): Promise<Cluster> {
  const { defer } = options;
  const proxyPort = await freePort();
  const url = `http://127.0.0.1:${proxyPort}`;
  const moto = await launchMoto(defer);
  const s3 = await moto.bucket();
  const shared: Record<string, string> = {
    PUBLIC_URL: url,
    DATABASE_URL: await createPostgresDatabase('cluster', defer),
    STORAGE: 's3',
    S3_ENDPOINT: moto.endpoint,
    S3_REGION: s3.region,
    S3_BUCKET: s3.bucket,
    S3_ACCESS_KEY_ID: s3.accessKeyId,
    S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
    S3_FORCE_PATH_STYLE: 'true',
    TRUST_PROXY: 'true',
    WORKERS: '1',
    ...(options.redis === false ? {} : { REDIS_URL: await startRedis(defer), REDIS_PREFIX: `cluster-${randomBytes(6).toString('hex')}:` }),
    ...options.env,
  };
  const envs: Record<string, string>[] = [];
  for (let i = 0; i < options.nodes; i++) {
    const dataDir = await mkdtemp(join(tmpdir(), `di-cluster-node${i}-`));
    defer(() => rm(dataDir, { recursive: true, force: true }));
    envs.push({ ...shared, DATA_DIR: dataDir, PORT: String(await freePort()) });
  }
  const nodes: RunningServer[] = [];
  defer(() => Promise.all(nodes.map((node) => node.stop('SIGKILL'))));
  // The first alone migrates the new database; the others then start together.
  const start = (env: Record<string, string>) => startServer(env, options.command);
  nodes.push(await start(envs[0]!));
  nodes.push(...(await Promise.all(envs.slice(1).map(start))));

  await Promise.all(nodes.map((node, index) => ready(node, envs[index]!)));
  await startNginx(
    proxyPort,
    envs.map((env) => Number(env.PORT)),
    defer,
  );
  return {
    url,
    nodes,
    address: (index) => `127.0.0.1:${envs[index]!.PORT}`,
    backendPorts: {
      storage: Number(new URL(shared.S3_ENDPOINT!).port),
      database: Number(new URL(shared.DATABASE_URL!).port || 5432),
      redis: shared.REDIS_URL === undefined ? undefined : Number(new URL(shared.REDIS_URL).port),
    },
    async kill(index) {
      await nodes[index]!.stop('SIGKILL');
    },
    async restart(index) {
      const node = await start(envs[index]!);
      nodes[index] = node;
      await ready(node, envs[index]!);
      return node;
    },
  };
}

/**
 * Waits for the node's /readyz, and with REDIS_URL for its Redis link too: until then it counts
 * rate limits on its own and would miss deletions published meanwhile.
 */
async function ready(node: RunningServer, env: Record<string, string>): Promise<void> {
  await until(
    async () => {
      const response = await fetch(`${node.url}/readyz`, { signal: AbortSignal.timeout(5_000) });
      const body = (await response.json()) as { redis?: string };
      return response.ok && (env.REDIS_URL === undefined || body.redis === 'ready');
    },
    20_000,
    `${node.url}/readyz`,
  );
}

/** A redis-server of the cluster's own, without persistence, on a free port. */
async function startRedis(defer: Defer): Promise<string> {
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
    stdio: 'ignore',
  });
  defer(() => stopChild(child, 'SIGKILL'));
  await until(
    () =>
      child.exitCode === null &&
      spawnSync('redis-cli', ['-p', String(port), 'ping'])
        .stdout?.toString()
        .trim() === 'PONG',
    10_000,
    'redis-server',
  );
  return `redis://127.0.0.1:${port}`;
}

/**
 * nginx in the foreground, everything it writes in a temp dir, with the proxy settings of
 * docs/deployment.md's nginx section (minus TLS) and one addition: X-Upstream names the node
 * that answered, so a test can tell where nginx sent a request.
 */
async function startNginx(port: number, nodePorts: number[], defer: Defer): Promise<void> {
  const prefix = await mkdtemp(join(tmpdir(), 'di-cluster-nginx-'));
  defer(() => rm(prefix, { recursive: true, force: true }));
  const config = `
# Started by root, the master would fork its workers as "nobody", who cannot write the 0700 temp dir.
${process.getuid?.() === 0 ? 'user root;' : ''}
worker_processes 1;
daemon off;
pid ${join(prefix, 'nginx.pid')};
error_log ${join(prefix, 'error.log')} warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${join(prefix, 'client_body')};
  proxy_temp_path ${join(prefix, 'proxy')};
  fastcgi_temp_path ${join(prefix, 'fastcgi')};
  uwsgi_temp_path ${join(prefix, 'uwsgi')};
  scgi_temp_path ${join(prefix, 'scgi')};

  upstream discord_images {
${nodePorts.map((nodePort) => `    server 127.0.0.1:${nodePort};`).join('\n')}
    keepalive 32;
  }
  limit_conn_zone $binary_remote_addr zone=images_per_ip:10m;

  server {
    listen 127.0.0.1:${port};
    client_max_body_size 2010m;
    proxy_request_buffering off;
    limit_conn images_per_ip 128;

    proxy_http_version 1.1;
    proxy_set_header Connection "";
    proxy_set_header Host $host;
    proxy_set_header X-Forwarded-For $remote_addr;
    proxy_set_header X-Forwarded-Proto $scheme;
    proxy_set_header X-Forwarded-Host $host;
    proxy_connect_timeout 5s;
    proxy_send_timeout 120s;
    proxy_read_timeout 300s;
    proxy_next_upstream error timeout http_503;
    add_header X-Upstream $upstream_addr always;

    location / {
      proxy_pass http://discord_images;
    }
    location = /metrics {
      return 404;
    }
  }
}
`;
  const configPath = join(prefix, 'nginx.conf');
  await writeFile(configPath, config);
  // -e: the log written before the config is read (the default is under /var/log).
  const child = spawn(NGINX, ['-p', prefix, '-c', configPath, '-e', join(prefix, 'error.log')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let output = '';
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  defer(() => stopChild(child, 'SIGTERM'));
  try {
    await until(
      async () => child.exitCode === null && (await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(5_000) })).ok,
      10_000,
      'nginx',
    );
  } catch (error) {
    throw new Error(`${(error as Error).message} (exit code ${child.exitCode}):\n${output}`);
  }
}

async function stopChild(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill(signal);
  await exited;
}
