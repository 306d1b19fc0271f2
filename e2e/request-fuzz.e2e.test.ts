/**
 * No request takes the service down or holds it: thousands of malformed requests to every
 * route, over real sockets to the real server, each answered with a 4xx
 * within a bound, and the server alive throughout. The inputs come from a seeded PRNG: the
 * seed is printed, and FUZZ_SEED=<seed> replays a run.
 */
import { randomInt } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp } from '../server/test/helpers/app.js';
import { png } from '../server/test/helpers/fixtures.js';
import { tempDir } from '../server/test/helpers/temp-dir.js';
import { exchange, type RawExchange } from './helpers/raw-http.js';
import {
  type FuzzCase,
  type FuzzRoute,
  type FuzzTarget,
  fuzzCase,
  fuzzJsonBody,
  type Random,
  seededRandom,
} from './helpers/request-fuzz.js';
import { register, type RunningServer, startServer } from './helpers/server.js';

const SEED = Number(process.env.FUZZ_SEED ?? randomInt(2 ** 31));
const REPLAY = `seed ${SEED}: replay with FUZZ_SEED=${SEED} npx vitest run e2e/request-fuzz.e2e.test.ts`;
/** Generous for a loaded 2-core machine; a request that is neither answered nor closed by then hangs. */
const ANSWER_WITHIN_MS = 10_000;
const CONCURRENCY = 8;
/**
 * The main fuzz sends this many requests, or stops starting new ones when its time budget runs
 * out, so the file stays well under a minute (an idle machine sends them all in a few seconds).
 */
const REQUESTS = 3_000;
const BUDGET_MS = 20_000;
/** Even on a loaded machine (load 26 on 2 cores: 2,247 in 15 s), far fewer means requests are slow to end. */
const MIN_REQUESTS = 1_000;

const BROKEN_URLS = ['/%ff', '/%', '/i/%ff.png', '/t/%ff.webp', '/api/uploads/%ff', '/d/%ff/%ff'];

/** Every route the app registers, HEAD ones included, as buildApp reports them. */
async function registeredRoutes(): Promise<FuzzRoute[]> {
  const routes: FuzzRoute[] = [];
  await createTestApp(
    'sqlite',
    {},
    {
      onRoute: (route) => {
        for (const method of [route.method].flat()) routes.push({ method, url: route.url });
      },
    },
  );
  return routes;
}

/** A key, an upload and its deletion secret on `server`, so requests get past auth and lookups. */
async function targetOn(server: RunningServer): Promise<FuzzTarget> {
  const token = await register(server.url);
  const form = new FormData();
  form.append('files[]', new Blob([new Uint8Array(await png(8, 8, 3))]), 'seed.png');
  const response = await fetch(`${server.url}/api/upload`, { method: 'POST', headers: { token }, body: form });
  const { files } = (await response.json()) as { files: { id: string; delete_url: string }[] };
  return { token, uploadId: files[0]!.id, deletionSecret: files[0]!.delete_url.split('/').pop()! };
}

/** A JSON error answer in SPEC.md's shape. */
function isErrorShape(status: number, body: Buffer): boolean {
  try {
    const error = JSON.parse(body.toString()) as { statusCode?: unknown; code?: unknown; request_id?: unknown };
    return error.statusCode === status && typeof error.code === 'string' && typeof error.request_id === 'string';
  } catch {
    return false;
  }
}

/**
 * What is wrong with an exchange, if anything: a 5xx, a hang, or an error of ours (it has a
 * request id) out of shape. Bytes Node's parser refuses get Fastify's bare client-error 400/431.
 */
function problemWith(result: RawExchange, head: boolean): string | undefined {
  if (result.end === 'timeout') return `neither answered nor closed within ${ANSWER_WITHIN_MS} ms`;
  // The client half-closes once its bytes are sent (exchange() ends the socket): every request
  // still gets its answer, or at least the error of the first bytes Node's parser refused.
  if (result.responses.length === 0) return `closed (${result.end}) without an answer`;
  for (const [index, { status, headers, body }] of result.responses.entries()) {
    if (status >= 500) return `answered ${status}: ${body.toString().slice(0, 200)}`;
    if (headers['x-request-id'] !== undefined && headers['x-content-type-options'] !== 'nosniff') return `${status} without nosniff`;
    const bodiless = head && index === 0;
    const ours = headers['x-request-id'] !== undefined && /json/.test(headers['content-type'] ?? '');
    if (status >= 400 && !bodiless && ours && !isErrorShape(status, body)) {
      return `${status} with a body out of shape: ${body.toString().slice(0, 200)}`;
    }
  }
  return undefined;
}

const outcomeOf = (result: RawExchange): string => (result.responses[0] ? String(result.responses[0].status) : `no answer, ${result.end}`);

