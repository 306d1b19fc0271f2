import Fastify, { type FastifyInstance, type FastifyServerOptions, LogController } from 'fastify';
import { type ErrorsOptions, errorsPlugin } from './plugins/errors.plugin.js';
import { metricsRoute } from './plugins/metrics.plugin.js';

export interface MetricsServerOptions {
  collect: () => Promise<string>;
  contentType: string;
  host: string;
  port: number;
  logger: FastifyServerOptions['logger'];
  errors: ErrorsOptions;
}

/**
 * METRICS_PORT: `GET /metrics` on a listener of its own, without authentication, for a port
 * that only the monitoring network reaches (METRICS_HOST). Nothing else answers there but 404s
 * in the API's error shape. Its requests are not logged: a scrape every 15 s is noise.
 */
export async function listenForMetrics({
  collect,
  contentType,
  host,
  port,
  logger,
  errors,
}: MetricsServerOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger: logger ?? false,
    logController: new LogController({ disableRequestLogging: true }),
    forceCloseConnections: true,
  });
  await app.register(errorsPlugin, errors);
  await app.register(metricsRoute, { collect, contentType, token: undefined });
  await app.listen({ host, port });
  return app;
}
