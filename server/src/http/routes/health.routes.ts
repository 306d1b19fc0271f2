import { Type } from 'typebox';
import { AppError } from '../../domain/errors.js';
import { answer } from '../../contract/common.js';
import type { App } from '../types.js';

export interface HealthRoutesOptions {
  /** Throws when the database or storage cannot be reached; says how Redis is when it is configured. */
  ready: () => Promise<{ storage: 'local' | 's3'; redis?: 'ready' | 'unavailable' }>;
}

const Status = Type.Object({ status: Type.String() });
const Readiness = Type.Object({
  status: Type.String(),
  storage: Type.Union([Type.Literal('local'), Type.Literal('s3')], {
    description: 'Where files are stored (STORAGE), checked for this answer: the data directory is writable, or the S3 bucket answers.',
  }),
  redis: Type.Optional(
    Type.Union([Type.Literal('ready'), Type.Literal('unavailable')], {
      description:
        'Only with REDIS_URL. `unavailable` does not make the node unready: it serves on, with rate limits counted on this node alone until Redis is back.',
    }),
  ),
});

export async function healthRoutes(app: App, { ready }: HealthRoutesOptions): Promise<void> {
  app.get(
    '/healthz',
    {
      schema: {
        tags: ['health'],
        operationId: 'checkHealth',
        summary: 'Liveness: the process answers',
        response: { 200: answer('Alive: {"status":"ok"}', Status) },
      },
    },
    async () => ({ status: 'ok' }),
  );

  app.get(
    '/readyz',
    {
      schema: {
        tags: ['health'],
        operationId: 'checkReadiness',
        summary: 'Readiness: database and storage reachable',
        description: 'Answers 503 SERVICE_UNAVAILABLE while the database or the storage cannot be reached.',
        response: { 200: answer('Ready: {"status":"ready","storage":"local"}, with "redis" when REDIS_URL is set', Readiness) },
      },
    },
    async (request) => {
      let report: Awaited<ReturnType<typeof ready>>;
      try {
        report = await ready();
      } catch (error) {
        request.log.warn({ err: error }, 'not ready');
        throw new AppError('SERVICE_UNAVAILABLE', 'The database or the storage cannot be reached.');
      }
      return { status: 'ready', ...report };
    },
  );
}
