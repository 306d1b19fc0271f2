/**
 * Every early answer reaches its client (issue 8, B4). A request refused before its body is
 * all read (a bad part in a multipart upload, a JSON body over the limit, a file over
 * MAX_FILE_SIZE) is answered at once; the server then reads and discards the rest of the body,
 * up to a bound, before it closes. Closing at once would reset the connection under a client
 * still sending, and the client would see a broken pipe instead of its answer.
 *
 * Three real clients over a real socket: curl (spawned), Node's fetch (undici) and Chromium.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { mkdtemp, open, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { connect } from 'node:net';
import { promisify } from 'node:util';
import type { Browser, Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LINGER } from '../server/src/http/lingering-close.js';
import { tempDir } from '../server/test/helpers/temp-dir.js';
import { launchChromium } from './helpers/chromium.js';
import { register, type RunningServer, startServer } from './helpers/server.js';

/** The largest a TCP socket buffer may grow to (Linux's min/default/max triple), 16 MiB if unknown. */
function kernelBufferMax(name: 'tcp_rmem' | 'tcp_wmem'): number {
  try {
    return Number(readFileSync(`/proc/sys/net/ipv4/${name}`, 'utf8').trim().split(/\s+/)[2]);
  } catch {
    return 16 * 1024 * 1024;
  }
}

const run = promisify(execFile);

const REQUESTS = 100;
/** Requests in flight at once per client: enough to load the server, few enough for 2 cores. */
const CONCURRENCY = 4;
const MAX_FILE_SIZE = 1024 * 1024;

interface Outcome {
  status: number | string;
  code?: string;
  message?: string;
}

/** Runs `count` calls of `one`, `CONCURRENCY` at a time, and tallies what came back. */
async function tally(count: number, one: () => Promise<Outcome>): Promise<Outcome[]> {
  const outcomes: Outcome[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < count) {
        next += 1;
        outcomes.push(await one().catch((error: unknown) => ({ status: `lost: ${String((error as Error).cause ?? error)}` })));
      }
    }),
  );
  return outcomes;
}

/**
 * `REQUESTS` requests from spawned curl: CONCURRENCY processes, each sending its share one after
 * another (URL globbing), each answer to its own file. A transfer that fails is counted lost.
 */
async function curlTimes(args: string[], url: string, outDir: string): Promise<Outcome[]> {
  const share = REQUESTS / CONCURRENCY;
  const runs = await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      const dir = await mkdtemp(join(outDir, 'curl-'));
      const { stdout } = await run('curl', [
        '-sS',
        '-w',
        '%{http_code} %{exitcode}\n',
        '-o',
        join(dir, '#1.json'),
        ...args,
        `${url}?n=[1-${share}]`,
      ]).catch((error: { stdout: string }) => ({ stdout: error.stdout }));
      const lines = stdout.trim().split('\n');
      return Promise.all(
        Array.from({ length: share }, async (_, i): Promise<Outcome> => {
          const [status, exit] = (lines[i] ?? 'none missing').split(' ');
          if (exit !== '0') return { status: `lost: curl exit ${exit}` };
          return parse(Number(status), await readFile(join(dir, `${i + 1}.json`), 'utf8'));
        }),
      );
    }),
  );
  return runs.flat();
}

const parse = (status: number, text: string): Outcome => {
  try {
    const body = JSON.parse(text) as { code?: string; message?: string };
    return { status, code: body.code, message: body.message };
  } catch {
    return { status: `${status} without JSON: ${text.slice(0, 80)}` };
  }
};

