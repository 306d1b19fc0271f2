import swagger from '@fastify/swagger';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import rootPackage from '../../../../package.json' with { type: 'json' };
import { NAMED_SCHEMAS } from '../../contract/index.js';

/** The server URL the committed document (packages/sdk/openapi.json) names. */
export const DOCUMENT_SERVER = 'http://localhost:3000';

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
  for (const { name, json } of named) if (!byShape.has(canonical(json))) byShape.set(canonical(json), name);

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
          description: 'Self-hosted image host whose links unfurl beautifully in Discord.',
        },
        servers: [{ url: DOCUMENT_SERVER }],
      },
      // OpenAPI 3.1 is JSON Schema 2020-12: const stays const, and the schemas stay equal to the contract's.
      convertConstToEnum: false,
      transformObject: (documentObject) =>
        'openapiObject' in documentObject
          ? (nameSchemas(toJson(documentObject.openapiObject) as JsonObject) as typeof documentObject.openapiObject)
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
