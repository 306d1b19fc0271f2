/**
 * The error answers of the OpenAPI document (http/plugins/openapi-errors.ts): each operation
 * lists every error status it can give, each with codes that are real catalogue codes of that
 * status, a description naming them and an example of each; and every operation and answer is
 * named and described.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { ERROR_CODES_KEYWORD, errorResponses } from '../../src/contract/error.schemas.js';
import { ERROR_STATUS, type ErrorCode } from '../../src/domain/errors.js';
import { createTestApp } from '../helpers/app.js';

interface Media {
  schema?: { allOf?: { $ref?: string }[]; properties?: { code?: { enum?: string[] } } };
  examples?: Record<string, { value: { statusCode: number; code: string } }>;
}
interface Answer {
  $ref?: string;
  description?: string;
  content?: Record<string, Media>;
}
interface Operation {
  operationId?: string;
  summary?: string;
  security?: unknown[];
  parameters?: unknown[];
  requestBody?: unknown;
  responses: Record<string, Answer>;
}
interface Document {
  paths: Record<string, Record<string, Operation>>;
  components: { responses: Record<string, Answer> };
}

/** The verbs an operationId may start with. */
const VERBS = /^(get|list|create|update|change|delete|revoke|upload|register|login|logout|check|preview|search|reset|set|invite)/;

let document: Document;
const operations: { name: string; path: string; method: string; operation: Operation }[] = [];

beforeAll(async () => {
  const t = await createTestApp('sqlite');
  document = (await t.app.inject({ method: 'GET', url: '/api/openapi.json' })).json<Document>();
  for (const [path, item] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(item))
      operations.push({ name: `${method.toUpperCase()} ${path}`, path, method, operation });
  }
});

/** An answer, through its $ref to components/responses. */
const resolve = (answer: Answer): Answer =>
  answer.$ref ? document.components.responses[answer.$ref.replace('#/components/responses/', '')]! : answer;

/** The error statuses of an operation and the codes each may carry. */
function errorCodes(operation: Operation): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const [status, answer] of Object.entries(operation.responses)) {
    if (!/^[45]/.test(status)) continue;
    out.set(status, resolve(answer).content?.['application/json']?.schema?.properties?.code?.enum ?? []);
  }
  return out;
}

describe('the error answers of every operation', () => {
  it('are each status by itself, in the ErrorResponse shape, with catalogue codes of that status', () => {
    expect(operations.length).toBeGreaterThan(20);
    for (const { name, operation } of operations) {
      const statuses = Object.keys(operation.responses).filter((status) => /^[45]/.test(status));
      expect(
        statuses.filter((status) => !/^\d{3}$/.test(status)),
        `${name}: a range instead of statuses`,
      ).toEqual([]);
      for (const [status, codes] of errorCodes(operation)) {
        const answer = resolve(operation.responses[status]!);
        expect(answer.content?.['application/json']?.schema?.allOf, `${name} ${status}`).toEqual([
          { $ref: '#/components/schemas/ErrorResponse' },
        ]);
        expect(codes.length, `${name} ${status}: no codes`).toBeGreaterThan(0);
        for (const code of codes) {
          expect(ERROR_STATUS[code as ErrorCode], `${name} ${status}: ${code} is not a catalogue code of that status`).toBe(Number(status));
          expect(answer.description, `${name} ${status}: the description names ${code}`).toContain(`\`${code}\``);
        }
        const examples = answer.content?.['application/json']?.examples ?? {};
        expect(
          Object.values(examples).map(({ value }) => [value.statusCode, value.code]),
          `${name} ${status}: an example of each code`,
        ).toEqual(codes.map((code) => [Number(status), code]));
      }
    }
  });

  it('include the errors that follow from what the operation is', () => {
    for (const { name, path, method, operation } of operations) {
      const codes = errorCodes(operation);
      const has = (status: number, code: ErrorCode) => expect(codes.get(String(status)) ?? [], name).toContain(code);
      has(400, 'BAD_REQUEST');
      has(408, 'REQUEST_TIMEOUT');
      has(417, 'EXPECTATION_FAILED');
      has(429, 'TOO_MANY_CONNECTIONS');
      has(431, 'HEADERS_TOO_LARGE');
      has(500, 'INTERNAL_ERROR');
      has(503, 'SERVICE_UNAVAILABLE');
      if (path.startsWith('/api/')) has(406, 'NOT_ACCEPTABLE');
      if (operation.security) has(401, 'UNAUTHORIZED');
      if (operation.security && method !== 'get') has(403, 'CSRF_INVALID');
      if (operation.parameters?.length || operation.requestBody) has(400, 'VALIDATION_FAILED');
      if (method !== 'get' && path !== '/api/upload') has(413, 'PAYLOAD_TOO_LARGE');
    }
  });

  it("include each operation's own codes, as its route names them", () => {
    const of = (name: string) => errorCodes(operations.find((operation) => operation.name === name)!.operation);
    expect(of('GET /api/uploads/{id}').get('404')).toEqual(['NOT_FOUND', 'UPLOAD_NOT_FOUND']);
    expect(of('GET /api/uploads/{id}').get('410')).toEqual(['UPLOAD_GONE']);
    expect(of('POST /api/upload').get('415')).toEqual(['UNSUPPORTED_MEDIA_TYPE', 'CORRUPT_IMAGE']);
    expect(of('POST /api/upload').get('507')).toEqual(['INSUFFICIENT_STORAGE']);
    expect(of('PATCH /api/admin/embed').get('403')).toEqual(['FORBIDDEN', 'CSRF_INVALID', 'ACCOUNT_DISABLED']);
    expect(of('GET /api/me').has('404')).toBe(false);
    // The HTML pages answer their own errors as pages too.
    expect(Object.keys(resolve(operations.find((o) => o.name === 'GET /{id}')!.operation.responses['410']!).content!)).toEqual([
      'text/html',
      'application/json',
    ]);
  });
});

describe('every operation and answer', () => {
  it('has a camelCase operationId that starts with a verb, unique, and a summary', () => {
    const ids = operations.map(({ operation }) => operation.operationId);
    for (const { name, operation } of operations) {
      expect(operation.operationId, name).toMatch(/^[a-z]+([A-Z][a-z0-9]*)*$/);
      expect(operation.operationId, name).toMatch(VERBS);
      expect(operation.summary?.length ?? 0, `${name}: summary`).toBeGreaterThan(10);
    }
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('has a description of its own', () => {
    for (const { name, operation } of operations) {
      for (const [status, answer] of Object.entries(operation.responses)) {
        const description = resolve(answer).description ?? '';
        expect(description, `${name} ${status}`).not.toBe('Default Response');
        expect(description.length, `${name} ${status}`).toBeGreaterThan(3);
      }
    }
  });
});

describe('errorResponses', () => {
  it('gives one error schema per status, narrowed to the codes named for it', () => {
    const responses = errorResponses('UPLOAD_NOT_FOUND', 'UPLOAD_GONE', 'NOT_FOUND', 'UPLOAD_GONE') as unknown as Record<
      string,
      { [ERROR_CODES_KEYWORD]: string[]; properties: { code: { enum: string[] } } }
    >;
    expect(Object.keys(responses)).toEqual(['404', '410']);
    expect(responses[404]![ERROR_CODES_KEYWORD]).toEqual(['UPLOAD_NOT_FOUND', 'NOT_FOUND']);
    expect(responses[404]!.properties.code.enum).toEqual(['UPLOAD_NOT_FOUND', 'NOT_FOUND']);
    expect(responses[410]![ERROR_CODES_KEYWORD]).toEqual(['UPLOAD_GONE']);
  });
});
