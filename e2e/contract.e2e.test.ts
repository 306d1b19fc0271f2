/**
 * The contract check in the e2e suites (helpers/server.ts, helpers/contract-recorder.js): the
 * real server writes down every response it sends, whichever client asked and whichever way it
 * was answered (a route, Fastify's 404, the raw-file fast path), and what it writes down is
 * judged, failing the test when the spec does not allow it.
 */
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recentResponses, takeViolations } from '../server/test/helpers/contract-check.js';
import { tempDir } from '../server/test/helpers/temp-dir.js';
import { exchange } from './helpers/raw-http.js';
import { register, type RunningServer, startServer, until } from './helpers/server.js';
import { pngImage, upload } from './helpers/uploads.js';

describe('the contract check of a real server', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer({ DATA_DIR: await tempDir() });
  }, 120_000);
  afterAll(async () => {
    await server?.stop('SIGKILL');
  });

  const seen = (url: string) => recentResponses().filter((response) => response.url === url);

  it('sees what fetch and a bare socket receive, with the route that answered', async () => {
    const nonce = Math.random().toString(36).slice(2);
    expect((await fetch(`${server.url}/healthz?n=${nonce}`)).status).toBe(200);
    expect(seen(`/healthz?n=${nonce}`)).toEqual([
      {
        method: 'GET',
        url: `/healthz?n=${nonce}`,
        route: '/healthz',
        status: 200,
        contentType: 'application/json; charset=utf-8',
        bodyLength: 15,
        body: '{"status":"ok"}',
      },
    ]);

    const { responses } = await exchange(
      server.port,
      Buffer.from(`GET /api/nothing-${nonce} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`),
    );
    expect(responses.map((response) => response.status)).toEqual([404]);
    const [notFound] = seen(`/api/nothing-${nonce}`);
    expect(notFound).toMatchObject({ method: 'GET', status: 404, contentType: 'application/json; charset=utf-8' });
    expect(notFound!.route).toBeUndefined();
    expect(JSON.parse(notFound!.body!)).toMatchObject({ code: 'NOT_FOUND', request_id: responses[0]!.headers['x-request-id'] });
  });

  it('sees the answers of the raw-file fast path, which no Fastify hook sees', async () => {
    const token = await register(server.url);
    const [file] = await upload(server.url, token, [{ file: 'shot.png', bytes: await pngImage(16, 16, [10, 200, 30]) }]);
    const path = new URL(file!.raw_url).pathname;
    // The first read puts the file in memory; a later one is answered before Fastify.
    await until(async () => {
      await (await fetch(file!.raw_url)).arrayBuffer();
      return seen(path).some((response) => response.route === undefined);
    });
    expect(seen(path).find((response) => response.route === undefined)).toMatchObject({
      method: 'GET',
      status: 200,
      contentType: 'image/png',
    });
    expect(seen(path).some((response) => response.route === '/i/:file')).toBe(true);
  });

  it('fails the test when what the server wrote down breaks the spec', () => {
    expect(server.contractRecords).toBeDefined();
    // Written where the server's processes write theirs: the same reading and judging follows.
    const record = {
      method: 'GET',
      url: '/api/me',
      route: '/api/me',
      hidden: false,
      status: 202,
      contentType: 'text/plain',
      bodyLength: 3,
      body: 'tea',
    };
    appendFileSync(join(server.contractRecords!, 'fabricated.jsonl'), `${JSON.stringify(record)}\n`);
    expect(takeViolations()).toEqual([
      expect.stringMatching(/GET \/api\/me \(route \/api\/me\) -> 202 text\/plain: status 202 is not documented for GET \/api\/me/),
    ]);
  });
});
