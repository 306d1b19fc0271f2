import cookie from '@fastify/cookie';
import multipart from '@fastify/multipart';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyServerOptions, type RouteOptions } from 'fastify';
import type { Container } from './container.js';
import { randomBase62 } from './domain/ids.js';
import { AppError } from './domain/errors.js';
import { authPlugin } from './http/plugins/auth.plugin.js';
import { docsPlugin } from './http/plugins/docs.plugin.js';
import { drainPlugin } from './http/plugins/drain.plugin.js';
import { errorsPlugin, sendError } from './http/plugins/errors.plugin.js';
import { metricsRoute, requestMetricsPlugin } from './http/plugins/metrics.plugin.js';
import { openapiPlugin } from './http/plugins/openapi.plugin.js';
import { rateLimitPlugin } from './http/plugins/rate-limit.plugin.js';
import { accountRoutes } from './http/routes/account.routes.js';
import { adminRoutes } from './http/routes/admin.routes.js';
import { assetRoutes } from './http/routes/asset.routes.js';
import { authRoutes } from './http/routes/auth.routes.js';
import { embedRoutes } from './http/routes/embed.routes.js';
import { fileRoutes } from './http/routes/file.routes.js';
import { healthRoutes } from './http/routes/health.routes.js';
import { inviteRoutes } from './http/routes/invite.routes.js';
import { thumbnailRoutes } from './http/routes/thumbnail.routes.js';
import { uploadRoutes } from './http/routes/upload.routes.js';
import { webPlugin } from './http/plugins/web.plugin.js';
import type { App } from './http/types.js';
import { acceptsJson } from './http/accept.js';
import { ConnectionGuard } from './http/connection-limits.js';
import { type FastPath, fromMemory } from './http/from-memory.js';
import { hstsHeader } from './http/views/page-headers.js';
import { logsFileHits, RequestLog } from './http/request-log.js';
import { validatorPerHttpPart } from './http/validation.js';
import type { RequestHistogram } from './services/request-histogram.js';

export interface BuildAppOptions {
  logger?: FastifyServerOptions['logger'];
  /** Sees every route as it is registered: the security tests check their coverage with it. */
  onRoute?: (route: RouteOptions) => void;
  /** The built web app (web/dist) to serve at its own paths; without it, the server is the API and the files only. */
  webDir?: string;
  /**
   * What `GET /metrics` answers with, in a cluster worker: the whole cluster's metrics, which
   * the primary gathers (cluster-metrics.ts). @default this process's metrics
   */
  collectMetrics?: () => Promise<string>;
}

function requestIds(): () => string {
  const prefix = randomBase62(8);
  let counter = 0;
  return () => `${prefix}${(counter++).toString(36)}`;
}

/** The fast path's four series (raw file or thumbnail, GET or HEAD; always 200), found once. */
function fastPathSeries(requests: RequestHistogram) {
  const of = (route: string) => ({ get: requests.of('GET', route, 200), head: requests.of('HEAD', route, 200) });
  return { raw: of('/i/:file'), thumbnail: of('/t/:file') };
}

