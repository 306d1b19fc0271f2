import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import Fastify from 'fastify';
import fp from 'fastify-plugin';
import { docsPageHeaders } from '../views/page-headers.js';

/** Where the reference lives; the page itself answers at `/docs/`, so that its script's relative URL resolves. */
export const DOCS_PREFIX = '/docs';
/** Scalar's browser bundle, where its page loads it from (`js/scalar.js`, relative). */
const SCRIPT_PATH = `${DOCS_PREFIX}/js/scalar.js`;
/** The live spec the page renders, served by the openapi plugin. */
export const DOCS_SPEC_URL = '/api/openapi.json';

/**
 * Scalar's settings. Nothing may come from another origin (e2e/docs.browser.test.ts cuts the
 * network off): no web fonts from fonts.scalar.com (the system's fonts instead), and none of
 * the buttons that lead to Scalar's hosted services.
 */
const REFERENCE_CONFIGURATION = {
  url: DOCS_SPEC_URL,
  pageTitle: 'Discord Images API',
  withDefaultFonts: false,
  hideClientButton: true,
  showDeveloperTools: 'never',
  agent: { disabled: true },
  mcp: { disabled: true },
} as const;

/**
 * Zod, inside Scalar's bundle, checks whether it may compile code by calling Function(''): the
 * page's CSP forbids that (no 'unsafe-eval'), so the check fails, harmlessly but with an error
 * in the console. Told to run without compiling, it does not check. Set before the bundle runs.
 */
const BEFORE_BUNDLE = 'globalThis.__zod_globalConfig = { jitless: true };\n';

interface Asset {
  headers: Record<string, string>;
  body: Buffer;
  /** The body gzipped, for clients that take it: Scalar's bundle is 4.3 MB, 1.2 MB gzipped. */
  gzipped?: Buffer;
}

interface Reference {
  page: Asset;
  script: Asset;
}

/** What Scalar's plugin answers for the page and its script, taken once from an instance of its own. */
async function loadReference(): Promise<Reference> {
  const { default: scalar } = await import('@scalar/fastify-api-reference');
  const inner = Fastify({ logger: false });
  try {
    await inner.register(scalar, { routePrefix: DOCS_PREFIX, configuration: REFERENCE_CONFIGURATION });
    const get = async (url: string) => {
      const response = await inner.inject({ method: 'GET', url });
      if (response.statusCode !== 200) throw new Error(`Scalar's plugin answered ${response.statusCode} for ${url}`);
      return response.rawPayload;
    };
    const html = await get(`${DOCS_PREFIX}/`);
    const script = Buffer.concat([Buffer.from(BEFORE_BUNDLE), await get(SCRIPT_PATH)]);
    return {
      page: { headers: docsPageHeaders(inlineScriptHashes(html.toString('utf8'))), body: html },
      script: {
        headers: {
          'content-type': 'application/javascript; charset=utf-8',
          // No version in its URL: revalidated each time, a 304 while unchanged.
          'cache-control': 'no-cache',
          etag: `"${createHash('sha256').update(script).digest('base64url').slice(0, 27)}"`,
          vary: 'accept-encoding',
        },
        body: script,
        gzipped: gzipSync(script),
      },
    };
  } finally {
    await inner.close();
  }
}

/**
 * /docs: the API reference, rendered in the browser by Scalar (`@scalar/fastify-api-reference`)
 * from the live spec at /api/openapi.json. Everything it needs is served from here, Scalar's
 * own script included, so it works with no CDN and no network.
 *
 * Scalar's plugin is a 4.3 MB module (its browser bundle inlined, and an OpenAPI parser) that
 * takes 0.5-1 s to import: imported by buildApp, it would double the server's start-up
 * (docs/decisions.md, "Start-up") and slow every test app. So it is imported on the first
 * request for /docs, registered in a Fastify instance of its own that never listens, asked
 * once for the page and the script (both fixed for the life of the process), and closed.
 */
export const docsPlugin = fp(
  async (app: FastifyInstance) => {
    let reference: Promise<Reference> | undefined;
    const loaded = () =>
      (reference ??= loadReference().catch((error: unknown) => {
        // Not kept: the next request tries again.
        reference = undefined;
        throw error;
      }));

    const send = (request: FastifyRequest, reply: FastifyReply, { headers, body, gzipped }: Asset) => {
      reply.headers(headers);
      if (headers.etag !== undefined && request.headers['if-none-match'] === headers.etag) return reply.code(304).send();
      if (gzipped && /\bgzip\b/.test(request.headers['accept-encoding'] ?? ''))
        return reply.header('content-encoding', 'gzip').send(gzipped);
      return reply.send(body);
    };

    // hide: the reference describes the API; its own page and script are not part of it. Other
    // paths under /docs get this server's 404, in its error shape.
    app.get(DOCS_PREFIX, { schema: { hide: true } }, async (request, reply) => {
      // ignoreTrailingSlash (app.ts) brings /docs and /docs/ here; the page's relative URLs need the slash.
      if (!request.url.split('?')[0]!.endsWith('/')) return reply.redirect(`${DOCS_PREFIX}/`, 301);
      return send(request, reply, (await loaded()).page);
    });
    app.get(SCRIPT_PATH, { schema: { hide: true } }, async (request, reply) => send(request, reply, (await loaded()).script));
  },
  { name: 'docs' },
);

/** The CSP source of each inline script of a page: the hash of its exact text. */
function inlineScriptHashes(html: string): string[] {
  const hashes: string[] = [];
  for (const match of html.matchAll(/<script\b(?![^>]*\bsrc=)[^>]*>([\s\S]*?)<\/script>/gi)) {
    hashes.push(`'sha256-${createHash('sha256').update(match[1]!).digest('base64')}'`);
  }
  return hashes;
}
