/**
 * Slow and greedy clients over a real socket (inject() never goes through the HTTP server):
 * header, body, total and keep-alive time are cut off, connections over a cap are refused,
 * and an upload cut off leaves nothing in tmp/. Timeouts are configured small so that the
 * tests run fast; each deadline below is several times the configured time, for a loaded
 * machine, and far below the defaults that applied before these limits existed.
 */
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { readdir } from 'node:fs/promises';
import { type AddressInfo, connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { until } from '../../../e2e/helpers/server.js';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { jpeg } from '../helpers/fixtures.js';
import { multipart } from '../helpers/multipart.js';
import sharp from 'sharp';

/** A PNG of random pixels: as large as its raw pixels, since nothing in them compresses. */
const randomPng = (width: number, height: number): Promise<Buffer> =>
  sharp(randomBytes(width * height * 3), { raw: { width, height, channels: 3 } })
    .png()
    .toBuffer();

interface Served {
  t: TestApp;
  port: number;
}

async function serve(env: Record<string, string>): Promise<Served> {
  const t = await createTestApp('sqlite', env);
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  return { t, port: (t.app.server.address() as AddressInfo).port };
}

interface Client {
  socket: Socket;
  /** Everything received so far. */
  text(): string;
  /** Resolves with everything received once the server closes the connection; rejects after `ms`. */
  closedWithin(ms: number): Promise<string>;
}

/** Every client socket, closed after each test whatever happened (an open one would hold app.close()). */
const sockets: Socket[] = [];
afterEach(() => {
  for (const socket of sockets.splice(0)) socket.destroy();
});

async function open(port: number): Promise<Client> {
  const socket = connect(port, '127.0.0.1');
  sockets.push(socket);
  let text = '';
  socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
  socket.on('error', () => undefined); // a reset after the server's answer is part of a cut-off
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  await once(socket, 'connect');
  return {
    socket,
    text: () => text,
    closedWithin: (ms) => {
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<never>(
        (_, reject) => (timer = setTimeout(() => reject(new Error(`still open after ${ms} ms; received: ${text}`)), ms)),
      );
      return Promise.race([closed.then(() => text), late]).finally(() => clearTimeout(timer));
    },
  };
}

/** Writes `bytes` one at a time, `everyMs` apart, until the socket closes or they run out. */
async function trickle(socket: Socket, bytes: string, everyMs: number): Promise<void> {
  for (const char of bytes) {
    if (socket.destroyed || !socket.writable) return;
    socket.write(char);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

const LOGIN = JSON.stringify({ username: 'nobody-here', password: 'a wrong password'.repeat(4) });
const loginHead = (length = Buffer.byteLength(LOGIN)) =>
  `POST /api/auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n\r\n`;

const expectError = (text: string, status: number, code: string) => {
  expect(text).toMatch(new RegExp(`^HTTP/1\\.1 ${status} `));
  const body = JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)) as Record<string, unknown>;
  expect(body).toMatchObject({ statusCode: status, code });
  expect(body.request_id).toEqual(expect.any(String));
};

describe('timeouts', () => {
  it('cuts off headers that take longer than HEADERS_TIMEOUT, however steadily they come', async () => {
    const { port } = await serve({ HEADERS_TIMEOUT: '1000', IDLE_TIMEOUT: '5000' });
    const client = await open(port);
    client.socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    void trickle(client.socket, 'X-Slow: ' + 'a'.repeat(200), 100);
    expectError(await client.closedWithin(8_000), 408, 'REQUEST_TIMEOUT');
  });

  it('cuts off a body that stops arriving for IDLE_TIMEOUT', async () => {
    const { port } = await serve({ IDLE_TIMEOUT: '1000' });
    const client = await open(port);
    client.socket.write(loginHead() + LOGIN.slice(0, 10));
    expectError(await client.closedWithin(8_000), 408, 'REQUEST_TIMEOUT');
  });

  it('cuts off a small body still trickling in after REQUEST_TIMEOUT, though it is never idle', async () => {
    const { port } = await serve({ REQUEST_TIMEOUT: '1500', IDLE_TIMEOUT: '5000' });
    const client = await open(port);
    client.socket.write(loginHead());
    void trickle(client.socket, LOGIN, 100);
    const started = Date.now();
    expectError(await client.closedWithin(10_000), 408, 'REQUEST_TIMEOUT');
    expect(Date.now() - started).toBeGreaterThanOrEqual(1400);
  });

  it('closes a keep-alive connection left idle for KEEP_ALIVE_TIMEOUT', async () => {
    const { port } = await serve({ KEEP_ALIVE_TIMEOUT: '1000' });
    const client = await open(port);
    client.socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    const text = await client.closedWithin(8_000);
    expect(text).toMatch(/^HTTP\/1\.1 200 /);
    expect(text).toMatch(/keep-alive/i);
  });

  it('lets an upload on a slow link take longer than REQUEST_TIMEOUT as long as it keeps BODY_MIN_RATE', async () => {
    const { t, port } = await serve({ REQUEST_TIMEOUT: '1000', BODY_MIN_RATE: '64KiB', IDLE_TIMEOUT: '2000' });
    const { token } = await t.newUser();
    const image = await jpeg(700, 450, 5);
    const body = await multipart([{ filename: 'slow.png', data: image }]);
    expect(body.payload.length).toBeGreaterThan(200_000);
    const client = await open(port);
    client.socket.write(
      `POST /api/upload HTTP/1.1\r\nHost: 127.0.0.1\r\nToken: ${token}\r\nContent-Type: ${body.headers['content-type']}\r\nContent-Length: ${body.payload.length}\r\nConnection: close\r\n\r\n`,
    );
    // 16 KiB every 150 ms: about 107 KiB/s, so the whole body takes about 2 s, twice REQUEST_TIMEOUT.
    const started = Date.now();
    for (let offset = 0; offset < body.payload.length; offset += 16 * 1024) {
      client.socket.write(body.payload.subarray(offset, offset + 16 * 1024));
      await new Promise((resolve) => setTimeout(resolve, 150));
    }
    expect(Date.now() - started).toBeGreaterThan(1000);
    const text = await client.closedWithin(15_000);
    expect(text, text).toMatch(/^HTTP\/1\.1 201 /);
  });
});

describe('an upload cut off', () => {
  const startUpload = async ({ t, port }: Served) => {
    const { token } = await t.newUser();
    const body = await multipart([{ filename: 'cut.png', data: await jpeg(700, 450, 6) }]);
    const client = await open(port);
    client.socket.write(
      `POST /api/upload HTTP/1.1\r\nHost: 127.0.0.1\r\nToken: ${token}\r\nContent-Type: ${body.headers['content-type']}\r\nContent-Length: ${body.payload.length}\r\n\r\n`,
    );
    client.socket.write(body.payload.subarray(0, 20_000));
    const tmp = join(t.config.dataDir, 'tmp');
    await until(async () => (await readdir(tmp)).length > 0, 10_000, 'the upload to reach tmp/');
    return { client, tmp };
  };

  it('by IDLE_TIMEOUT leaves nothing in tmp/', async () => {
    const served = await serve({ IDLE_TIMEOUT: '1000' });
    const { client, tmp } = await startUpload(served);
    expectError(await client.closedWithin(8_000), 408, 'REQUEST_TIMEOUT');
    await until(async () => (await readdir(tmp)).length === 0, 10_000, 'tmp/ to be empty');
  });

  it('by its client leaving leaves nothing in tmp/', async () => {
    const served = await serve({});
    const { client, tmp } = await startUpload(served);
    client.socket.destroy();
    await until(async () => (await readdir(tmp)).length === 0, 10_000, 'tmp/ to be empty');
  });
});

describe('connection caps', () => {
  const healthz = 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n';

  it('answers an Expect it cannot meet with a JSON 417 EXPECTATION_FAILED, and 100-continue as usual', async () => {
    const { port } = await serve({});
    const odd = await open(port);
    odd.socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nExpect: 200-ok\r\n\r\n');
    const text = await odd.closedWithin(8_000);
    expectError(text, 417, 'EXPECTATION_FAILED');
    expect(text).toMatch(/Expect: 200-ok/);
    const usual = await open(port);
    usual.socket.write(loginHead().replace('\r\n\r\n', '\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n'));
    await until(async () => usual.text().startsWith('HTTP/1.1 100 Continue'), 8_000, 'the 100 Continue');
    usual.socket.write(LOGIN);
    expectError((await usual.closedWithin(8_000)).replace(/^HTTP\/1\.1 100 Continue\r\n\r\n/, ''), 401, 'INVALID_CREDENTIALS');
  });

  it('answers the connection over MAX_CONNECTIONS_PER_IP with 429 and Retry-After, and takes one again once another closes', async () => {
    const { port } = await serve({ MAX_CONNECTIONS_PER_IP: '3' });
    const held = await Promise.all([open(port), open(port), open(port)]);
    const over = await open(port);
    over.socket.write(healthz);
    const text = await over.closedWithin(8_000);
    expectError(text, 429, 'TOO_MANY_CONNECTIONS');
    expect(text).toMatch(/\r\nretry-after: \d+\r\n/i);

    held[0].socket.destroy();
    await until(
      async () => {
        const again = await open(port);
        again.socket.end(healthz);
        return (await again.closedWithin(8_000)).startsWith('HTTP/1.1 200 ');
      },
      10_000,
      'a connection to be taken again',
    );
  });

  it('answers the connection over MAX_CONNECTIONS with 503; behind a proxy (TRUST_PROXY) only that cap counts', async () => {
    const { port } = await serve({ MAX_CONNECTIONS: '3', MAX_CONNECTIONS_PER_IP: '1', TRUST_PROXY: 'true' });
    const held = await Promise.all([open(port), open(port), open(port)]);
    // Three from one address were taken: the per-address cap does not apply to a proxy's connections.
    held[2].socket.write(healthz);
    await until(() => held[2].text().startsWith('HTTP/1.1 200 '), 8_000, 'the third connection to be answered');
    const over = await open(port);
    over.socket.write(healthz);
    const text = await over.closedWithin(8_000);
    expectError(text, 503, 'SERVICE_UNAVAILABLE');
    expect(text).toMatch(/\r\nretry-after: \d+\r\n/i);
  });
});

describe('clients that are not browsers', () => {
  it('answers a client that half-closes once its request is sent (the answer comes after the FIN: a password check)', async () => {
    const { port } = await serve({});
    const client = await open(port);
    client.socket.end(loginHead() + LOGIN);
    expectError(await client.closedWithin(15_000), 401, 'INVALID_CREDENTIALS');
  });

  it('finishes an answer already under way when the client stops short of the body it announced', async () => {
    // A GET that announces a body it never sends, then half-closes before reading: its answer
    // (an image far larger than the socket buffers) is still being sent when the server sees
    // the truncated request, and must not be cut off in the middle.
    const { t, port } = await serve({ MAX_FILE_SIZE: '64MiB' });
    const { token } = await t.newUser();
    const body = await multipart([{ filename: 'large.png', data: await randomPng(3000, 3000) }]);
    const uploaded = await t.app.inject({ method: 'POST', url: '/api/upload', headers: { ...body.headers, token }, payload: body.payload });
    const { raw_url: rawUrl } = uploaded.json<{ files: { raw_url: string }[] }>().files[0]!;
    const client = await open(port);
    client.socket.write(`GET ${new URL(rawUrl).pathname} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5\r\n\r\n`);
    await until(() => client.text().includes('\r\n\r\n'), 10_000);
    client.socket.pause();
    client.socket.end();
    await new Promise((resolve) => setTimeout(resolve, 300));
    client.socket.resume();
    const text = await client.closedWithin(15_000);
    expect(text).toMatch(/^HTTP\/1\.1 200 /);
    const length = Number(/content-length: (\d+)/i.exec(text)?.[1]);
    expect(length).toBeGreaterThan(20_000_000);
    expect(Buffer.byteLength(text.slice(text.indexOf('\r\n\r\n') + 4), 'latin1')).toBeGreaterThanOrEqual(length);
  });

  it('answers CONNECT with 405: this is not a proxy', async () => {
    const { port } = await serve({});
    const client = await open(port);
    client.socket.write('CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: 127.0.0.1:22\r\n\r\n');
    expectError(await client.closedWithin(8_000), 405, 'METHOD_NOT_ALLOWED');
  });
});
