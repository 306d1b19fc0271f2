import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { AppError } from '../../domain/errors.js';

declare module 'fastify' {
  interface FastifyInstance {
    /**
     * Starts a graceful stop: new requests get 503 (with Connection: close) while the port
     * stays open, so clients and load balancers are told rather than refused; resolves once
     * the requests already running have finished.
     */
    drain(): Promise<void>;
  }
}

export const drainPlugin = fp(
  async (app: FastifyInstance) => {
    let draining = false;
    let inFlight = 0;
    let idle: (() => void) | undefined;
    const finished = () => {
      inFlight -= 1;
      if (draining && inFlight === 0) idle?.();
    };

    app.addHook('onRequest', async (_request, reply) => {
      if (draining) {
        reply.header('connection', 'close');
        throw new AppError('SERVICE_UNAVAILABLE', 'The server is restarting; try again in a moment.');
      }
      inFlight += 1;
      let done = false;
      reply.raw.once('close', () => {
        if (!done) finished();
        done = true;
      });
    });

    app.decorate('drain', () => {
      draining = true;
      return inFlight === 0 ? Promise.resolve() : new Promise<void>((resolve) => (idle = resolve));
    });
  },
  { name: 'drain' },
);