/** Builds the HTTP app around a container. It never listens: main.ts and tests decide that. */
export async function buildApp(container: Container, options: BuildAppOptions = {}): Promise<App> {
  const { config } = container;
  const errorOptions = { maxFiles: config.maxFiles, maxFileSize: config.maxFileSize };
  // Unique per process start and cheap: request ids correlate logs, they are not secrets.
  const nextRequestId = requestIds();
  let fastPath: FastPath | undefined;
  const hsts = hstsHeader(config.publicUrl);
  // Behind a reverse proxy every connection comes from the proxy: the proxy limits per client.
  const connections = new ConnectionGuard(
    { ...config, maxConnectionsPerIp: config.trustProxy ? 0 : config.maxConnectionsPerIp },
    nextRequestId,
  );
  const app = Fastify({
    logger: options.logger ?? false,
    logController: new RequestLog(),
    trustProxy: config.trustProxy,
    genReqId: nextRequestId,
    requestIdHeader: false,
    bodyLimit: 64 * 1024,
    // The server Fastify would create, with timeouts and connection caps, and a fast path in
    // front (set up at the end).
    serverFactory: (handler) =>
      connections.createServer((request, response) => {
        // Set on the socket's response, so every answer carries it: routes, errors, the fast path.
        if (hsts) response.setHeader('strict-transport-security', hsts);
        if (fastPath?.(request, response) === true) return;
        // Here rather than in a hook, so that it also covers framework errors (a bad URL), which
        // skip every hook. The fast path's raw files carry it already.
        response.setHeader('x-content-type-options', 'nosniff');
        handler(request, response);
      }),
    clientErrorHandler: connections.onClientError,
    forceCloseConnections: 'idle',
    return503OnClosing: false,
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 200 },
    // Errors Fastify raises before routing (e.g. an over-long path segment) get our shape too.
    frameworkErrors: (error, request, reply) => {
      sendError(error, request, reply, errorOptions);
    },
    ajv: { customOptions: { removeAdditional: false, allErrors: false } },
    // Coercion for query strings and params only, never for JSON bodies (see validation.ts).
    schemaController: { compilersFactory: { buildValidator: validatorPerHttpPart() } },
  }).withTypeProvider<TypeBoxTypeProvider>();

  if (options.onRoute) app.addHook('onRoute', options.onRoute);
  const { metrics } = container;
  // First of the hooks: a request another hook refuses (429, 406 ...) is counted too.
  if (metrics) await app.register(requestMetricsPlugin, { requests: metrics.requests });
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id);
    if (request.url.startsWith('/api/') && !acceptsJson(request.headers.accept)) {
      return done(new AppError('NOT_ACCEPTABLE', 'This API answers in JSON: send Accept: application/json (or */*).'));
    }
    done();
  });

  await app.register(errorsPlugin, errorOptions);
  await app.register(drainPlugin);
  // hook: false — no cookie parsing on every request; auth parses the header when it needs it.
  await app.register(cookie, { hook: false });
  await app.register(multipart, {
    limits: {
      fileSize: config.maxFileSize,
      files: config.maxFiles,
      fields: 50,
      fieldSize: 64 * 1024,
      parts: config.maxFiles + 50,
      headerPairs: 100,
    },
    // We check part.file.truncated ourselves, to name the part that was too large.
    throwFileSizeLimit: false,
  });
  // Before auth: an address that keeps guessing keys is refused before its guess is looked up.
  await app.register(rateLimitPlugin, {
    limits: config.rateLimits,
    refused: metrics && ((policy) => metrics.refused(policy)),
    store: container.rateLimitStore,
  });
  await app.register(authPlugin, { apiKeys: container.apiKeys, auth: container.auth });
  // Before the routes: it sees each one as it is registered.
  await app.register(openapiPlugin, { publicUrl: config.publicUrl });

  await app.register(assetRoutes);
  await app.register(healthRoutes, { ready: () => container.ready() });
  await app.register(authRoutes, { auth: container.auth, secureCookies: config.publicUrl.startsWith('https://') });
  await app.register(accountRoutes, { users: container.users, apiKeys: container.apiKeys });
  await app.register(inviteRoutes, { invites: container.invites });
  await app.register(uploadRoutes, { uploads: container.uploads, publicUrl: config.publicUrl });
  await app.register(embedRoutes, { embeds: container.embeds });
  await app.register(adminRoutes, { admin: container.admin, publicUrl: config.publicUrl });
  await app.register(fileRoutes, {
    files: container.files,
    uploads: container.uploads,
    embeds: container.embeds,
    publicUrl: config.publicUrl,
  });
  await app.register(thumbnailRoutes, { thumbnails: container.thumbnails });
  // On the main port only with a token; METRICS_PORT alone serves them on a listener of its own (main.ts).
  if (metrics && config.metrics?.token !== undefined) {
    await app.register(metricsRoute, {
      collect: options.collectMetrics ?? (() => metrics.text()),
      contentType: metrics.contentType,
      token: config.metrics.token,
    });
  }
  await app.register(docsPlugin);
  if (options.webDir) await app.register(webPlugin, { dir: options.webDir, publicUrl: config.publicUrl });

  // Raw files and thumbnails in memory skip Fastify's request cycle, unless their hits are being
  // logged (LOG_LEVEL=debug: every hit must then be) or the server is draining (new requests get
  // the drain plugin's 503).
  if (!logsFileHits(app.log)) {
    const answer = fromMemory({ files: container.files, thumbnails: container.thumbnails, nextRequestId });
    const served = metrics && fastPathSeries(metrics.requests);
    fastPath = (request, response) => {
      if (app.isDraining()) return false;
      const start = served && performance.now();
      if (!answer(request, response)) return false;
      // As Fastify's answers are (requestMetricsPlugin), to the route's pattern; the time is this
      // process's, until the bytes are handed to the socket.
      if (served)
        served[request.url![1] === 'i' ? 'raw' : 'thumbnail'][request.method === 'HEAD' ? 'head' : 'get'].observe(
          (performance.now() - start!) / 1000,
        );
      // A large file to a slow client is still being written: shutdown must wait for it.
      app.trackResponse(response);
      return true;
    };
  }
  return app;
}
