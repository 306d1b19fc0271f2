import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';

/**
 * How much more of a refused request's body is read, at most, after its answer has been sent:
 * enough for a client still sending to see the answer (and, told `Connection: close`, to stop),
 * bounded so that a client that never stops cannot make the server read for it.
 */
export const LINGER = { bytes: 16 * 1024 * 1024, ms: 5_000 } as const;

/**
 * nginx's lingering_close for a request answered before its body was all read: the answer,
 * then FIN, then the rest of the body read and discarded (up to LINGER), then the close.
 * Closing at once would make the kernel answer the client's next bytes with a reset, and a
 * reset discards the answer still unread in the client's buffers: it would see a broken pipe
 * (EPIPE, ECONNRESET) instead of its 4xx. The answer must carry `Connection: close`.
 */
export function lingerAfterAnswer(request: IncomingMessage): void {
  const { socket } = request;
  let started = false;
  // Node's HTTP server closes a connection whose answer said `Connection: close` by calling
  // destroySoon() once the answer is written; that ends and destroys the socket at once.
  socket.destroySoon = () => {
    if (started) return;
    started = true;
    drainThenClose(socket, request);
  };
}

function drainThenClose(socket: Socket, request: IncomingMessage): void {
  // The write side only: the answer is flushed, then FIN tells the client we are done.
  socket.end();
  const timer = setTimeout(() => socket.destroy(), LINGER.ms);
  // A body nobody began to read (refused in a hook) is discarded by Node itself, and such a
  // request emits no data: its bytes are watched on the socket too.
  const start = socket.bytesRead;
  const watch = setInterval(() => {
    if (socket.bytesRead - start > LINGER.bytes) close();
  }, 10);
  socket.once('close', () => {
    clearTimeout(timer);
    clearInterval(watch);
  });
  // Body drained, or past the bound: close as Node would have, once the answer and FIN are out.
  const close = () => {
    clearInterval(watch);
    request.removeListener('data', count);
    request.pause();
    if (socket.writableFinished) socket.destroy();
    else socket.once('finish', () => socket.destroy());
  };
  let read = 0;
  const count = (chunk: Buffer) => {
    read += chunk.length;
    if (read > LINGER.bytes) close();
  };
  if (request.readableEnded) return close();
  // A multipart parser may still be attached, stalled on a part nobody reads any more.
  request.unpipe();
  request.on('data', count);
  request.once('end', close);
  request.once('error', close);
  request.resume();
}
