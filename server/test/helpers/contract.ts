/**
 * The contract test's judge: does one HTTP response agree with the generated spec,
 * packages/sdk/openapi.json? The route suites (through createTestApp) and the e2e suites
 * (through startServer) hand it every response they receive; contract.test.ts shows it what
 * it must refuse.
 *
 * A response agrees when its status is documented for its operation (method + route pattern),
 * its content type is one the spec lists for that status, and a JSON body matches the schema.
 * Schemas are read strictly: an object schema that does not say what it allows beyond its
 * `properties` allows nothing more, so a field the spec does not name fails here. A response
 * that no operation covers (an unknown path, a method the path does not take, a URL Fastify
 * could not parse) must be an error in the shape every error has (ErrorResponse).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsPlugin from 'ajv-formats';

export const SPEC_PATH = fileURLToPath(new URL('../../../packages/sdk/openapi.json', import.meta.url));

/** One response as a client received it. */
export interface ObservedResponse {
  method: string;
  /** Path and query, as requested. */
  url: string;
  /**
   * The Fastify route pattern that answered (`/api/uploads/:id`). Absent when no route did:
   * Fastify's not-found handler, errors raised before routing (a malformed URL), and the raw
   * file fast path (server/src/http/from-memory.ts); these are matched by their URL instead.
   */
  route?: string | undefined;
  /** Answered by something that is not the product (a route a test adds): only the error shape applies. */
  outsideSpec?: boolean | undefined;
  status: number;
  /** The content-type header, parameters included. */
  contentType?: string | undefined;
  /** How many body bytes were sent; undefined when unknown (a stream). */
  bodyLength?: number | undefined;
  /** The body as text, when it was kept (JSON bodies are). */
  body?: string | undefined;
}

interface MediaType {
  schema?: unknown;
}
interface ResponseObject {
  description?: string;
  content?: Record<string, MediaType>;
}
interface Operation {
  responses?: Record<string, ResponseObject>;
}
type PathItem = Partial<Record<string, Operation>>;
interface OpenApiDocument {
  paths?: Record<string, PathItem>;
  components?: { schemas?: Record<string, unknown>; responses?: Record<string, ResponseObject> };
}

type Schema = Record<string, unknown>;
const isSchema = (value: unknown): value is Schema => typeof value === 'object' && value !== null && !Array.isArray(value);

const SUBSCHEMA = ['items', 'contains', 'not', 'if', 'then', 'else', 'propertyNames', 'additionalProperties', 'unevaluatedItems'];
const SUBSCHEMA_LISTS = ['allOf', 'anyOf', 'oneOf', 'prefixItems'];
const SUBSCHEMA_MAPS = ['properties', 'patternProperties', '$defs', 'dependentSchemas'];

/**
 * Closes every object schema that names its properties and says nothing about others
 * (`unevaluatedProperties: false`, which also sees properties named through allOf, anyOf and
 * $ref). The members of an allOf are left open: each sees only part of the object, and the
 * allOf itself is closed instead. Examples, defaults and enums are values, not schemas, and
 * are not walked.
 */
function closeObjects(schema: Schema, allOfMember = false): void {
  for (const key of SUBSCHEMA) if (isSchema(schema[key])) closeObjects(schema[key]);
  for (const key of SUBSCHEMA_LISTS) {
    const list = schema[key];
    if (Array.isArray(list)) for (const member of list) if (isSchema(member)) closeObjects(member, key === 'allOf');
  }
  for (const key of SUBSCHEMA_MAPS) {
    const map = schema[key];
    if (isSchema(map)) for (const member of Object.values(map)) if (isSchema(member)) closeObjects(member);
  }
  const namesProperties = isSchema(schema.properties) || Array.isArray(schema.allOf);
  const saysOtherwise = 'additionalProperties' in schema || 'unevaluatedProperties' in schema || 'patternProperties' in schema;
  if (namesProperties && !saysOtherwise && !allOfMember) schema.unevaluatedProperties = false;
}

/** Components used as allOf members somewhere: closing them would refuse the other members' properties. */
function allOfComponents(value: unknown, found = new Set<string>()): Set<string> {
  if (Array.isArray(value)) for (const item of value) allOfComponents(item, found);
  else if (isSchema(value)) {
    if (Array.isArray(value.allOf)) {
      for (const member of value.allOf) {
        const ref = isSchema(member) && typeof member.$ref === 'string' ? member.$ref : undefined;
        if (ref?.startsWith('#/components/schemas/')) found.add(ref.slice('#/components/schemas/'.length));
      }
    }
    for (const child of Object.values(value)) allOfComponents(child, found);
  }
  return found;
}

