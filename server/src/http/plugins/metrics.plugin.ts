import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { AppError } from '../../domain/errors.js';
import type { RequestHistogram } from '../../services/request-histogram.js';

/** The route label of requests no route matched (404s of unknown paths): one value for all of them. */
export const UNMATCHED_ROUTE = 'unmatched';

/**
 * Records each answer Fastify sends in the request histogram: method, the route's pattern (never
 * the URL, so the label's values stay as few as the routes) and status, with Fastify's own
 * elapsed time. The fast path's answers are recorded where it runs (app.ts).
 */
export const requestMetricsPlugin = fp<{ requests: RequestHistogram }>(
  async (app: FastifyInstance, { requests }) => {
    app.addHook('onResponse', (request, reply, done) => {
      requests.of(request.method, request.routeOptions.url ?? UNMATCHED_ROUTE, reply.statusCode).observe(reply.elapsedTime / 1000);
      done();
    });
  },
  { name: 'request-metrics' },
);

export interface MetricsRouteOptions {
  /** The metrics in the text exposition format: this process's, or the whole cluster's. */
  collect: () => Promise<string>;
  contentType: string;
  /** Required as `Authorization: Bearer <token>`; undefined on the metrics port's own listener, which needs none. */
  token: string | undefined;
}

const digest = (value: string): Buffer => createHash('sha256').update(value).digest();

/**
 * `GET /metrics` for Prometheus. Hidden from the API's spec: it is an operator's endpoint in
 * Prometheus's text format, not part of the JSON API (docs/metrics.md documents it).
 */
export async function metricsRoute(app: FastifyInstance, { collect, contentType, token }: MetricsRouteOptions): Promise<void> {
  const expected = token === undefined ? undefined : digest(token);
  app.get('/metrics', { schema: { hide: true } }, async (request, reply) => {
    if (expected) {
      const sent = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '')?.[1];
      // Compared as digests: equal lengths, and no timing that tells how much of a guess was right.
      if (sent === undefined || !timingSafeEqual(digest(sent), expected)) {
        reply.header('www-authenticate', 'Bearer realm="metrics"');
        throw new AppError('UNAUTHORIZED', 'Send the metrics token: Authorization: Bearer <METRICS_TOKEN> (docs/metrics.md).');
      }
    }
    const text = await collect();
    return reply.header('content-type', contentType).header('cache-control', 'no-store').send(text);
  });
}
