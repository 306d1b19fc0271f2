/**
 * REDIS_URL across nodes: two real server processes on one PostgreSQL database, one data
 * directory (the shared storage a cluster has) and one Redis. Deletions reach the other node at
 * once, rate limits count the requests of both, and a Redis that goes away and comes back costs
 * no request: limits fall back to each node's memory, and the deletion bus resumes by itself.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { atFileEnd } from '../server/test/helpers/cleanup.js';
import { freshPostgresDatabase } from '../server/test/helpers/database.js';
import { tempDir } from '../server/test/helpers/temp-dir.js';
import { freePort, register, type RunningServer, startServer, until } from './helpers/server.js';
import { pngImage, type Upload, upload } from './helpers/uploads.js';

/** The machine's Redis (CI's too); TEST_REDIS_URL points elsewhere. */
const SHARED_REDIS = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const hasRedisServer = spawnSync('redis-server', ['--version']).status === 0;

/** Two nodes on one database, one data directory and one Redis, under a key prefix of their own. */
async function startNodes(redisUrl: string, env: Record<string, string> = {}): Promise<[RunningServer, RunningServer]> {
  const shared = {
    DATABASE_URL: await freshPostgresDatabase('redis'),
    DATA_DIR: await tempDir('di-redis-'),
    REDIS_URL: redisUrl,
    REDIS_PREFIX: `test-${randomBytes(6).toString('hex')}:`,
    ...env,
  };
  // One after the other: the first migrates the new database.
  const a = await startServer(shared);
  atFileEnd(() => a.stop('SIGKILL'));
  const b = await startServer(shared);
  atFileEnd(() => b.stop('SIGKILL'));
  return [a, b];
}

const rawOn = (node: RunningServer, file: Upload): string => `${node.url}${new URL(file.raw_url).pathname}`;

async function uploadOne(node: RunningServer, token: string): Promise<Upload> {
  const [file] = await upload(node.url, token, [{ file: 'a.png', bytes: await pngImage(8, 8, [randomByte(), randomByte(), 0]) }]);
  return file!;
}
const randomByte = () => randomBytes(1)[0]!;

const thumbnailOn = (node: RunningServer, file: Upload): string => `${node.url}${new URL(file.thumbnail_url).pathname}`;

/** Has `node` serve the file and its thumbnail twice, so it knows them (metadata and bytes) from memory. */
async function servedBy(node: RunningServer, file: Upload): Promise<void> {
  for (let i = 0; i < 2; i++) {
    expect((await fetch(rawOn(node, file))).status).toBe(200);
    expect((await fetch(thumbnailOn(node, file))).status).toBe(200);
  }
}

/** Milliseconds until `node` answers 410 for the file; throws when it still serves it after a second. */
async function msUntilGone(node: RunningServer, file: Upload): Promise<number> {
  const start = performance.now();
  await until(async () => (await fetch(rawOn(node, file))).status === 410, 1_000, `410 for ${file.id} on ${node.url}`);
  return performance.now() - start;
}

async function readiness(node: RunningServer): Promise<{ status: string; redis?: string }> {
  const response = await fetch(`${node.url}/readyz`);
  expect(response.status).toBe(200);
  return (await response.json()) as { status: string; redis?: string };
}

