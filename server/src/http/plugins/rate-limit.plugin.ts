import rateLimit, { type FastifyRateLimitStore, type FastifyRateLimitStoreCtor, normalizeIP } from '@fastify/rate-limit';
import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestAsyncHookHandler, RouteOptions } from 'fastify';
import fp from 'fastify-plugin';
import type { RateLimits } from '../../config/config.js';
import { AppError } from '../../domain/errors.js';
import { FAST_PATH_ROUTES } from '../from-memory.js';
import { MemoryRateLimitStore } from './rate-limit-store.js';

/**
 * What a route is limited as. A route names its class in `config.limit`; without one, a
 * route with `auth` is 'account' and any other 'public', so a new route is never unlimited
 * by accident.
 */
export type LimitClass = 'exempt' | 'public' | 'account' | 'upload' | 'login' | 'register' | 'deletion-link';

declare module 'fastify' {
  interface FastifyContextConfig {
    limit?: LimitClass;
  }
  interface FastifyRequest {
    /** The policies counted for this request so far, for the RateLimit header. */
    rateLimitStates: PolicyState[] | null;
  }
}

type Policy = keyof RateLimits;

interface PolicyState {
  policy: Policy;
  remaining: number;
  /** Milliseconds until the window resets. */
  ttl: number;
}

interface ClassPolicies {
  /** Counted on every request. */
  every: Policy[];
  /** Guessing: checked before the request runs, counted only when its answer says the guess was wrong. */
  failures?: { policy: Policy; wrong: (request: FastifyRequest, status: number) => boolean };
}

/** A key or session was presented and refused: a missing one (someone who forgot the header) is no guess. */
const wrongCredential = (request: FastifyRequest, status: number): boolean =>
  status === 401 &&
  (request.headers.token !== undefined || request.headers.authorization !== undefined || request.headers.cookie !== undefined);

const CLASSES: Record<LimitClass, ClassPolicies> = {
  exempt: { every: [] },
  public: { every: ['ip'] },
  account: { every: ['ip', 'account'], failures: { policy: 'badKey', wrong: wrongCredential } },
  upload: { every: ['ip', 'account', 'upload'], failures: { policy: 'badKey', wrong: wrongCredential } },
  login: { every: ['ip', 'login'] },
  register: { every: ['ip', 'register'] },
  // A wrong secret and an unknown id both answer 404 (UPLOAD_NOT_FOUND).
  'deletion-link': { every: ['ip'], failures: { policy: 'badLink', wrong: (_request, status) => status === 404 } },
};

/** Policies counted per account, once the auth plugin knows it; all others count per client address. */
const PER_ACCOUNT = new Set<Policy>(['account', 'upload']);

const REFUSAL: Record<Policy, string> = {
  ip: 'Too many requests from your address',
  account: 'Too many requests for your account',
  upload: 'Too many uploads for your account',
  login: 'Too many sign-in attempts from your address',
  register: 'Too many registrations from your address',
  badKey: 'Too many requests with a wrong API key or session from your address',
  badLink: 'Too many wrong deletion links from your address',
};

/** The route's class as the rule above resolves it. */
export function limitClassOf(route: Pick<RouteOptions, 'config'>): LimitClass {
  return route.config?.limit ?? (route.config?.auth ? 'account' : 'public');
}

export interface RateLimitPluginOptions {
  /** null: RATE_LIMIT=off, nothing is counted or refused. */
  limits: RateLimits | null;
  /** Told of each refusal (429), for the metrics. */
  refused?: (policy: Policy) => void;
  /** Where the counters live: Redis with REDIS_URL (shared by every node). @default this process's memory */
  store?: FastifyRateLimitStore;
}

const WINDOW_NAMES: Record<number, string> = { 1: 'a second', 60: 'a minute', 3600: 'an hour' };
/** "a minute", "per 10 minutes", "per 90 seconds". */
const per = (seconds: number): string =>
  WINDOW_NAMES[seconds] ?? (seconds % 60 === 0 ? `per ${seconds / 60} minutes` : `per ${seconds} seconds`);

/**
 * Per-address and per-account limits, stricter ones on sign-in, registration, uploads and
 * guessing (wrong keys, wrong deletion links), through @fastify/rate-limit's store. Answers of
 * limited routes carry the IETF httpapi draft's `RateLimit-Policy` and `RateLimit`; a refusal
 * is our 429 RATE_LIMITED with `Retry-After`. Register it before the auth plugin: guessing
 * is refused before a key is looked up.
 */
export const rateLimitPlugin = fp<RateLimitPluginOptions>(
  async (app: FastifyInstance, { limits, refused, store }) => {
    const perAccount = limits ? await enforce(app, limits, refused, store ?? new MemoryRateLimitStore()) : undefined;
    // Resolved once per route, so every hook (and the test of every route) reads the same class.
    app.addHook('onRoute', (route) => {
      const limit = limitClassOf(route);
      route.config = { ...route.config, limit };
      // The fast path answers these before any hook runs: it can only stand in for a route no limit applies to.
      if (FAST_PATH_ROUTES.includes(route.url) && limit !== 'exempt') {
        throw new Error(
          `${route.url} is served by the in-memory fast path (http/from-memory.ts), which no rate limit sees: it must be limit: 'exempt', or leave the fast path`,
        );
      }
      if (perAccount && CLASSES[limit].every.some((policy) => PER_ACCOUNT.has(policy))) {
        // Route-level hooks run after the global ones, so the auth plugin has found the account.
        route.onRequest = [route.onRequest ?? []].flat().concat(perAccount);
      }
    });
  },
  { name: 'rate-limit', dependencies: ['errors'] },
);

