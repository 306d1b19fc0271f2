import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { Actor } from '../../domain/actor.js';
import { AppError } from '../../domain/errors.js';
import { API_KEY_PREFIX, isApiKeyFormat, safeEqual } from '../../domain/ids.js';
import type { ApiKeyService } from '../../services/api-key.service.js';
import { type AuthService, csrfTokenFor } from '../../services/auth.service.js';

export const SESSION_COOKIE = 'di_session';
const CSRF_HEADER = 'x-csrf-token';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Routes that need an account set this; the plugin then fills request.actor or answers 401. */
    auth?: boolean;
  }
  interface FastifyRequest {
    actor: Actor | undefined;
  }
}

export interface AuthPluginOptions {
  apiKeys: ApiKeyService;
  auth: AuthService;
}

const GET_A_KEY = 'Registering (POST /api/auth/register) gives you one; POST /api/keys makes more.';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * The session cookie's value. Cookies are parsed here, on the routes that look at them, rather
 * than by a hook on every request (raw image serving never needs them).
 */
export function sessionCookie(request: FastifyRequest): string | undefined {
  const header = request.headers.cookie;
  return header === undefined ? undefined : request.server.parseCookie(header)[SESSION_COOKIE];
}

/** The key from `token: <key>` (the seed's header) or `Authorization: Bearer <key>`. */
function presentedKey(request: FastifyRequest): string | undefined {
  const token = request.headers.token;
  if (typeof token === 'string') return token.trim();
  const authorization = request.headers.authorization;
  if (authorization === undefined) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
  if (!match) throw new AppError('UNAUTHORIZED', 'The Authorization header must be "Bearer <your API key>".');
  return match[1];
}

async function authenticate(request: FastifyRequest, options: AuthPluginOptions): Promise<Actor> {
  const key = presentedKey(request);
  if (key !== undefined) {
    // A key of the wrong shape is not looked up; only one without the prefix is told what keys look like.
    const actor = isApiKeyFormat(key) ? await options.apiKeys.authenticate(key) : undefined;
    if (actor) return actor;
    if (!key.startsWith(API_KEY_PREFIX))
      throw new AppError('UNAUTHORIZED', `That is not an API key: keys start with ${API_KEY_PREFIX}. ${GET_A_KEY}`);
    throw new AppError('UNAUTHORIZED', `This API key is not valid or has been revoked. ${GET_A_KEY}`);
  }
  const session = sessionCookie(request);
  if (session) {
    const actor = await options.auth.authenticateSession(session);
    if (!actor) throw new AppError('UNAUTHORIZED', 'Your session has expired; sign in again.');
    // A cookie rides along with cross-site requests; a change must also prove it came from our page.
    const csrf = request.headers[CSRF_HEADER];
    if (!SAFE_METHODS.has(request.method) && (typeof csrf !== 'string' || !safeEqual(csrf, csrfTokenFor(session)))) {
      throw new AppError('CSRF_INVALID', `Missing or wrong ${CSRF_HEADER} header: send the csrf_token from sign-in (or GET /api/me).`);
    }
    return actor;
  }
  throw new AppError('UNAUTHORIZED', `Send your API key in the token header (or Authorization: Bearer). ${GET_A_KEY}`);
}

export const authPlugin = fp<AuthPluginOptions>(
  async (app: FastifyInstance, options) => {
    app.decorateRequest('actor', undefined);
    // onRequest: an unauthorised upload is refused before a byte of its body is read.
    // Callback style: the hook runs on every request, most of which (images) need no account.
    app.addHook('onRequest', (request, _reply, done) => {
      if (!request.routeOptions.config.auth) return done();
      authenticate(request, options).then((actor) => {
        request.actor = actor;
        done();
      }, done);
    });
  },
  { name: 'auth', dependencies: ['@fastify/cookie'] },
);

/** The authenticated actor of a route declared with `config: { auth: true }`. */
export function actorOf(request: FastifyRequest): Actor {
  if (!request.actor) throw new AppError('UNAUTHORIZED', 'This route needs an API key.');
  return request.actor;
}