class Fuzzer {
  readonly outcomes = new Map<string, number>();
  readonly failures: string[] = [];
  /** What broke the requests that got no answer, by breaker, to tell a close Node chose from a lost answer. */
  readonly unanswered = new Map<string, number>();
  sent = 0;

  constructor(private readonly server: RunningServer) {}

  /** Sends the cases, CONCURRENCY at a time, until they run out or the budget does. */
  async send(cases: Iterable<FuzzCase>, budgetMs: number): Promise<void> {
    const deadline = Date.now() + budgetMs;
    const iterator = cases[Symbol.iterator]();
    const lane = async () => {
      for (let next = iterator.next(); !next.done && Date.now() < deadline; next = iterator.next()) {
        const { kind, bytes, head } = next.value;
        const result = await exchange(this.server.port, bytes, { headFirst: head, timeoutMs: ANSWER_WITHIN_MS });
        this.sent++;
        const outcome = outcomeOf(result);
        this.outcomes.set(outcome, (this.outcomes.get(outcome) ?? 0) + 1);
        if (result.responses.length === 0) {
          const breakers = kind.slice(kind.indexOf(': ') + 2);
          this.unanswered.set(breakers, (this.unanswered.get(breakers) ?? 0) + 1);
        }
        const problem = problemWith(result, head);
        if (problem) this.failures.push(`${kind}: ${problem}\n  request: ${JSON.stringify(bytes.subarray(0, 300).toString('latin1'))}`);
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, lane));
  }

  /** The server is still up and healthy, and has logged no error (a 500 would have been). */
  async assertAlive(): Promise<void> {
    expect(this.server.process.exitCode, `the server exited (${REPLAY}):\n${this.server.output()}`).toBeNull();
    expect((await fetch(`${this.server.url}/healthz`)).status, REPLAY).toBe(200);
    expect(this.server.output(), REPLAY).not.toMatch(/"level":(50|60)/);
  }

  report(what: string): string {
    const outcomes = [...this.outcomes].sort(([a], [b]) => a.localeCompare(b)).map(([outcome, count]) => `${outcome}: ${count}`);
    const unanswered = [...this.unanswered].sort(([, a], [, b]) => b - a).map(([breakers, count]) => `${breakers}: ${count}`);
    return `${what}: ${this.sent} requests (${REPLAY}); ${outcomes.join(', ')}; unanswered by breaker: ${unanswered.join(', ') || 'none'}`;
  }
}

/** Cases round-robin over the routes, so every route gets its share whatever the budget allows. */
function* casesFor(routes: FuzzRoute[], target: FuzzTarget, random: Random, perRoute: number): Generator<FuzzCase> {
  for (let round = 0; round < perRoute; round++) for (const route of routes) yield fuzzCase(random, route, target);
}

