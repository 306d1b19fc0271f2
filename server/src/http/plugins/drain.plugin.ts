import type { ServerResponse } from 'node:http';
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
    /** Whether drain() has been called: work done outside Fastify's hooks must defer to them then. */
    isDraining(): boolean;
    /**
     * Counts a response sent outside Fastify's hooks as running until it closes (its bytes
     * handed to the kernel, or its connection gone), so that drain() waits for it too.
     */
    trackResponse(response: ServerResponse): void;
  }
}

export const drainPlugin = fp(
  async (app: FastifyInstance) => {
    let draining = false;
    let inFlight = 0;
    let idle: (() => void) | undefined;
    const release = () => {
      inFlight -= 1;
      if (draining && inFlight === 0) idle?.();
    };
    /**
     * A request runs until its response closes: sent, or its connection gone. Fastify's
     * onResponse and onRequestAbort miss one case, a request read in full whose connection
     * went before its answer (the client left, or a parse error in bytes after it).
     */
    const track = (response: ServerResponse) => {
      inFlight += 1;
      response.once('close', release);
    };

    // A callback-style hook: it runs on every request, and an async hook costs a promise each.
    app.addHook('onRequest', (_request, reply, done) => {
      if (draining) {
        reply.header('connection', 'close');
        return done(new AppError('SERVICE_UNAVAILABLE', 'The server is restarting; try again in a moment.'));
      }
      track(reply.raw);
      done();
    });

    app.decorate('isDraining', () => draining);
    app.decorate('trackResponse', track);
    app.decorate('drain', () => {
      draining = true;
      return inFlight === 0 ? Promise.resolve() : new Promise<void>((resolve) => (idle = resolve));
    });
  },
  { name: 'drain' },
);
