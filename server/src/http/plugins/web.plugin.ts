import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { extname, join, relative, sep } from 'node:path';
import type { FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { AppError } from '../../domain/errors.js';
import { isUploadId } from '../../domain/ids.js';
import { appPageHeaders } from '../views/page-headers.js';
import type { App } from '../types.js';

/**
 * The web app's own paths, answered with its index.html (the app routes in the browser). Each
 * must never be an upload id (exactly 10 base62 characters), so that it cannot hide a share
 * page at `/:id`: the plugin refuses to start otherwise. Keep in step with web/src/router.ts.
 */
export const APP_PATHS = [
  '/',
  '/auth',
  '/keys',
  '/setup',
  '/settings',
  '/admin',
  '/admin/users',
  '/admin/invites',
  '/admin/embed',
  '/admin/usage',
] as const;

/** Where Vite puts the hashed files; their names change with their content. */
const ASSETS = 'assets';

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.webp': 'image/webp',
  '.woff2': 'font/woff2',
  '.json': 'application/json',
};

type Encoding = 'br' | 'gzip' | 'identity';

/** A built file held in memory, with its compressed forms when the build made them. */
interface WebFile {
  type: string;
  bodies: Partial<Record<Encoding, Buffer>> & { identity: Buffer };
  etag: string;
}

export interface WebPluginOptions {
  /** The built app (web/dist). Missing: the app's paths say how to build it. */
  dir: string;
  publicUrl: string;
}

async function* walk(dir: string): AsyncGenerator<string> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(path);
    else yield path;
  }
}

/** The built files by URL path (`/assets/index-abc123.js`); `.br`/`.gz` siblings become encodings. */
async function load(dir: string): Promise<Map<string, WebFile>> {
  const files = new Map<string, WebFile>();
  if (!existsSync(join(dir, 'index.html'))) return files;
  for await (const path of walk(dir)) {
    const name = relative(dir, path).split(sep).join('/');
    if (name.startsWith('.') || name.endsWith('.br') || name.endsWith('.gz')) continue;
    const identity = await readFile(path);
    const sibling = (suffix: string) => (existsSync(path + suffix) ? readFile(path + suffix) : Promise.resolve(undefined));
    const [br, gzip] = await Promise.all([sibling('.br'), sibling('.gz')]);
    files.set(`/${name}`, {
      type: TYPES[extname(name)] ?? 'application/octet-stream',
      bodies: { identity, ...(br && { br }), ...(gzip && { gzip }) },
      etag: `"${createHash('sha256').update(identity).digest('base64url').slice(0, 22)}"`,
    });
  }
  return files;
}

/** The best encoding the client accepts among those the file has (`q=0` refuses one). */
export function chooseEncoding(header: string | undefined, available: WebFile['bodies']): Encoding {
  const accepted = new Map<string, number>();
  for (const part of (header ?? '').toLowerCase().split(',')) {
    const [name, ...params] = part.trim().split(';');
    const q = params.map((param) => /^\s*q=([\d.]+)\s*$/.exec(param)).find(Boolean);
    if (name) accepted.set(name.trim(), q ? Number(q[1]) : 1);
  }
  const wants = (encoding: string) => (accepted.get(encoding) ?? accepted.get('*') ?? 0) > 0;
  if (available.br && wants('br')) return 'br';
  if (available.gzip && wants('gzip')) return 'gzip';
  return 'identity';
}

function send(request: FastifyRequest, reply: FastifyReply, file: WebFile, headers: Record<string, string>): FastifyReply {
  const encoding = chooseEncoding(request.headers['accept-encoding'], file.bodies);
  const etag = encoding === 'identity' ? file.etag : `${file.etag.slice(0, -1)}-${encoding}"`;
  reply.headers({ ...headers, 'content-type': file.type, etag, vary: 'accept-encoding' });
  if (request.headers['if-none-match']?.split(/\s*,\s*/).includes(etag)) return reply.code(304).send();
  if (encoding !== 'identity') reply.header('content-encoding', encoding);
  return reply.send(file.bodies[encoding]);
}

/**
 * Serves the built web app from memory: hashed files under /assets/ cached for a year
 * (`immutable`: their names change with their content), index.html for the app's own paths,
 * asked for again each time, and each in the best compression the client takes (made at build
 * time by web/build.js). Nothing else is answered here, so `/:id` share pages, `/i/`, `/t/`,
 * `/d/`, `/api/` and `/docs` keep their own routes; see docs/decisions.md ("The web app").
 */
export const webPlugin = fp<WebPluginOptions>(
  async (app, { dir, publicUrl }) => {
    const shadowing = APP_PATHS.filter((path) => isUploadId(path.slice(1)));
    if (shadowing.length > 0) throw new Error(`web app paths ${shadowing.join(', ')} could be upload ids and would hide share pages`);
    const files = await load(dir);
    const index = files.get('/index.html');
    const pageHeaders = appPageHeaders(publicUrl);
    const assetHeaders = { 'cache-control': 'public, max-age=31536000, immutable', 'x-content-type-options': 'nosniff' };

    // hide: the web app's pages and files are not part of the API the reference describes.
    for (const path of APP_PATHS) {
      (app as App).get(path, { schema: { hide: true } }, async (request, reply) => {
        if (!index) {
          throw new AppError('SERVICE_UNAVAILABLE', 'The web app is not built: run `npm install` (or `node web/build.js`), then restart.');
        }
        return send(request, reply, index, pageHeaders);
      });
    }
    (app as App).get(
      `/${ASSETS}/*`,
      // Exempt like images: a page load fetches a few of these, and a release changes their names.
      { config: { limit: 'exempt' }, schema: { hide: true } },
      async (request, reply) => {
        const file = files.get(request.url.split('?')[0]!);
        if (!file || !request.url.startsWith(`/${ASSETS}/`)) throw new AppError('NOT_FOUND', 'There is no such file of the web app.');
        return send(request, reply, file, assetHeaders);
      },
    );
  },
  { name: 'web' },
);
