/**
 * SPEC.md "Scale" on real processes: three nodes (WORKERS=1 each) on one PostgreSQL database,
 * one S3 bucket and one Redis, behind nginx set up as docs/deployment.md recommends
 * (e2e/helpers/cluster.ts). Through nginx unless a check needs a given node: an upload is
 * everyone's at once, a delete is everyone's within 100 ms, a rate limit is one limit, a node
 * killed mid-upload loses no acknowledged upload, and a node started again takes traffic with
 * no one telling nginx.
 */
import { createHash, randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { randomBase62 } from '../server/src/domain/ids.js';
import { atFileEnd } from '../server/test/helpers/cleanup.js';
import { type Cluster, startCluster, UPSTREAM_HEADER } from './helpers/cluster.js';
import { register, type RunningServer, until } from './helpers/server.js';
import { listUploads, pngImage, postUpload, type Upload, upload } from './helpers/uploads.js';

/**
 * Wrong deletion links per address: the one limit kept low here. Cheap to meet (a sign-in
 * attempt costs a scrypt hash, seconds on a loaded machine), and it blocks nothing else this
 * file does (once met, wrong keys would block the address's every request with a key).
 */
const BAD_LINK_LIMIT = 4;
const UNLIMITED = '1000000/1m';
const [A, B, C] = [0, 1, 2] as const;

const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');
const randomColour = (): [number, number, number] => [...randomBytes(3)] as [number, number, number];

/** The same path on one node, bypassing nginx. */
const on = (node: RunningServer, publicUrl: string): string => `${node.url}${new URL(publicUrl).pathname}`;

async function get(url: string): Promise<{ status: number; bytes: Buffer; upstream: string | null }> {
  const response = await fetch(url);
  return { status: response.status, bytes: Buffer.from(await response.arrayBuffer()), upstream: response.headers.get(UPSTREAM_HEADER) };
}

describe('three nodes behind nginx on one database, bucket and Redis', () => {
  let cluster: Cluster;
  let token: string;
  const node = (index: number): RunningServer => cluster.nodes[index]!;

  beforeAll(async () => {
    cluster = await startCluster({
      nodes: 3,
      defer: atFileEnd,
      env: {
        RATE_LIMIT: 'on',
        RATE_LIMIT_BAD_LINK: `${BAD_LINK_LIMIT}/10m`,
        // Everything else this file does comes from one address and one account.
        RATE_LIMIT_IP: UNLIMITED,
        RATE_LIMIT_ACCOUNT: UNLIMITED,
        RATE_LIMIT_UPLOAD: UNLIMITED,
      },
    });
    // One account for every test: each registration costs a scrypt hash.
    token = await register(cluster.url);
  }, 120_000);

  it('lists and serves an upload made through node A from node B at once, byte for byte', async () => {
    const bytes = await pngImage(32, 32, randomColour());
    const [file] = await upload(node(A).url, token, [{ file: 'a.png', bytes }]);

    expect((await listUploads(node(B).url, token)).map((listed) => listed.id)).toContain(file!.id);
    const fromB = await get(on(node(B), file!.raw_url));
    expect(fromB.status).toBe(200);
    expect(sha256(fromB.bytes)).toBe(file!.sha256);
    expect(fromB.bytes.equals(bytes)).toBe(true);
    expect((await get(on(node(A), file!.raw_url))).bytes.equals(fromB.bytes)).toBe(true);
    // Its links name nginx, never a node: they work from there too.
    expect((await get(file!.raw_url)).bytes.equals(bytes)).toBe(true);
  });

  it('answers 410 on node B within 100 ms of a delete through node A, though B served the file', async () => {
    const [file] = await upload(node(A).url, token, [{ file: 'b.png', bytes: await pngImage(16, 16, randomColour()) }]);
    // Twice each: B knows the file and its thumbnail from memory, not only from the database.
    for (let i = 0; i < 2; i++) {
      expect((await get(on(node(B), file!.raw_url))).status).toBe(200);
      expect((await get(on(node(B), file!.thumbnail_url))).status).toBe(200);
    }
    const deleted = await fetch(`${node(A).url}/api/uploads/${file!.id}`, { method: 'DELETE', headers: { token } });
    expect(deleted.status).toBe(204);
    const start = performance.now();
    await until(async () => (await get(on(node(B), file!.raw_url))).status === 410, 1_000, `410 from node B for ${file!.id}`);
    const ms = performance.now() - start;
    process.stdout.write(`cluster: 410 on node B ${ms.toFixed(1)} ms after the delete on node A\n`);
    expect(ms).toBeLessThan(100);
    expect((await get(on(node(B), file!.thumbnail_url))).status).toBe(410);
  });

  it('meets 429 at the shared limit when nginx spreads the requests over the nodes', async () => {
    const answers: { status: number; upstream: string | null }[] = [];
    for (let i = 0; i < BAD_LINK_LIMIT + 2; i++) {
      const response = await fetch(`${cluster.url}/d/${randomBase62(10)}/${randomBase62(32)}`);
      await response.arrayBuffer();
      answers.push({ status: response.status, upstream: response.headers.get(UPSTREAM_HEADER) });
    }
    // Counted per node, the limit would allow BAD_LINK_LIMIT wrong links on each before the first 429.
    expect(answers.map((answer) => answer.status)).toEqual([...Array<number>(BAD_LINK_LIMIT).fill(404), 429, 429]);
    const allowedBy = new Set(answers.slice(0, BAD_LINK_LIMIT).map((answer) => answer.upstream));
    expect(allowedBy.size, `nodes that answered: ${[...allowedBy].join(' ')}`).toBeGreaterThan(1);
  });

  it('loses no acknowledged upload when a node is SIGKILLed during 50 concurrent uploads, and takes it back once restarted', async () => {
    const images = await Promise.all(Array.from({ length: 50 }, () => pngImage(128, 128, randomColour(), randomColour())));
    const sent = new Map(images.map((bytes) => [sha256(bytes), bytes]));

    // Node C dies as the first answer arrives: the other uploads are in flight on all three.
    let killed: Promise<void> | undefined;
    const failedAttempts: string[] = [];
    const uploadWithRetries = async (bytes: Buffer, index: number): Promise<Upload> => {
      for (let attempt = 1; attempt <= 3; attempt++) {
        let outcome: string;
        try {
          const response = await postUpload(cluster.url, token, [{ file: `${index}.png`, bytes }]);
          const text = await response.text();
          killed ??= cluster.kill(C);
          if (response.status === 201) return (JSON.parse(text) as { files: Upload[] }).files[0]!;
          outcome = `${response.status} from ${response.headers.get(UPSTREAM_HEADER)}`;
        } catch (error) {
          outcome = String(error);
        }
        failedAttempts.push(outcome);
      }
      throw new Error(`upload ${index} failed three times: ${failedAttempts.join('; ')}`);
    };
    const acknowledged = await Promise.all(images.map(uploadWithRetries));
    await killed;
    process.stdout.write(`cluster: ${failedAttempts.length} upload attempts failed with node C killed: ${failedAttempts.join('; ')}\n`);
    // Else node C was killed after its work was done, and this test would show nothing.
    expect(failedAttempts.length).toBeGreaterThan(0);

    // Through nginx, now only to A and B: every acknowledged upload is listed, and every listed
    // one (an attempt that failed may have committed before C died; the other tests' uploads of
    // this account too) is served, byte for byte as sent.
    const listed = await listUploads(cluster.url, token);
    const listedIds = new Set(listed.map((file) => file.id));
    expect(acknowledged.filter((file) => !listedIds.has(file.id))).toEqual([]);
    for (const file of listed) {
      const served = await get(file.raw_url);
      expect(served.status, `${file.raw_url} from ${served.upstream}`).toBe(200);
      expect(sha256(served.bytes), file.raw_url).toBe(file.sha256);
      if (sent.has(file.sha256)) expect(served.bytes.equals(sent.get(file.sha256)!), file.raw_url).toBe(true);
    }

    // Started again with the same settings: nginx tries it again by itself after fail_timeout
    // (10 s, its default), and it serves what was uploaded while it was away.
    const restarted = await cluster.restart(C);
    const start = performance.now();
    await until(
      async () => (await get(acknowledged[0]!.raw_url)).upstream === cluster.address(C),
      30_000,
      'nginx sending a request to the restarted node',
    );
    process.stdout.write(
      `cluster: nginx sent a request to the restarted node C ${(performance.now() - start).toFixed(0)} ms after it was ready\n`,
    );
    for (const file of acknowledged) {
      const served = await get(on(restarted, file.raw_url));
      expect(served.status).toBe(200);
      expect(served.bytes.equals(sent.get(file.sha256)!)).toBe(true);
    }
  }, 120_000);
});
