import cluster from 'node:cluster';
import { buildApp } from './app.js';
import { ClusterDeletionBus, relayDeletions } from './cluster-deletion-bus.js';
import { type Config, ConfigError, loadConfig } from './config/config.js';
import { createContainer, createStorage } from './container.js';
import { type DatabaseHandle, migrate, openDatabase } from './db/database.js';

/** Loads and validates the configuration; a bad value stops the process with one clear line per problem. */
function configOrExit(): Readonly<Config> {
  try {
    return loadConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`Invalid configuration:\n${error.message.replace(/^/gm, '  ')}\n`);
    process.exit(1);
  }
}

/** Serves HTTP: one process on its own, or a cluster worker (which opens its own database). */
async function serve(config: Readonly<Config>, database?: DatabaseHandle): Promise<void> {
  const container = await createContainer(config, cluster.isWorker ? { deletions: new ClusterDeletionBus() } : { database });
  const app = await buildApp(container, {
    logger: { level: config.logLevel, redact: ['req.headers.token', 'req.headers.authorization', 'req.headers.cookie'] },
  });
  await app.listen({ port: config.port, host: config.host });
  container.sweeper.start(app.log);

  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, 'finishing in-flight requests, then exiting');
    const force = setTimeout(() => {
      app.log.warn('in-flight requests did not finish in time; exiting anyway');
      process.exit(1);
    }, config.shutdownTimeout);
    force.unref();
    void app
      .drain()
      .then(() => app.close())
      .then(() => container.close())
      .then(() => database?.close())
      .then(
        () => process.exit(0),
        (error: unknown) => {
          app.log.error({ err: error }, 'shutdown failed');
          process.exit(1);
        },
      );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

async function main(): Promise<void> {
  const config = configOrExit();
  if (!cluster.isPrimary) return serve(config);
  // Migrations run once, in the primary, before anything serves.
  const database = openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  await migrate(database);
  // Nothing is in flight before the first process serves: tmp/ holds only what a crash cut off.
  await (await createStorage(config)).sweepTemp();
  if (config.workers <= 1) return serve(config, database);
  await database.close();

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
