import { readFile } from 'node:fs/promises';
import { Validator } from '@seriousme/openapi-schema-validator';
import type { RouteOptions } from 'fastify';
import { expect, test } from 'vitest';
import { generateOpenApi, OPENAPI_DTS, OPENAPI_JSON } from '../../src/openapi-document.js';
import { createTestApp } from '../helpers/app.js';

test('the committed packages/sdk/openapi.json and src/openapi.d.ts are what the code generates', async () => {
  const generated = await generateOpenApi();
  const stale = 'is stale: run `npm run openapi` and commit the result';
  expect(await readFile(OPENAPI_JSON, 'utf8'), `packages/sdk/openapi.json ${stale}`).toBe(generated.json);
  expect(await readFile(OPENAPI_DTS, 'utf8'), `packages/sdk/src/openapi.d.ts ${stale}`).toBe(generated.dts);
});

test('GET /api/openapi.json is a valid OpenAPI 3.1 document that names the server and every route Fastify registers', async () => {
  const routes: RouteOptions[] = [];
  const t = await createTestApp('sqlite', {}, { onRoute: (route) => routes.push(route) });
  const response = await t.app.inject({ method: 'GET', url: '/api/openapi.json' });
  expect(response.statusCode).toBe(200);
  const document = response.json();
  expect(document.openapi).toBe('3.1.0');
  expect(document.servers).toEqual([{ url: t.config.publicUrl }]);

  const result = await new Validator().validate(document);
  expect(result.errors ?? [], 'the document breaks the OpenAPI 3.1 schema').toEqual([]);
  expect(result.valid).toBe(true);

  // A HEAD route is Fastify's own twin of a GET; the GET's operation documents both. Hidden
  // routes (the /docs page and its script) are not part of the API.
  const missing = routes
    .filter((route) => route.schema?.hide !== true)
    .flatMap((route) => [route.method].flat().map((method) => ({ method, url: route.url })))
    .filter(({ method }) => method !== 'HEAD')
    .filter(({ method, url }) => document.paths[url.replace(/:([A-Za-z_]+)/g, '{$1}')]?.[method.toLowerCase()] === undefined)
    .map(({ method, url }) => `${method} ${url}`);
  expect(missing, 'routes missing from the OpenAPI document').toEqual([]);
  expect(routes.length).toBeGreaterThan(20);
});
