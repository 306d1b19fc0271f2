/**
 * The contract test, run inside every suite that talks to the server: each response a test
 * receives is handed to observe(), and a test during which any response broke the spec fails
 * in its afterEach, naming the request, the answer and what differs. createTestApp installs
 * it on every app it builds (checkResponsesOf); e2e/helpers/server.ts feeds it what the real
 * server sent.
 */
// Declares the route schema's `hide`, read below, also in programs that import nothing else of it (the bench's).
import type {} from '@fastify/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { afterAll, afterEach, expect } from 'vitest';
import type { App } from '../../src/http/types.js';
import { ContractChecker, describeViolation, type ObservedResponse } from './contract.js';

/** Violations listed in one failure message. */
const MAX_LISTED = 40;

let checker: ContractChecker | undefined;
const violations: string[] = [];
interface ResponseSource {
  /** Reads in what was recorded since the last call, through observe(). */
  read: () => void;
  /** Called once the file's tests are over, after a last read. */
  dispose?: () => void;
}
/** Responses recorded elsewhere (the e2e servers' files), read in before each verdict. */
const sources = new Set<ResponseSource>();

/** The checker for the committed spec, read once per test file. */
export function contractChecker(): ContractChecker {
  checker ??= ContractChecker.fromFile();
  return checker;
}

/** The latest responses checked, for the check's own tests. */
const recent: ObservedResponse[] = [];
const RECENT = 200;

/** The latest responses checked (at most 200), oldest first, after reading in recorded ones. */
export function recentResponses(): ObservedResponse[] {
  for (const source of sources) source.read();
  return [...recent];
}

/** Checks one response; a violation fails the test running now (or the next one to end). */
export function observe(response: ObservedResponse): void {
  recent.push(response);
  if (recent.length > RECENT) recent.shift();
  const problems = contractChecker().check(response);
  if (problems.length > 0) violations.push(describeViolation(response, problems, expect.getState().currentTestName ?? 'outside a test'));
}

/** Registers responses recorded outside this process, read before each verdict. */
export function addResponseSource(source: ResponseSource): void {
  sources.add(source);
}

/** The violations found so far, removed: for the check's own test, which makes some on purpose. */
export function takeViolations(): string[] {
  for (const source of sources) source.read();
  return violations.splice(0);
}

/** Fails when a response checked since the last verdict broke the spec. */
function verdict(): void {
  for (const source of sources) source.read();
  if (violations.length === 0) return;
  const found = violations.splice(0);
  // A fuzzing test can break it thousands of times: the first ones say enough.
  const shown = found.slice(0, MAX_LISTED);
  if (found.length > shown.length) shown.push(`... and ${found.length - shown.length} more`);
  throw new Error(
    `${found.length} response(s) broke the API contract (packages/sdk/openapi.json; regenerate it with npm run openapi if the code is right):\n${shown.join('\n')}`,
  );
}

/**
 * False outside Vitest (a bench starting a server through the e2e helpers): there is no test to
 * fail, and Vitest's hooks throw when no test file is being collected.
 */
export const checkingContract = process.env.VITEST === 'true';

// Registered while the test file is collected (Vitest ignores hooks added later, see cleanup.ts):
// each test answers for the responses received while it ran, and those of beforeAll hooks go to the
// first test. What comes after the last test (afterAll hooks) is judged when the file ends.
if (checkingContract) {
  afterEach(verdict);
  afterAll(() => {
    try {
      verdict();
    } finally {
      for (const source of sources) source.dispose?.();
      sources.clear();
    }
  });
}

/** The body as the client gets it: text when it is a string or bytes, else only whether one is sent. */
function bodyOf(payload: unknown, reply: FastifyReply): Pick<ObservedResponse, 'body' | 'bodyLength'> {
  // What onSend holds is not always sent: Fastify drops the body of a 1xx or 204 (lib/reply.js,
  // onSendEnd), and Node's http that of a 304.
  if (payload === null || payload === undefined || reply.statusCode < 200 || reply.statusCode === 204 || reply.statusCode === 304) {
    return { bodyLength: 0 };
  }
  if (typeof payload === 'string') return { body: payload, bodyLength: Buffer.byteLength(payload) };
  if (Buffer.isBuffer(payload)) return { body: payload.toString('utf8'), bodyLength: payload.length };
  // A stream (files): its length is in the header when the route knows it.
  const length = reply.getHeader('content-length');
  return { bodyLength: length === undefined ? undefined : Number(length) };
}

/**
 * Checks every response the app sends through Fastify's reply (onSend runs for routes, the
 * not-found handler and framework errors alike, just before the bytes leave). Two kinds are
 * not the product's contract: routes the spec hides on purpose (`schema.hide`, the /docs
 * page), which are skipped, and routes a test adds itself (in beforeReady), whose answers
 * need only be errors in the common shape when they are errors.
 */
export function checkResponsesOf(app: App): void {
  contractChecker();
  const testRoutes = new Set<string>();
  app.addHook('onRoute', (route) => {
    testRoutes.add(route.url);
  });
  app.addHook('onSend', (request: FastifyRequest, reply: FastifyReply, payload: unknown, done) => {
    const { url: route, schema } = request.routeOptions;
    const hidden = schema?.hide === true;
    const testRoute = route !== undefined && testRoutes.has(route);
    if (!hidden && !(testRoute && reply.statusCode < 400)) {
      // Fastify removes it from a 1xx or 204 along with the body.
      const contentType = reply.statusCode === 204 || reply.statusCode < 200 ? undefined : reply.getHeader('content-type');
      observe({
        method: request.method,
        url: request.url,
        route: testRoute ? undefined : route,
        outsideSpec: testRoute,
        status: reply.statusCode,
        contentType: contentType === undefined ? undefined : String(contentType),
        ...bodyOf(payload, reply),
      });
    }
    done(null, payload as string);
  });
}