/** Outcomes that are not the expected error, grouped: an empty object when all 100 were answered. */
function misses(outcomes: Outcome[], status: number, code: string, message?: string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const outcome of outcomes) {
    if (outcome.status === status && outcome.code === code && (message === undefined || outcome.message?.includes(message))) continue;
    const key = String(outcome.status);
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

// 100 requests per client on a shared, loaded machine: minutes' worth of margin, not seconds.
describe('answers sent before the body is read reach the client', { timeout: 120_000 }, () => {
  let server: RunningServer;
  let dataDir: string;
  let token: string;
  let browser: Browser;
  let page: Page;
  /** A noisy PNG of about 270 KB: the client is still sending it when an earlier part is refused. */
  let image: Buffer;
  const notImage = Buffer.from('these are my notes, not an image\n'.repeat(20));

  // startServer waits up to 60 s for a server starting on a loaded machine: the hook waits longer.
  beforeAll(async () => {
    dataDir = await tempDir();
    [server, browser, image] = await Promise.all([
      startServer({ DATA_DIR: dataDir, MAX_FILE_SIZE: String(MAX_FILE_SIZE) }),
      launchChromium(),
      sharp(randomBytes(300 * 300 * 3), { raw: { width: 300, height: 300, channels: 3 } })
        .png({ compressionLevel: 1 })
        .toBuffer(),
    ]);
    token = await register(server.url);
    page = await browser.newPage();
    // Same origin as the API, so the page's fetch needs no CORS.
    await page.goto(`${server.url}/healthz`);
    await writeFile(join(dataDir, 'image.png'), image);
    await writeFile(join(dataDir, 'notes.txt'), notImage);
  }, 90_000);
  afterAll(async () => {
    await browser?.close();
    await server?.stop('SIGKILL');
  });

  const POSITIONS = [
    { label: 'first', parts: ['notes.txt', 'image.png', 'image.png'] },
    { label: 'in the middle', parts: ['image.png', 'notes.txt', 'image.png'] },
    { label: 'last', parts: ['image.png', 'image.png', 'notes.txt'] },
  ];

  describe.each(POSITIONS)('a multipart upload whose bad part comes $label', ({ parts }) => {
    const bad = `files[${parts.indexOf('notes.txt')}] (notes.txt)`;

    it(`is answered 415 to curl, ${REQUESTS} times out of ${REQUESTS}`, async () => {
      const form = parts.flatMap((name) => ['-F', `files[]=@${join(dataDir, name)}`]);
      const outcomes = await curlTimes(['-H', `token: ${token}`, ...form], `${server.url}/api/upload`, dataDir);
      expect(misses(outcomes, 415, 'UNSUPPORTED_MEDIA_TYPE', bad)).toEqual({});
      expect(await readdir(join(dataDir, 'tmp'))).toEqual([]);
    });

    it(`is answered 415 to Node's fetch, ${REQUESTS} times out of ${REQUESTS}`, async () => {
      const outcomes = await tally(REQUESTS, async () => {
        const body = new FormData();
        for (const name of parts) body.append('files[]', new Blob([new Uint8Array(name === 'notes.txt' ? notImage : image)]), name);
        const response = await fetch(`${server.url}/api/upload`, { method: 'POST', headers: { token }, body });
        return parse(response.status, await response.text());
      });
      expect(misses(outcomes, 415, 'UNSUPPORTED_MEDIA_TYPE', bad)).toEqual({});
      expect(await readdir(join(dataDir, 'tmp'))).toEqual([]);
    });

    it(`is answered 415 to Chromium's fetch, ${REQUESTS} times out of ${REQUESTS}`, async () => {
      const outcomes = await page.evaluate(
        async ({ parts, token, image, notImage, count, concurrency }) => {
          const bytes = (base64: string) => Uint8Array.from(atob(base64), (char) => char.charCodeAt(0));
          const blobs: Record<string, Blob> = { 'image.png': new Blob([bytes(image)]), 'notes.txt': new Blob([bytes(notImage)]) };
          const results: { status: number | string; code?: string; message?: string }[] = [];
          let next = 0;
          await Promise.all(
            Array.from({ length: concurrency }, async () => {
              while (next < count) {
                next += 1;
                const body = new FormData();
                for (const name of parts) body.append('files[]', blobs[name]!, name);
                try {
                  const response = await fetch('/api/upload', { method: 'POST', headers: { token }, body });
                  const text = await response.text();
                  try {
                    results.push({ status: response.status, ...(JSON.parse(text) as { code?: string; message?: string }) });
                  } catch {
                    results.push({ status: `${response.status} without JSON` });
                  }
                } catch (error) {
                  results.push({ status: `lost: ${String(error)}` });
                }
              }
            }),
          );
          return results;
        },
        { parts, token, image: image.toString('base64'), notImage: notImage.toString('base64'), count: REQUESTS, concurrency: CONCURRENCY },
      );
      expect(misses(outcomes, 415, 'UNSUPPORTED_MEDIA_TYPE', bad)).toEqual({});
      expect(await readdir(join(dataDir, 'tmp'))).toEqual([]);
    });
  });

  describe('a JSON body over the 64 KiB limit', () => {
    const body = JSON.stringify({ username: 'someone', password: 'x'.repeat(128 * 1024) });
    const path = '/api/auth/login';

    it(`is answered 413 to curl, ${REQUESTS} times out of ${REQUESTS}`, async () => {
      await writeFile(join(dataDir, 'big.json'), body);
      const outcomes = await curlTimes(
        ['-H', 'content-type: application/json', '--data-binary', `@${join(dataDir, 'big.json')}`],
        `${server.url}${path}`,
        dataDir,
      );
      expect(misses(outcomes, 413, 'PAYLOAD_TOO_LARGE')).toEqual({});
    });

    it(`is answered 413 to Node's fetch, ${REQUESTS} times out of ${REQUESTS}`, async () => {
      const outcomes = await tally(REQUESTS, async () => {
        const response = await fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
        return parse(response.status, await response.text());
      });
      expect(misses(outcomes, 413, 'PAYLOAD_TOO_LARGE')).toEqual({});
    });

    it(`is answered 413 to Chromium's fetch, ${REQUESTS} times out of ${REQUESTS}`, async () => {
      const outcomes = await page.evaluate(
        async ({ body, path, count, concurrency }) => {
          const results: { status: number | string; code?: string }[] = [];
          let next = 0;
          await Promise.all(
            Array.from({ length: concurrency }, async () => {
              while (next < count) {
                next += 1;
                try {
                  const response = await fetch(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
                  results.push({ status: response.status, ...(JSON.parse(await response.text()) as { code?: string }) });
                } catch (error) {
                  results.push({ status: `lost: ${String(error)}` });
                }
              }
            }),
          );
          return results;
        },
        { body, path, count: REQUESTS, concurrency: CONCURRENCY },
      );
      expect(misses(outcomes, 413, 'PAYLOAD_TOO_LARGE')).toEqual({});
    });
  });

  describe('a 200 MiB file against a 1 MiB MAX_FILE_SIZE', () => {
    const SIZE = 200 * 1024 * 1024;
    /**
     * Bytes the client wrote that the server never read: the kernel's socket buffers, the
     * server's receive side (up to tcp_rmem's maximum, 32 MiB here) and the client's send side
     * (tcp_wmem's). Still far below the 200 MiB that reading the whole body would take.
     */
    const SLACK = kernelBufferMax('tcp_rmem') + kernelBufferMax('tcp_wmem');

    it('is refused 413 to curl as soon as the limit is passed, and curl stops sending', async () => {
      // A sparse file: 200 MiB on the wire, nothing on disk.
      const path = join(dataDir, 'huge.png');
      const handle = await open(path, 'w');
      await handle.write(image.subarray(0, 64));
      await handle.truncate(SIZE);
      await handle.close();
      // curl reports how much of the body it sent before the answer stopped it.
      const { stdout } = await run('curl', [
        '-sS',
        '-w',
        '\n%{http_code} %{size_upload}',
        '-H',
        `token: ${token}`,
        '-F',
        `files[]=@${path}`,
        `${server.url}/api/upload`,
      ]);
      const end = stdout.lastIndexOf('\n');
      const [status, uploaded] = stdout
        .slice(end + 1)
        .split(' ')
        .map(Number) as [number, number];
      expect(parse(status, stdout.slice(0, end))).toMatchObject({ status: 413, code: 'PAYLOAD_TOO_LARGE' });
      expect(uploaded).toBeLessThan(MAX_FILE_SIZE + LINGER.bytes + SLACK);
      // The refused part left nothing behind.
      expect(await readdir(join(dataDir, 'tmp'))).toEqual([]);
    });

    /**
     * A client that never stops on its own: sends the upload as fast as the server takes it
     * (or, once answered, `trickle` bytes every 50 ms) and reads whatever comes back.
     */
    async function pushUntilCut(
      trickle?: number,
      key: string | null = token,
    ): Promise<{ answer: string; accepted: number; lingered: number }> {
      const boundary = 'xLINGERx';
      const partHead = `--${boundary}\r\nContent-Disposition: form-data; name="files[]"; filename="huge.png"\r\nContent-Type: image/png\r\n\r\n`;
      // Half-open allowed: the server's FIN (sent with its answer) must not stop this client.
      const socket = connect({ port: server.port, host: '127.0.0.1', allowHalfOpen: true });
      await once(socket, 'connect');
      let answer = '';
      let answeredAt = 0;
      socket.on('data', (chunk: Buffer) => {
        answer += chunk.toString('latin1');
        answeredAt ||= Date.now();
      });
      socket.on('error', () => {});
      // Resolved, never rejected: the server cutting this client off is what the test is after.
      const closed = new Promise((resolve) => socket.once('close', resolve));
      let accepted = 0;
      const send = (bytes: Buffer) => socket.write(bytes, (error) => (accepted += error ? 0 : bytes.length));
      send(
        Buffer.from(
          `POST /api/upload HTTP/1.1\r\nHost: 127.0.0.1\r\n${key === null ? '' : `token: ${key}\r\n`}Content-Type: multipart/form-data; boundary=${boundary}\r\nContent-Length: ${partHead.length + SIZE}\r\n\r\n${partHead}`,
        ),
      );
      const chunk = Buffer.alloc(64 * 1024);
      const deadline = Date.now() + 30_000;
      for (let sent = 0; sent < SIZE && !socket.destroyed && Date.now() < deadline; sent += chunk.length) {
        const slowly = trickle !== undefined && answeredAt > 0;
        if (!send(slowly ? chunk.subarray(0, trickle) : chunk))
          await Promise.race([new Promise((resolve) => socket.once('drain', resolve)), closed]);
        if (slowly) await Promise.race([new Promise((resolve) => setTimeout(resolve, 50)), closed]);
        // Read as it sends, like curl: while the kernel's buffers take every write at once, a
        // loop that never yields would not read the answer before the server's reset destroys it.
        else await new Promise(setImmediate);
      }
      socket.destroy();
      await closed;
      return { answer, accepted, lingered: Date.now() - answeredAt };
    }

    it('is answered 413 to a client that keeps sending, and the server stops reading after LINGER.bytes more', async () => {
      const { answer, accepted } = await pushUntilCut();
      expect(answer).toMatch(/^HTTP\/1\.1 413 [^]*\r\nconnection: close\r\n[^]*"code":"PAYLOAD_TOO_LARGE"/i);
      expect(accepted).toBeGreaterThan(MAX_FILE_SIZE);
      expect(accepted).toBeLessThan(MAX_FILE_SIZE + LINGER.bytes + SLACK);
    });

    it('is answered 401 before its body is read, and the server still stops reading after LINGER.bytes more', async () => {
      // Refused in a hook, before anything reads the body: Node then discards the body itself,
      // and the request emits no more data, so the bound must be counted on the socket.
      const { answer, accepted } = await pushUntilCut(undefined, null);
      expect(answer).toMatch(/^HTTP\/1\.1 401 [^]*\r\nconnection: close\r\n[^]*"code":"UNAUTHORIZED"/i);
      expect(accepted).toBeLessThan(LINGER.bytes + SLACK);
    });

    it('is cut off LINGER.ms after the answer when the client only trickles', async () => {
      const { answer, lingered } = await pushUntilCut(1024);
      expect(answer).toMatch(/^HTTP\/1\.1 413 /);
      expect(lingered).toBeGreaterThanOrEqual(LINGER.ms - 500);
      expect(lingered).toBeLessThan(LINGER.ms + 10_000);
    });
  });
});
