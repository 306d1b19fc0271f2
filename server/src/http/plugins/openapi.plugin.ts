import swagger from '@fastify/swagger';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import rootPackage from '../../../../package.json' with { type: 'json' };
import { NAMED_SCHEMAS } from '../../contract/index.js';
import { EmbedHeaders, UploadForm } from '../../contract/upload.schemas.js';

import { describeErrors, sharedErrorCodes, sharedErrorComponents, withSharedErrors } from './openapi-errors.js';
import { codeSamples, DOCUMENT_SERVER, errorTable } from './openapi-samples.js';
import { limitClassOf } from './rate-limit.plugin.js';

export { DOCUMENT_SERVER };

export interface OpenApiOptions {
  /** PUBLIC_URL: the server the served document names. */
  publicUrl: string;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

const isObject = (value: Json | undefined): value is JsonObject => typeof value === 'object' && value !== null && !Array.isArray(value);

/** JSON with sorted keys: two schemas that say the same thing compare equal. */
function canonical(value: Json): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (isObject(value))
    return `{${Object.keys(value)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonical(value[key]!)}`)
      .join(',')}}`;
  return JSON.stringify(value);
}

const toJson = (value: unknown): Json => JSON.parse(JSON.stringify(value)) as Json;

/**
 * Routes declare TypeBox schemas inline (Fastify validates and serialises with them); the
 * document names them instead: every schema equal to one of the contract's constants becomes a
 * $ref to components/schemas/<ConstantName>, the components themselves included.
 */
export function nameSchemas(document: JsonObject): JsonObject {
  const named = Object.entries(NAMED_SCHEMAS).map(([name, schema]) => ({ name, json: toJson(schema) }));
  const byShape = new Map<string, string>();
  for (const { name, json } of named) {
    if (!byShape.has(canonical(json))) byShape.set(canonical(json), name);
    // @fastify/swagger moves a response schema's examples to its media object: match without them too.
    if (isObject(json) && json.examples !== undefined) {
      const { examples: _examples, ...bare } = json;
      if (!byShape.has(canonical(bare))) byShape.set(canonical(bare), name);
    }
  }

  const replace = (value: Json, isRoot: boolean): Json => {
    if (Array.isArray(value)) return value.map((item) => replace(item, false));
    if (!isObject(value)) return value;
    if (!isRoot) {
      const name = byShape.get(canonical(value));
      if (name !== undefined) return { $ref: `#/components/schemas/${name}` };
    }
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, replace(item, false)]));
  };

  const components = isObject(document.components) ? document.components : {};
  const schemas: JsonObject = {};
  for (const { name, json } of [...named].sort((a, b) => a.name.localeCompare(b.name))) schemas[name] = replace(json, true);
  const paths = replace(document.paths ?? {}, true);
  return { ...document, paths, components: { ...components, schemas } };
}

const HTML = { 'text/html': { schema: { type: 'string' } } };
const BYTES = { 'image/*': { schema: { type: 'string', contentMediaType: 'image/*' } } };
/** Statuses the HTML pages answer as pages (their own 404 and 410), besides JSON. */
const PAGE_STATUSES = new Set([404, 410]);

/**
 * The answers a route's response schemas cannot state: bodies that are not JSON (image bytes,
 * HTML pages); and every error status in its final form (openapi-errors.ts). By path, as the
 * document names it.
 */
function describeAnswers(path: string, method: string, responses: JsonObject): JsonObject {
  const page = path === '/{id}' || path.startsWith('/d/');
  const out: JsonObject = { ...responses };
  if (path === '/i/{file}' || path === '/t/{file}') {
    out['200'] = { description: 'The bytes, with their exact Content-Type, a strong ETag and Accept-Ranges', content: BYTES };
    out['206'] = { description: 'The requested range of the bytes (Range)', content: BYTES };
    out['304'] = { description: 'Not modified (If-None-Match)' };
  } else if (path.startsWith('/favicon.')) {
    out['200'] = { description: 'The icon', content: { 'image/svg+xml': { schema: { type: 'string' } } } };
  } else if (path === '/api/openapi.json') {
    out['200'] = { description: 'This document', content: { 'application/json': { schema: { type: 'object' } } } };
  } else if (page) {
    out['200'] = { description: 'The HTML page', content: HTML };
    if (method === 'post') out['204'] = { description: 'Deleted (to a client that asked for JSON)' };
  }
  return describeErrors(out, page ? PAGE_STATUSES : undefined);
}