/** The spec with every response schema closed (see closeObjects); the file itself is left as generated. */
export function strictSpec(spec: OpenApiDocument): OpenApiDocument {
  const copy = structuredClone(spec);
  const open = allOfComponents(copy);
  for (const [name, schema] of Object.entries(copy.components?.schemas ?? {})) {
    if (isSchema(schema)) closeObjects(schema, open.has(name));
  }
  for (const item of Object.values(copy.paths ?? {})) {
    for (const operation of Object.values(item)) {
      for (const response of [...Object.values(operation?.responses ?? {}), ...Object.values(copy.components?.responses ?? {})]) {
        for (const media of Object.values(response.content ?? {})) if (isSchema(media.schema)) closeObjects(media.schema);
      }
    }
  }
  return copy;
}

/** `~` and `/` escaped, for a key inside a JSON pointer. */
const pointer = (...keys: string[]) => keys.map((key) => key.replace(/~/g, '~0').replace(/\//g, '~1')).join('/');

const isJson = (mediaType: string) => mediaType === 'application/json' || mediaType.endsWith('+json');

/** The media type alone, lower-cased: `application/json; charset=utf-8` -> `application/json`. */
const mediaTypeOf = (contentType: string | undefined) => contentType?.split(';')[0]!.trim().toLowerCase() || undefined;

/** Does a documented media range (`image/*`, `*\/*`, or exact) cover the one sent? */
function covers(range: string, mediaType: string): boolean {
  const documented = range.split(';')[0]!.trim().toLowerCase();
  if (documented === '*/*' || documented === mediaType) return true;
  return documented.endsWith('/*') && mediaType.startsWith(documented.slice(0, -1));
}

/** A path template (`/api/uploads/{id}`) as a matcher, and how specific it is. */
interface Template {
  path: string;
  pattern: RegExp;
  literalSegments: number;
}

function template(path: string): Template {
  const segments = path.split('/').slice(1);
  const source = segments.map((segment) => segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/\\\{[^/]+?\\\}/g, '[^/]+')).join('/');
  return { path, pattern: new RegExp(`^/${source}$`), literalSegments: segments.filter((segment) => !segment.includes('{')).length };
}

/** Fastify's route syntax to OpenAPI's: `/d/:id/:secret` -> `/d/{id}/{secret}`. */
export const openApiPath = (route: string): string => {
  const path = route.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
  return path.length > 1 ? path.replace(/\/$/, '') : path;
};

function describeError(error: ErrorObject): string {
  const where = `body${error.instancePath}`;
  const params = error.params as { additionalProperty?: string; unevaluatedProperty?: string; allowedValues?: unknown[] };
  const extra = params.unevaluatedProperty ?? params.additionalProperty;
  if (extra !== undefined) return `${where} has a field the spec does not document: "${extra}"`;
  if (params.allowedValues)
    return `${where} ${error.message ?? 'is invalid'}: ${params.allowedValues.map((v) => JSON.stringify(v)).join(', ')}`;
  return `${where} ${error.message ?? 'is invalid'}`;
}

const addFormats = addFormatsPlugin as unknown as (ajv: Ajv2020) => Ajv2020;

export class ContractChecker {
  private readonly spec: OpenApiDocument;
  private readonly ajv: Ajv2020;
  private readonly templates: Template[];
  private readonly validators = new Map<string, ValidateFunction>();

  constructor(spec: OpenApiDocument) {
    this.spec = strictSpec(spec);
    // strict: false — OpenAPI adds keywords JSON Schema does not know (example, discriminator).
    this.ajv = new Ajv2020({ strict: false, allErrors: true, validateSchema: false });
    addFormats(this.ajv);
    this.ajv.addSchema(this.spec, 'openapi.json');
    this.templates = Object.keys(this.spec.paths ?? {})
      .map(template)
      .sort((a, b) => b.literalSegments - a.literalSegments);
  }

  /** The committed spec, read fresh (the openapi freshness test keeps it equal to the code's). */
  static fromFile(path = SPEC_PATH): ContractChecker {
    return new ContractChecker(JSON.parse(readFileSync(path, 'utf8')) as OpenApiDocument);
  }

  /** What is wrong with the response, one line each; empty when it agrees with the spec. */
  check(response: ObservedResponse): string[] {
    const method = response.method.toUpperCase();
    if (response.outsideSpec) return this.checkUndocumentedPath(response, method);
    const path = response.route !== undefined ? openApiPath(response.route) : this.pathOf(response.url);
    const item = path === undefined ? undefined : this.spec.paths?.[path];
    if (response.route !== undefined && !item) return [`route ${response.route} is not in the spec`];
    // Fastify answers HEAD for every GET route; a spec documents the GET.
    const operationKey = item?.[method.toLowerCase()] ? method.toLowerCase() : method === 'HEAD' && item?.get ? 'get' : undefined;
    const operation = operationKey ? item?.[operationKey] : undefined;
    if (path === undefined || !operation || !operationKey) {
      if (response.route !== undefined) return [`${method} is not documented for ${path}`];
      return this.checkUndocumentedPath(response, method);
    }

    const responses = operation.responses ?? {};
    const status = String(response.status);
    const statusKey = [status, `${status[0]}XX`, 'default'].find((key) => key in responses);
    if (!statusKey) {
      return [`status ${status} is not documented for ${method} ${path} (documented: ${Object.keys(responses).join(', ')})`];
    }
    // A response may be shared through components/responses: judged there, where its schema is.
    const documented = responses[statusKey]! as ResponseObject & { $ref?: string };
    const shared = documented.$ref?.match(/^#\/components\/responses\/(.+)$/)?.[1];
    if (shared !== undefined) {
      const target = this.spec.components?.responses?.[shared];
      if (!target) return [`${documented.$ref} is missing from the spec`];
      return this.checkContent(response, method, target, pointer('components', 'responses', shared));
    }
    return this.checkContent(response, method, documented, pointer('paths', path, operationKey, 'responses', statusKey));
  }

  /** Outside every operation, only an error can be the right answer: in the ErrorResponse shape. */
  private checkUndocumentedPath(response: ObservedResponse, method: string): string[] {
    const where = `${method} ${response.url.split('?')[0]}`;
    if (response.status < 400) return [`${where} is in no operation of the spec, yet answered ${response.status}`];
    if (!this.spec.components?.schemas?.ErrorResponse) return ['the spec has no ErrorResponse component'];
    const asError: ResponseObject = { content: { 'application/json': {} } };
    // Closed here: the component is left open as the allOf member each error answer narrows.
    const problems = this.checkContent(response, method, asError, undefined, pointer('components', 'schemas', 'ErrorResponse'), true);
    return problems.map(
      (problem) => `${where} is in no operation of the spec, and its ${response.status} is not an ErrorResponse: ${problem}`,
    );
  }

  private checkContent(
    response: ObservedResponse,
    method: string,
    documented: ResponseObject,
    responsePointer: string | undefined,
    schemaPointer?: string,
    closed = false,
  ): string[] {
    const content = documented.content ?? {};
    const ranges = Object.keys(content);
    const hasBody = method !== 'HEAD' && response.bodyLength !== 0 && !(response.bodyLength === undefined && response.body === undefined);
    if (ranges.length === 0) {
      return hasBody ? [`a ${response.status} documents no body, yet ${response.bodyLength ?? 'some'} bytes came`] : [];
    }
    const mediaType = mediaTypeOf(response.contentType);
    if (!mediaType) return method === 'HEAD' || !hasBody ? [] : [`no content type; the spec documents ${ranges.join(', ')}`];
    const range = ranges.find((candidate) => covers(candidate, mediaType));
    if (range === undefined)
      return [`content type ${mediaType} is not documented for a ${response.status} (documented: ${ranges.join(', ')})`];
    if (!isJson(mediaType) || method === 'HEAD') return [];
    if (response.bodyLength === 0 || response.body === '') return [`an empty body where the spec documents ${range}`];
    if (response.body === undefined) return [];

    const schemaAt =
      schemaPointer ?? (content[range]?.schema === undefined ? undefined : `${responsePointer}/${pointer('content', range, 'schema')}`);
    if (schemaAt === undefined) return [];
    let body: unknown;
    try {
      body = JSON.parse(response.body);
    } catch {
      return [`the body is not JSON: ${response.body.slice(0, 80)}`];
    }
    const validate = this.validator(schemaAt, closed);
    return validate(body) ? [] : (validate.errors ?? []).map(describeError);
  }

  private validator(at: string, closed: boolean): ValidateFunction {
    const key = `${closed ? 'closed:' : ''}${at}`;
    let validate = this.validators.get(key);
    if (!validate) {
      validate = this.ajv.compile({ $ref: `openapi.json#/${at}`, ...(closed ? { unevaluatedProperties: false } : {}) });
      this.validators.set(key, validate);
    }
    return validate;
  }

  /** The most specific path template matching the URL (literal segments win, as in Fastify's router). */
  private pathOf(url: string): string | undefined {
    let path = url.split('?')[0]!;
    if (path.length > 1) path = path.replace(/\/$/, '');
    return this.templates.find((candidate) => candidate.pattern.test(path))?.path;
  }
}

/** One line for a failure message: what was asked, what came, what is wrong. */
export function describeViolation(response: ObservedResponse, problems: string[], context?: string): string {
  const answer = `${response.status}${response.contentType ? ` ${response.contentType}` : ''}`;
  const route = response.route !== undefined ? ` (route ${response.route})` : '';
  return `${context ? `[${context}] ` : ''}${response.method} ${response.url}${route} -> ${answer}: ${problems.join('; ')}`;
}
