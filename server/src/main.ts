import cluster from 'node:cluster';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { buildApp } from './app.js';
import { ClusterDeletionBus, relayDeletions } from './cluster-deletion-bus.js';
import { gatherClusterMetrics, reportToPrimary } from './cluster-metrics.js';
import { type Config, ConfigError, loadConfig } from './config/config.js';
import { withEnvFile } from './config/env-file.js';
import { createContainer } from './container.js';
import { type DatabaseHandle, databaseOptions, migrate, openDatabase } from './db/database.js';
import { listenForMetrics } from './http/metrics-server.js';
import { loggerOptions } from './logging.js';
import { UserRepository } from './repositories/user.repository.js';
import { publicUrlWarning, startupBanner } from './startup-banner.js';
import { makeDataDirPrivate, PRIVATE_UMASK, sweepTemp, uploadTempDir } from './storage/data-dir.js';

/**
 * The built web app, part of the install rather than of the configuration. This file is
 * server/src/main.ts under tsx and server/dist/main.js once bundled: the checkout's root is two
 * folders up from either.
 */
const WEB_DIR = fileURLToPath(new URL('../../web/dist', import.meta.url));

/**
 * Loads and validates the configuration (the environment over `.env` in the working directory);
 * a bad value stops the process with one clear line per problem.
 */
function configOrExit(): Readonly<Config> {
  try {
    return loadConfig(withEnvFile());
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`Invalid configuration:\n${error.message.replace(/^/gm, '  ')}\n`);
    process.exit(1);
  }
}

/** Tells the person who started the server what it does and what to do next, once per start (the primary only). */
function announce(config: Readonly<Config>, port: number, hasAdmin: boolean): void {
  process.stdout.write(startupBanner({ config, port, hasAdmin }));
  const warning = publicUrlWarning({ config });
  if (warning) process.stderr.write(warning);
}

/** Serves HTTP: one process on its own, or a cluster worker (which opens its own database). Returns the port bound. */
async function serve(config: Readonly<Config>, database?: DatabaseHandle): Promise<number> {
  const container = await createContainer(config, cluster.isWorker ? { deletions: new ClusterDeletionBus() } : { database });
  const logger = await loggerOptions(config, process.stdout);
  // In a cluster, /metrics (on whichever worker gets it) covers every worker: the primary gathers them.
  const collectMetrics = cluster.isWorker && container.metrics ? reportToPrimary(container.metrics) : undefined;
  const app = await buildApp(container, { logger, webDir: WEB_DIR, collectMetrics });
  await app.listen({ port: config.port, host: config.host });
  container.sweeper.start(app.log);
  container.redis?.useLog(app.log);
  const { metrics } = container;
  const metricsServer =
    metrics && cluster.isPrimary && config.metrics?.port !== undefined
      ? await listenForMetrics({
          collect: () => metrics.text(),
          contentType: metrics.contentType,
          host: config.metrics.host,
          port: config.metrics.port,
          logger,
          errors: config,
        })
      : undefined;

  let closing = false;
  // Uploads still running at exit have lost their clients, or run out of time: their temp files go.
  const exit = (code: number) => {
    container.uploads.discardTempFiles();
    process.exit(code);
  };
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, 'finishing in-flight requests, then exiting');
    const force = setTimeout(() => {
      app.log.warn('in-flight requests did not finish in time; exiting anyway');
      exit(1);
    }, config.shutdownTimeout);
    force.unref();
    void app
      .drain()
      .then(() => Promise.all([app.close(), metricsServer?.close()]))
      .then(() => container.close())
      .then(() => database?.close())
      .then(
        () => exit(0),
        (error: unknown) => {
          app.log.error({ err: error }, 'shutdown failed');
          exit(1);
        },
      );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  return (app.server.address() as AddressInfo).port;
}

async function main(): Promise<void> {
  const config = configOrExit();
  // Before anything is created, in every process (cluster workers too).
  process.umask(PRIVATE_UMASK);
  if (!cluster.isPrimary) {
    await serve(config);
    return;
  }
  for (const change of await makeDataDirPrivate(config.dataDir)) process.stderr.write(`warning: ${change}\n`);
  // Migrations run once, in the primary, before anything serves.
  const database = openDatabase(databaseOptions(config));
  await migrate(database);
  const hasAdmin = await new UserRepository(database.db).hasAdmin();
  // Nothing is in flight before the first process serves: tmp/ holds only what a crash cut off.
  await sweepTemp(uploadTempDir(config.dataDir));
  if (config.workers <= 1) return announce(config, await serve(config, database), hasAdmin);
  await database.close();
  cluster.once('listening', (_worker, address) => announce(config, address.port, hasAdmin));
  if (config.metrics) {
    // Before the workers start: they may be asked for /metrics as soon as they listen.
    const gathered = gatherClusterMetrics();
    if (config.metrics.port !== undefined) {
      await listenForMetrics({
        ...gathered,
        host: config.metrics.host,
        port: config.metrics.port,
        logger: await loggerOptions(config, process.stdout),
        errors: config,
      });
    }
  }

  // Several processes share the port (node:cluster); all state is in the database and storage.
  for (let i = 0; i < config.workers; i++) cluster.fork();
  relayDeletions();
  let stopping = false;
  cluster.on('exit', (worker, code) => {
    if (!stopping && code !== 0) {
      process.stderr.write(`worker ${worker.process.pid} exited with code ${code}; starting another\n`);
      cluster.fork();
    } else if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0);
  });
  const stop = (signal: NodeJS.Signals) => {
    stopping = true;
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill(signal);
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((error: unknown) => {
  process.stderr.write(`Discord Images failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