describe('a request fuzzer against the real server', () => {
  let routes: FuzzRoute[];
  let server: RunningServer;
  let target: FuzzTarget;
  let workers: RunningServer;

  beforeAll(async () => {
    routes = await registeredRoutes();
    // Both start together (they compete only with each other), before any fuzzing loads the machine.
    const [single, cluster] = await Promise.allSettled([
      startServer({ DATA_DIR: await tempDir() }),
      startServer({ DATA_DIR: await tempDir(), WORKERS: '2' }),
    ]);
    // Kept before any throw, so that afterAll stops whichever did start.
    if (single.status === 'fulfilled') server = single.value;
    if (cluster.status === 'fulfilled') workers = cluster.value;
    for (const started of [single, cluster]) if (started.status === 'rejected') throw started.reason;
    target = await targetOn(server);
  }, 120_000);
  afterAll(async () => {
    await Promise.all([server?.stop('SIGKILL'), workers?.stop('SIGKILL')]);
  });

  it('answers URLs with broken percent-encoding with 400 and stays up', async () => {
    for (const url of BROKEN_URLS) {
      const response = await fetch(`${server.url}${url}`);
      expect(response.status, url).toBe(400);
      expect(await response.json()).toMatchObject({ statusCode: 400, code: 'BAD_REQUEST' });
      expect(server.process.exitCode).toBeNull();
    }
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  });

  it('sends X-Content-Type-Options: nosniff with every JSON answer, errors of every kind included', async () => {
    const { token } = target;
    const json = { 'content-type': 'application/json' };
    const requests: [string, RequestInit, number][] = [
      ['/healthz', {}, 200],
      ['/api/me', { headers: { token } }, 200],
      ['/api/keys', { method: 'POST', headers: { token, ...json }, body: '{"name":"nosniff"}' }, 201],
      ['/api/me', {}, 401],
      ['/api/keys', { method: 'POST', headers: { token, ...json }, body: '{"name":12}' }, 400],
      ['/api/keys', { method: 'POST', headers: { token, ...json }, body: '{' }, 400],
      ['/api/uploads?limit=0', { headers: { token } }, 400],
      ['/api/nothing', {}, 404],
      ['/api/uploads', { method: 'PUT', headers: { token } }, 405],
      ['/api/me', { headers: { token, accept: 'text/html' } }, 406],
      ['/%ff', {}, 400], // a framework error: no hook runs for it
      [`/api/uploads/${'a'.repeat(300)}`, { headers: { token } }, 404],
    ];
    for (const [path, init, status] of requests) {
      const response = await fetch(`${server.url}${path}`, init);
      expect(response.status, path).toBe(status);
      expect(response.headers.get('content-type'), path).toMatch(/^application\/json/);
      expect(response.headers.get('x-content-type-options'), path).toBe('nosniff');
    }
  });

  it('answers thousands of malformed requests to every route with 4xx, never 5xx, never a hang', async () => {
    expect(routes.length).toBeGreaterThan(20);
    const fuzzer = new Fuzzer(server);
    const cases = casesFor(routes, target, seededRandom(SEED), Math.ceil(REQUESTS / routes.length));
    const started = Date.now();
    // Batches, with the server checked alive between them: a crash is caught near its cause.
    while (Date.now() - started < BUDGET_MS) {
      const before = fuzzer.sent;
      await fuzzer.send(take(cases, 300), BUDGET_MS - (Date.now() - started));
      await fuzzer.assertAlive();
      if (fuzzer.sent === before) break;
    }
    console.log(fuzzer.report('raw socket fuzz'));
    expect(fuzzer.failures.slice(0, 20), REPLAY).toEqual([]);
    expect(fuzzer.sent).toBeGreaterThanOrEqual(MIN_REQUESTS);
  }, 60_000);

  it('answers malformed JSON and multipart bodies from a real client (fetch) to every route with 4xx', async () => {
    const random = seededRandom(SEED + 1);
    const failures: string[] = [];
    /** A server that answers early and closes may cut off a body still being sent: a close, not a failure. */
    const send = async (what: string, url: string, init: RequestInit): Promise<void> => {
      try {
        const response = await fetch(url, init);
        const text = await response.text();
        if (response.status >= 500) failures.push(`${what}: ${response.status} ${text}`);
      } catch (error) {
        const code = ((error as Error).cause as { code?: string } | undefined)?.code ?? '';
        if (!['EPIPE', 'ECONNRESET', 'UND_ERR_SOCKET'].includes(code)) failures.push(`${what}: ${String(error)} ${code}`);
      }
    };
    const bodied = routes.filter(({ method }) => method !== 'GET' && method !== 'HEAD');
    expect(bodied.length).toBeGreaterThan(5);
    for (const route of bodied) {
      const url = `${server.url}${route.url.replace(':id', target.uploadId).replace(':secret', target.deletionSecret)}`;
      for (let i = 0; i < 6; i++) {
        const { index, body } = fuzzJsonBody(random);
        const what = `${route.method} ${route.url} with JSON body #${index}`;
        await send(what, url, { method: route.method, headers: { token: target.token, 'content-type': 'application/json' }, body });
        const form = new FormData();
        form.append(
          random.pick(['files[]', 'file', 'x', '__proto__', 'embed_title']),
          new Blob([Buffer.from(body)]),
          random.pick(['a.png', '../b', '%ff', '']),
        );
        await send(`${what} as a multipart part`, url, { method: route.method, headers: { token: target.token }, body: form });
      }
    }
    expect(failures, REPLAY).toEqual([]);
    await new Fuzzer(server).assertAlive();
  }, 60_000);

  it('keeps both workers up under WORKERS=2: no bad request kills one', async () => {
    const running = workers;
    const fuzzer = new Fuzzer(running);
    // Six broken URLs once took both workers down; a few rounds of them, then a short fuzz.
    for (let round = 0; round < 3; round++) {
      for (const url of BROKEN_URLS) expect((await fetch(`${running.url}${url}`)).status).toBe(400);
    }
    await fuzzer.send(casesFor(routes, await targetOn(running), seededRandom(SEED + 2), 20), 6_000);
    console.log(fuzzer.report('WORKERS=2 fuzz'));
    expect(fuzzer.failures.slice(0, 20), REPLAY).toEqual([]);
    await fuzzer.assertAlive();
    expect(running.output()).not.toMatch(/worker \d+ exited/);
  }, 60_000);
});

function* take<T>(items: Iterator<T>, count: number): Generator<T> {
  for (let i = 0; i < count; i++) {
    const next = items.next();
    if (next.done) return;
    yield next.value;
  }
}
