/**
 * docs/deployment.md's Caddy block, run: Debian's Caddy with that very block (its site address
 * and nodes replaced by this machine's, TLS left out) in front of a real server with
 * TRUST_PROXY=true. An upload goes through whole, `/metrics` stays private, a client cannot
 * pick its own address past the rate limits, and a node that cannot be reached is passed over.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { randomBase62 } from '../server/src/domain/ids.js';
import { atFileEnd } from '../server/test/helpers/cleanup.js';
import { fencedBlocks } from '../server/test/helpers/markdown.js';
import { tempDir } from '../server/test/helpers/temp-dir.js';
import { freePort, register, ROOT, type RunningServer, startServer, until } from './helpers/server.js';
import { upload } from './helpers/uploads.js';

const CADDY = '/usr/bin/caddy';
const METRICS_TOKEN = 'caddy-e2e-metrics-token-0123456789abcdef';
const BAD_LINK_LIMIT = 3;

const guideBlock = (): string => {
  const [block] = fencedBlocks(readFileSync(join(ROOT, 'docs', 'deployment.md'), 'utf8'), 'caddyfile');
  if (block === undefined) throw new Error('docs/deployment.md has no caddyfile block');
  return block;
};

/**
 * The guide's block for this machine: plain HTTP on `port` (an `http://` address turns Caddy's
 * certificates off), `nodes` for the guide's two example nodes, and no admin endpoint (its
 * fixed port 2019 would clash with another Caddy).
 */
function caddyfileFor(block: string, port: number, nodes: string[]): string {
  const site = block.replace(/^img\.example\.com \{/m, `http://127.0.0.1:${port} {`);
  const proxied = site.replace(/reverse_proxy 10\.0\.0\.11:3000 10\.0\.0\.12:3000/, `reverse_proxy ${nodes.join(' ')}`);
  if (proxied === site || site === block) throw new Error('the Caddy block no longer has the site address or nodes this test replaces');
  return `{\n\tadmin off\n}\n\n${proxied}`;
}

/** Caddy in the foreground with `caddyfile`; what it wrote, for a failure's message. */
async function startCaddy(caddyfile: string): Promise<{ output: () => string }> {
  const dir = await tempDir('di-caddy-');
  const config = join(dir, 'Caddyfile');
  await writeFile(config, caddyfile);
  // Caddy keeps its state under HOME (XDG dirs): a temp dir, not the machine's.
  const child = spawn(CADDY, ['run', '--config', config, '--adapter', 'caddyfile'], {
    env: { PATH: process.env.PATH, HOME: dir, XDG_DATA_HOME: dir, XDG_CONFIG_HOME: dir },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let output = '';
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = once(child, 'exit');
  atFileEnd(async () => {
    if (child.exitCode === null) child.kill('SIGKILL');
    await exited;
  });
  return { output: () => output };
}

describe('the Caddy configuration of docs/deployment.md', () => {
  let server: RunningServer;
  let url: string;

  beforeAll(async () => {
    expect(existsSync(CADDY), `${CADDY} is missing: apt-get install -y caddy (Debian's package)`).toBe(true);
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    server = await startServer({
      DATA_DIR: await tempDir(),
      PUBLIC_URL: url,
      TRUST_PROXY: 'true',
      METRICS_TOKEN,
      RATE_LIMIT: 'on',
      RATE_LIMIT_BAD_LINK: `${BAD_LINK_LIMIT}/10m`,
    });
    atFileEnd(() => server.stop());
    // The second node is a port where nothing listens: a node that is down.
    const down = `127.0.0.1:${await freePort()}`;
    const caddy = await startCaddy(caddyfileFor(guideBlock(), port, [`127.0.0.1:${server.port}`, down]));
    await until(async () => (await fetch(`${url}/healthz`)).ok, 20_000, `caddy on ${url}`).catch((error: Error) => {
      throw new Error(`${error.message}\n${caddy.output()}`);
    });
  }, 120_000);

  it('passes over the node that cannot be reached: every request is answered by the other', async () => {
    const statuses = [];
    for (let i = 0; i < 10; i++) statuses.push((await fetch(`${url}/healthz`, { headers: { connection: 'close' } })).status);
    expect(statuses).toEqual(Array<number>(10).fill(200));
  });

  it('lets a 2 MB upload through whole, and serves it back byte for byte', async () => {
    const token = await register(url);
    // Noise does not compress: the PNG is as large as its pixels.
    const bytes = await sharp(randomBytes(900 * 900 * 3), { raw: { width: 900, height: 900, channels: 3 } })
      .png()
      .toBuffer();
    expect(bytes.length).toBeGreaterThan(2_000_000);
    const [stored] = await upload(url, token, [{ file: 'big.png', bytes }]);
    expect(stored!.raw_url.startsWith(`${url}/`)).toBe(true);
    const raw = await fetch(stored!.raw_url);
    expect(raw.status).toBe(200);
    expect(Buffer.from(await raw.arrayBuffer()).equals(bytes)).toBe(true);
  });

  it('answers 404 on /metrics, the token notwithstanding, which the node itself serves', async () => {
    const authorization = `Bearer ${METRICS_TOKEN}`;
    expect((await fetch(`${server.url}/metrics`, { headers: { authorization } })).status).toBe(200);
    const proxied = await fetch(`${url}/metrics`, { headers: { authorization } });
    expect(proxied.status).toBe(404);
    expect(await proxied.text()).not.toMatch(/http_request_duration_seconds/);
  });

  it('replaces the X-Forwarded-For a client sends, so a made-up address does not escape a rate limit', async () => {
    const statuses = [];
    for (let i = 0; i <= BAD_LINK_LIMIT; i++) {
      const response = await fetch(`${url}/d/${randomBase62(10)}/${randomBase62(32)}`, {
        headers: { 'x-forwarded-for': `203.0.113.${i + 1}` },
      });
      statuses.push(response.status);
      await response.arrayBuffer();
    }
    expect(statuses).toEqual([...Array<number>(BAD_LINK_LIMIT).fill(404), 429]);
  });
});