async function login(node: RunningServer, username: string): Promise<number> {
  const response = await fetch(`${node.url}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password: 'wrong password, on purpose' }),
  });
  await response.arrayBuffer();
  return response.status;
}

describe('two nodes sharing Redis', () => {
  let a: RunningServer;
  let b: RunningServer;
  let adminToken: string;

  beforeAll(async () => {
    [a, b] = await startNodes(SHARED_REDIS, { RATE_LIMIT: 'on', RATE_LIMIT_LOGIN: '4/1m' });
    // The first account is the admin, whatever order the tests run in.
    adminToken = await register(a.url);
  });

  it('reports Redis on /readyz', async () => {
    await until(async () => (await readiness(a)).redis === 'ready' && (await readiness(b)).redis === 'ready', 10_000, 'Redis ready');
  });

  it('answers 410 on node B within 100 ms of a delete through node A', async () => {
    const token = await register(a.url);
    const file = await uploadOne(a, token);
    await servedBy(b, file);
    const deleted = await fetch(`${a.url}/api/uploads/${file.id}`, { method: 'DELETE', headers: { token } });
    expect(deleted.status).toBe(204);
    const ms = await msUntilGone(b, file);
    process.stdout.write(`410 on the other node ${ms.toFixed(1)} ms after the delete\n`);
    expect(ms).toBeLessThan(100);
    expect((await fetch(thumbnailOn(b, file))).status).toBe(410);
  });

  it('answers 410 on node B at once for the uploads of an account an admin deleted through node A', async () => {
    const token = await register(a.url);
    const file = await uploadOne(a, token);
    await servedBy(b, file);
    const me = (await (await fetch(`${a.url}/api/me`, { headers: { token } })).json()) as { id: string };
    const deleted = await fetch(`${a.url}/api/admin/users/${me.id}`, { method: 'DELETE', headers: { token: adminToken } });
    expect(deleted.status).toBe(204);
    expect(await msUntilGone(b, file)).toBeLessThan(100);
  });

  it('counts a rate limit over the requests sent to either node', async () => {
    const username = `limit${randomBytes(4).toString('hex')}`;
    const statuses: number[] = [];
    // RATE_LIMIT_LOGIN=4/1m: four attempts from this address in all, whichever node gets them.
    for (let i = 0; i < 6; i++) statuses.push(await login(i % 2 === 0 ? a : b, username));
    expect(statuses).toEqual([401, 401, 401, 401, 429, 429]);
  });
});

describe.skipIf(!hasRedisServer)('when Redis goes away and comes back', () => {
  let redisPort: number;
  let redis: ChildProcess;
  let a: RunningServer;
  let b: RunningServer;

  const startRedis = async (): Promise<ChildProcess> => {
    const child = spawn('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
      stdio: 'ignore',
    });
    atFileEnd(() => child.exitCode === null && child.kill('SIGKILL'));
    await until(
      () =>
        spawnSync('redis-cli', ['-p', String(redisPort), 'ping'])
          .stdout?.toString()
          .trim() === 'PONG',
      10_000,
      'redis-server',
    );
    return child;
  };

  beforeAll(async () => {
    redisPort = await freePort();
    redis = await startRedis();
    [a, b] = await startNodes(`redis://127.0.0.1:${redisPort}`, { RATE_LIMIT: 'on', RATE_LIMIT_LOGIN: '3/1m' });
  });

  it('keeps serving with limits of its own, logs the outage once, and shares deletions again once Redis is back', async () => {
    const token = await register(a.url);
    await until(async () => (await readiness(a)).redis === 'ready' && (await readiness(b)).redis === 'ready', 10_000, 'Redis ready');

    redis.kill('SIGKILL');
    await once(redis, 'exit');
    await until(
      async () => (await readiness(a)).redis === 'unavailable' && (await readiness(b)).redis === 'unavailable',
      10_000,
      'Redis reported unavailable',
    );

    // Nothing fails for want of Redis: uploads, reads, deletes (410 on the node that deleted).
    const during = await uploadOne(a, token);
    await servedBy(b, during);
    expect((await fetch(`${a.url}/api/uploads/${during.id}`, { method: 'DELETE', headers: { token } })).status).toBe(204);
    expect((await fetch(rawOn(a, during))).status).toBe(410);
    // Limits fall back to each node's memory: three attempts on each, then 429, never a 5xx.
    const username = `outage${randomBytes(4).toString('hex')}`;
    for (const node of [a, b]) {
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++) statuses.push(await login(node, username));
      expect(statuses).toEqual([401, 401, 401, 429]);
    }

    redis = await startRedis();
    await until(async () => (await readiness(a)).redis === 'ready' && (await readiness(b)).redis === 'ready', 10_000, 'Redis back');
    const after = await uploadOne(a, token);
    await servedBy(b, after);
    expect((await fetch(`${a.url}/api/uploads/${after.id}`, { method: 'DELETE', headers: { token } })).status).toBe(204);
    expect(await msUntilGone(b, after)).toBeLessThan(100);
    // The node that missed the delete made during the outage no longer serves it either.
    expect((await fetch(rawOn(b, during))).status).toBe(410);

    for (const node of [a, b]) {
      // Every answer above was checked; this catches any other request that failed on the way.
      expect(node.output()).not.toContain('unhandled error');
      expect(node.output().match(/Redis cannot be reached/g)).toHaveLength(1);
    }
  });
});