function withAnswers(document: JsonObject): JsonObject {
  const paths: JsonObject = {};
  for (const [path, item] of Object.entries(isObject(document.paths) ? document.paths : {})) {
    if (!isObject(item)) continue;
    paths[path] = Object.fromEntries(
      Object.entries(item).map(([method, operation]) =>
        isObject(operation) && isObject(operation.responses ?? {})
          ? [
              method,
              {
                ...operation,
                responses: describeAnswers(path, method, (operation.responses ?? {}) as JsonObject),
                'x-codeSamples': codeSamples(method, path, operation.security !== undefined) as unknown as Json,
              },
            ]
          : [method, operation],
      ),
    );
  }
  const components = isObject(document.components) ? document.components : {};
  return { ...document, paths, components: { ...components, responses: sharedErrorComponents() } };
}

/**
 * The OpenAPI 3.1 document of this server, made by @fastify/swagger from the routes' own
 * schemas, and GET /api/openapi.json serving it.
 */
export const openapiPlugin = fp<OpenApiOptions>(
  async (app: FastifyInstance, { publicUrl }) => {
    await app.register(swagger, {
      openapi: {
        openapi: '3.1.0',
        info: {
          title: 'Discord Images API',
          version: rootPackage.version,
          description: [
            'Self-hosted image host whose links unfurl beautifully in Discord.',
            '',
            'Send your API key in the `token` header (or `Authorization: Bearer`). Every error has one shape, `ErrorResponse`, whose `code` is one of these:',
            '',
            errorTable(),
          ].join('\n'),
        },
        servers: [{ url: DOCUMENT_SERVER }],
        components: {
          securitySchemes: {
            token: { type: 'apiKey', in: 'header', name: 'token', description: "Your API key (the seed's header, as ShareX sends it)" },
            bearer: { type: 'http', scheme: 'bearer', description: 'The same API key as Authorization: Bearer <key>' },
            session: { type: 'apiKey', in: 'cookie', name: 'di_session', description: 'The web session from POST /api/auth/login' },
            csrf: {
              type: 'apiKey',
              in: 'header',
              name: 'x-csrf-token',
              description: 'With the session cookie on changes: the csrf_token from sign-in or GET /api/me',
            },
          },
        },
      },
      // Per route: who may call it (config.auth), and the multipart body Fastify never parses.
      transform: ({ schema, url, route }) => {
        const method = [route.method].flat()[0];
        const extra: Record<string, unknown> = {};
        if (route.config?.auth) {
          const changes = method !== 'GET' && method !== 'HEAD';
          extra.security = [{ token: [] }, { bearer: [] }, changes ? { session: [], csrf: [] } : { session: [] }];
        }
        if (url === '/api/upload' && method === 'POST') {
          extra.body = UploadForm;
          extra.headers = EmbedHeaders;
          extra.consumes = ['multipart/form-data'];
        }
        const traits = {
          method: method ?? 'GET',
          url,
          auth: Boolean(route.config?.auth),
          limit: limitClassOf(route),
          validates: Boolean(schema?.params ?? schema?.querystring ?? schema?.body ?? extra.body),
        };
        extra.response = withSharedErrors((schema?.response ?? {}) as Record<string, unknown>, sharedErrorCodes(traits));
        return { schema: { ...schema, ...extra }, url };
      },
      // OpenAPI 3.1 is JSON Schema 2020-12: const stays const, and the schemas stay equal to the contract's.
      convertConstToEnum: false,
      transformObject: (documentObject) =>
        'openapiObject' in documentObject
          ? (withAnswers(nameSchemas(toJson(documentObject.openapiObject) as JsonObject)) as typeof documentObject.openapiObject)
          : documentObject.swaggerObject,
    });

    let served: string | undefined;
    app.get(
      '/api/openapi.json',
      {
        schema: {
          tags: ['meta'],
          operationId: 'getOpenApi',
          summary: 'This document: the OpenAPI 3.1 description of every endpoint',
        },
      },
      async (_request, reply) => {
        served ??= JSON.stringify(openapiDocument(app, publicUrl));
        return reply.type('application/json; charset=utf-8').send(served);
      },
    );
  },
  { name: 'openapi' },
);

/** The document with `serverUrl` as its one server; the app must be ready. */
export function openapiDocument(app: FastifyInstance, serverUrl: string): JsonObject {
  const document = toJson(app.swagger()) as JsonObject;
  return { ...document, servers: [{ url: serverUrl }] };
}
