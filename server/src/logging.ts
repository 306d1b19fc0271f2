import type { FastifyServerOptions } from 'fastify';
import type { Config } from './config/config.js';

/** Request headers never written to a log. */
const REDACTED = ['req.headers.token', 'req.headers.authorization', 'req.headers.cookie'];

/** Whether log lines are made for a person (pino-pretty) rather than JSON: LOG_FORMAT, or with `auto` whether stdout is a terminal. */
export function prettyLogs(format: Config['logFormat'], stdout: { isTTY?: boolean }): boolean {
  return format === 'pretty' || (format === 'auto' && stdout.isTTY === true);
}

/**
 * The server's logger: pino JSON lines (each request's lines carry its id as `reqId`, the
 * x-request-id header's value) for a log collector; for a terminal, the same lines through
 * pino-pretty, in this process (a pino transport would run in a worker thread, loading files
 * the bundled server does not have next to it) and written synchronously, so the last lines
 * before an exit are not lost.
 */
export async function loggerOptions(
  config: Pick<Config, 'logLevel' | 'logFormat'>,
  stdout: NodeJS.WriteStream,
): Promise<FastifyServerOptions['logger']> {
  const options = { level: config.logLevel, redact: REDACTED };
  if (!prettyLogs(config.logFormat, stdout)) return options;
  const { default: pretty } = await import('pino-pretty');
  return {
    ...options,
    stream: pretty({
      colorize: stdout.isTTY === true && stdout.hasColors?.() !== false,
      translateTime: 'SYS:HH:MM:ss.l',
      ignore: 'pid,hostname',
      singleLine: true,
      sync: true,
    }),
  };
}
