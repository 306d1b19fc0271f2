import { Type } from 'typebox';
import { AppError } from '../../domain/errors.js';
import type { App } from '../types.js';

export interface HealthRoutesOptions {
  /** Throws when the database or storage cannot be reached. */
  ready: () => Promise<void>;
}

const Status = Type.Object({ status: Type.String() });

export async function healthRoutes(app: App, { ready }: HealthRoutesOptions): Promise<void> {
  app.get('/healthz', { schema: { tags: ['health'], summary: 'Liveness: the process answers', response: { 200: Status } } }, async () => ({
    status: 'ok',
  }));

  app.get(
    '/readyz',
    { schema: { tags: ['health'], summary: 'Readiness: database and storage reachable', response: { 200: Status } } },
    async (request) => {
      try {
        await ready();
      } catch (error) {
        request.log.warn({ err: error }, 'not ready');
        throw new AppError('SERVICE_UNAVAILABLE', 'The database or the storage cannot be reached.');
      }
      return { status: 'ready' };
    },
  );
}