/** The limit of the route a request matched; none for requests no route matched (cheap 404s). */
const limitOf = (request: FastifyRequest): LimitClass | undefined =>
  (request.routeOptions.config as { limit?: LimitClass } | undefined)?.limit;

/** Installs the counting hooks; returns the per-account check, for the routes that need one. */
async function enforce(
  app: FastifyInstance,
  limits: RateLimits,
  refused: ((policy: Policy) => void) | undefined,
  store: FastifyRateLimitStore,
): Promise<onRequestAsyncHookHandler> {
  // The store changes where counters live, never what is counted: keys carry the policy's
  // name, so policies stay apart in any store. The plugin builds its store with `new`; this
  // hands it the one chosen by the container.
  const Store = function () {
    return store;
  } as unknown as FastifyRateLimitStoreCtor;
  await app.register(rateLimit, { global: false, store: Store });
  const policies = Object.keys(limits) as Policy[];
  const counters = Object.fromEntries(
    policies.map((policy) => {
      const keyOf = PER_ACCOUNT.has(policy)
        ? (request: FastifyRequest) => `${policy}:${request.actor?.userId ?? ''}`
        : (request: FastifyRequest) => `${policy}:${normalizeIP(request.ip)}`;
      return [
        policy,
        app.createRateLimit({ max: limits[policy].max, timeWindow: limits[policy].windowSeconds * 1000, keyGenerator: keyOf }),
      ];
    }),
  ) as Record<Policy, ReturnType<FastifyInstance['createRateLimit']>>;
  const policiesOf = (limit: LimitClass): Policy[] => {
    const { every, failures } = CLASSES[limit];
    return failures ? [...every, failures.policy] : every;
  };
  const policyHeaders = Object.fromEntries(
    (Object.keys(CLASSES) as LimitClass[]).map((limit) => [
      limit,
      policiesOf(limit)
        .map((p) => `"${p}";q=${limits[p].max};w=${limits[p].windowSeconds}`)
        .join(', '),
    ]),
  ) as Record<LimitClass, string>;

  /** Counts (or, for a guessing policy, only reads) one policy; a refusal when it is spent. */
  const check = async (request: FastifyRequest, policy: Policy, increment: boolean): Promise<AppError | undefined> => {
    const result = await counters[policy](request, { increment });
    if (result.isAllowed) return undefined;
    (request.rateLimitStates ??= []).push({ policy, remaining: result.remaining, ttl: result.ttl });
    // A read shows the failures so far: once they reach max, the next attempt is refused.
    if (increment ? !result.isExceeded : result.remaining > 0) return undefined;
    refused?.(policy);
    const seconds = Math.max(1, result.ttlInSeconds);
    const { max, windowSeconds } = limits[policy];
    return new AppError(
      'RATE_LIMITED',
      `${REFUSAL[policy]} (at most ${max} ${per(windowSeconds)}): try again in ${seconds} ${seconds === 1 ? 'second' : 'seconds'}.`,
      seconds,
    );
  };
  const checkAll = async (request: FastifyRequest, which: Policy[], increment: boolean): Promise<AppError | undefined> => {
    for (const policy of which) {
      const refusal = await check(request, policy, increment);
      if (refusal) return refusal;
    }
    return undefined;
  };
  const split = (limit: LimitClass) => ({
    byAddress: CLASSES[limit].every.filter((policy) => !PER_ACCOUNT.has(policy)),
    byAccount: CLASSES[limit].every.filter((policy) => PER_ACCOUNT.has(policy)),
    failures: CLASSES[limit].failures,
  });

  app.decorateRequest('rateLimitStates', null);
  // Runs before the auth plugin's hook (registered after this plugin): an address that
  // guesses is refused before its guess is looked up.
  app.addHook('onRequest', (request, _reply, done) => {
    const limit = limitOf(request);
    if (!limit || limit === 'exempt') return done();
    const { byAddress, failures } = split(limit);
    checkAll(request, byAddress, true)
      .then(async (refusal) => refusal ?? (failures && (await check(request, failures.policy, false))))
      .then(done, done);
  });

  app.addHook('onSend', async (request: FastifyRequest, reply: FastifyReply) => {
    const limit = limitOf(request);
    if (!limit || limit === 'exempt') return;
    const failures = CLASSES[limit].failures;
    if (failures?.wrong(request, reply.statusCode)) {
      const counted = await counters[failures.policy](request);
      const state = request.rateLimitStates?.find((s) => s.policy === failures.policy);
      if (state && !counted.isAllowed) Object.assign(state, { remaining: counted.remaining, ttl: counted.ttl });
    }
    reply.header('ratelimit-policy', policyHeaders[limit]);
    const states = request.rateLimitStates;
    if (!states) return;
    // In the order of RateLimit-Policy, whichever hook counted each.
    const order = policiesOf(limit);
    states.sort((a, b) => order.indexOf(a.policy) - order.indexOf(b.policy));
    reply.header('ratelimit', states.map((s) => `"${s.policy}";r=${s.remaining};t=${Math.ceil(s.ttl / 1000)}`).join(', '));
  });

  return async (request) => {
    const refusal = await checkAll(request, split(limitOf(request) ?? 'public').byAccount, true);
    if (refusal) throw refusal;
  };
}
