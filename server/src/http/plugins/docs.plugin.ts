import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import Fastify from 'fastify';
import fp from 'fastify-plugin';
import { docsPageHeaders } from '../views/page-headers.js';

/** Where the reference lives; the page itself is at `/docs/` (its script's URL is relative to it). */
export const DOCS_PREFIX = '/docs';
/** Scalar's browser bundle, where its page loads it from. */
const SCRIPT_PATH = `${DOCS_PREFIX}/js/scalar.js`;
/** The live spec the page renders, served by the openapi plugin. */
export const DOCS_SPEC_URL = '/api/openapi.json';

/**
 * Scalar's settings: nothing may come from another origin (the page is checked with the
 * network cut off, e2e/docs.browser.test.ts): no web fonts from fonts.scalar.com (the
 * system's fonts instead), and no buttons that open Scalar's hosted services.
 */
const REFERENCE_CONFIGURATION = {
  url: DOCS_SPEC_URL,
  pageTitle: 'Discord Images API',
  withDefaultFonts: false,
  hideClientButton: true,
  showDeveloperTools: 'never',
  agent: { disabled: true },
  mcp: { disabled: true },
  // The code samples the spec carries for each operation (x-codeSamples: curl and JavaScript) come first.
  defaultHttpClient: { targetKey: 'shell', clientKey: 'curl' },
} as const;

/** The headers a reference answer keeps: what it is, and where a redirect goes. */
const FORWARDED_HEADERS = ['content-type', 'location'] as const;

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

/**
 * /docs: the API reference, rendered in the browser by Scalar (`@scalar/fastify-api-reference`)
 * from the live spec at /api/openapi.json. Everything it needs is served from here, Scalar's
 * own script included, so it works with no CDN and no network.
 *
 * Scalar's plugin is a 4.3 MB module (its browser bundle inlined, and an OpenAPI parser) that
 * takes 0.5-1 s to import on this machine: imported by buildApp it would double the server's
 * start-up (docs/decisions.md, "Start-up") and every test app's. So it is imported on the first
 * request for /docs, into a Fastify instance of its own that never listens, and the routes
 * here pass requests to it with inject(). The page's answers are fixed once loaded, so each is
 * made once and kept.
 */
export const docsPlugin = fp(
  async (app: FastifyInstance) => {
    let reference: Promise<FastifyInstance> | undefined;
    const answers = new Map<string, Promise<Answer>>();

    const load = async (): Promise<FastifyInstance> => {
      const { default: scalar } = await import('@scalar/fastify-api-reference');
      const inner = Fastify({ logger: false });
      await inner.register(scalar, { routePrefix: DOCS_PREFIX, configuration: REFERENCE_CONFIGURATION });
      await inner.ready();
      return inner;
    };

    const answer = async (path: string): Promise<Answer> => {
      reference ??= load().catch((error: unknown) => {
        reference = undefined;
        throw error;
      });
      const response = await (await reference).inject({ method: 'GET', url: path });
      const headers: Record<string, string> = {};
      for (const name of FORWARDED_HEADERS) {
        const value = response.headers[name];
        if (typeof value === 'string') headers[name] = value;
      }
      const body = response.rawPayload;
      if (response.statusCode === 200 && /^text\/html/.test(headers['content-type'] ?? '')) {
        Object.assign(headers, docsPageHeaders(inlineScriptHashes(body.toString('utf8'))));
      } else if (response.statusCode === 200) {
        // Scalar's script has no version in its URL: revalidated each time, and a 304 while unchanged.
        headers['cache-control'] = 'no-cache';
        headers.etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
      }
      return { status: response.statusCode, headers, body };
    };

    const serve = async (request: FastifyRequest, reply: FastifyReply) => {
      const path = request.url.split('?')[0]!;
      let cached = answers.get(path);
      if (!cached) {
        cached = answer(path);
        answers.set(path, cached);
        // Failures (the module failed to load) are not kept: the next request tries again.
        cached.catch(() => answers.delete(path));
      }
      const { status, headers, body } = await cached;
      // Only the page and its script are kept; anything else (the redirect to /docs/) is asked again.
      if (status !== 200) answers.delete(path);
      reply.code(status).headers(headers);
      if (headers.etag !== undefined && request.headers['if-none-match'] === headers.etag) return reply.code(304).send();
      return reply.send(body);
    };

    // hide: the reference describes the API; its own page and script are not part of it. Other
    // paths under /docs are this server's 404s, in its error shape. (With ignoreTrailingSlash the
    // first route takes /docs/ as well; Scalar redirects /docs there, so relative URLs resolve.)
    app.get(DOCS_PREFIX, { schema: { hide: true } }, serve);
    app.get(SCRIPT_PATH, { schema: { hide: true } }, serve);
  },
  { name: 'docs' },
);

/** The CSP hash source of each inline script of a page: its exact text, hashed. */
function inlineScriptHashes(html: string): string[] {
  const hashes: string[] = [];
  for (const match of html.matchAll(/<script\b(?![^>]*\bsrc=)[^>]*>([\s\S]*?)<\/script>/gi)) {
    hashes.push(`'sha256-${createHash('sha256').update(match[1]!).digest('base64')}'`);
  }
  return hashes;
}
