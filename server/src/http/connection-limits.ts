import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse, STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { Config } from '../config/config.js';
import { ERROR_STATUS, type ErrorCode } from '../domain/errors.js';

/** How long a client may take, and how many connections it may hold (the settings in config.ts). */
export type ConnectionLimits = Pick<
  Config,
  'headersTimeout' | 'requestTimeout' | 'bodyMinRate' | 'idleTimeout' | 'keepAliveTimeout' | 'maxConnections' | 'maxConnectionsPerIp'
>;

/** A connection over a cap lives this long at most, to be told so if its request comes quickly. */
const REFUSED_LINGER_MS = 2_000;

/** What a client is told before its connection closes: SPEC.md's error, status from the catalogue. */
interface Fault {
  code: ErrorCode;
  message: string;
}

/**
 * Bounds what a slow or greedy client can hold: header, body and idle time, and connections
 * per address and in all. Node's own checks cover the headers (`headersTimeout`) and silence
 * (`timeout`); the body's deadline is kept here because it grows with what arrives, which
 * Node's `requestTimeout` cannot do. Also answers Node's parse errors (see onClientError).
 */
export class ConnectionGuard {
  private open = 0;
  private readonly perIp = new Map<string, number>();
  private readonly refused = new WeakMap<Socket, Fault>();
  /** The latest response on each connection: what a timeout or a parse error interrupts. */
  private readonly current = new WeakMap<Socket, ServerResponse>();
  /** Connections being closed by us: later errors and timeouts on them are moot. */
  private readonly closing = new WeakSet<Socket>();

  constructor(
    private readonly limits: ConnectionLimits,
    private readonly nextRequestId: () => string,
  ) {}

  /** An HTTP server that applies the limits before `listener` sees a request. */
  createServer(listener: RequestListener): Server {
    const server = createServer(
      // Checked every second rather than Node's default 30 s, or a short HEADERS_TIMEOUT would be late.
      { headersTimeout: this.limits.headersTimeout, requestTimeout: 0 /* see watchBody */, connectionsCheckingInterval: 1000 },
      (request, response) => {
        if (this.admit(request, response)) listener(request, response);
      },
    );
    server.keepAliveTimeout = this.limits.keepAliveTimeout;
    server.timeout = this.limits.idleTimeout;
    // A client that half-closes once its request is sent (`nc -N`, some scripts and probes) still
    // gets its answer, as from nginx: by default Node aborts every request not yet answered
    // when the client's FIN arrives, so any route that awaits anything answered nothing. The
    // timeouts above still bound such a connection, and Node ends it after the answer.
    (server as Server & { httpAllowHalfOpen: boolean }).httpAllowHalfOpen = true;
    // Node hands CONNECT (a proxy tunnel) to this event, and closes the socket unanswered when
    // nobody listens: this is not a proxy, and the client is told so.
    server.on('connect', (_request: IncomingMessage, socket: Socket) =>
      this.cutOff(socket, { code: 'METHOD_NOT_ALLOWED', message: 'CONNECT is not supported: this server is not a proxy.' }),
    );
    server.on('timeout', (socket: Socket) => this.onIdle(socket));
    // Node answers an Expect other than 100-continue with a bare 417; ours says what works.
    server.on('checkExpectation', (request: IncomingMessage, response: ServerResponse) => {
      const expect = (request.headers.expect ?? '').slice(0, 100);
      const { status, headers, text } = this.errorBody({
        code: 'EXPECTATION_FAILED',
        message: `This server cannot meet "Expect: ${expect}"; send the request without it (only Expect: 100-continue is understood).`,
      });
      response.writeHead(status, headers).end(text);
    });
    // Before Node's own listener, so that a refused connection is marked before its first request.
    server.prependListener('connection', (socket: Socket) => this.count(socket));
    return server;
  }

  /**
   * Runs first for every request. Returns false when the request was answered here (its
   * connection is over a cap); otherwise starts its body's deadline.
   */
  private admit(request: IncomingMessage, response: ServerResponse): boolean {
    const { socket } = request;
    const refusal = this.refused.get(socket);
    if (refusal) {
      const { status, headers, text } = this.errorBody(refusal);
      response.writeHead(status, { ...headers, 'retry-after': '1' }).end(text);
      return false;
    }
    this.current.set(socket, response);
    if (hasBody(request)) this.watchBody(request, response);
    return true;
  }

  /**
   * Fastify's clientErrorHandler. Node reports a parse error, or headers that took too long,
   * on the socket. When a request on it is still being answered, that answer goes out first:
   * a complete one (junk came after it in the same packet), whose response destroyed under
   * it would count as running for ever, or one whose answer did not wait for the body that
   * its client then cut short (a GET announcing a body it never sends): cut off half-way,
   * that answer would reach its client broken.
   */
  onClientError = (error: NodeJS.ErrnoException, socket: Socket): void => {
    if (error.code === 'ECONNRESET' || socket.destroyed || this.closing.has(socket)) return;
    this.closing.add(socket);
    const response = this.current.get(socket);
    if (response && !response.writableFinished && !response.destroyed && (response.req.complete || response.headersSent)) {
      response.once('close', () => this.cutOff(socket, clientFault(error)));
    } else {
      this.cutOff(socket, clientFault(error));
    }
  };

  private count(socket: Socket): void {
    const ip = this.limits.maxConnectionsPerIp > 0 ? socket.remoteAddress : undefined;
    const fromIp = ip === undefined ? 0 : (this.perIp.get(ip) ?? 0);
    if (this.open >= this.limits.maxConnections) {
      this.refuse(socket, {
        code: 'SERVICE_UNAVAILABLE',
        message: 'The server has too many connections open; try again in a moment.',
      });
    } else if (ip !== undefined && fromIp >= this.limits.maxConnectionsPerIp) {
      this.refuse(socket, {
        code: 'TOO_MANY_CONNECTIONS',
        message: `Too many connections from your address (at most ${this.limits.maxConnectionsPerIp} at once); close some and try again.`,
      });
    } else {
      this.open += 1;
      if (ip !== undefined) this.perIp.set(ip, fromIp + 1);
      socket.once('close', () => {
        this.open -= 1;
        if (ip === undefined) return;
        const left = (this.perIp.get(ip) ?? 1) - 1;
        if (left === 0) this.perIp.delete(ip);
        else this.perIp.set(ip, left);
      });
    }
  }

  private refuse(socket: Socket, refusal: Fault): void {
    this.refused.set(socket, refusal);
    const timer = setTimeout(() => socket.destroy(), REFUSED_LINGER_MS);
    socket.once('close', () => clearTimeout(timer));
  }

  /**
   * The body must arrive within requestTimeout, plus a second per bodyMinRate bytes received:
   * tight for a login body trickled a byte at a time, generous for an upload that moves.
   */
  private watchBody(request: IncomingMessage, response: ServerResponse): void {
    const { socket } = request;
    const { requestTimeout, bodyMinRate } = this.limits;
    const started = Date.now();
    const bytesBefore = socket.bytesRead;
    const check = () => {
      if (request.complete || response.writableFinished || response.destroyed) return;
      const earned = bodyMinRate > 0 ? ((socket.bytesRead - bytesBefore) / bodyMinRate) * 1000 : 0;
      const left = started + requestTimeout + earned - Date.now();
      if (left > 0) timer = setTimeout(check, left);
      else this.cutOff(socket, { code: 'REQUEST_TIMEOUT', message: 'The request body took too long to arrive.' });
    };
    let timer = setTimeout(check, requestTimeout);
    response.once('close', () => clearTimeout(timer));
  }

  /** Node's socket timeout: the connection was silent for idleTimeout (or keepAliveTimeout between requests). */
  private onIdle(socket: Socket): void {
    const response = this.current.get(socket);
    if (!response || response.writableFinished || this.closing.has(socket)) return void socket.destroy();
    // A complete request waiting for the server's own work (a queued sharp job, say) is not the client's silence.
    if (response.req.complete && !response.headersSent) return;
    if (response.req.complete) return void socket.destroy(); // a client that stopped reading its answer
    this.cutOff(socket, {
      code: 'REQUEST_TIMEOUT',
      message: 'The connection was silent for too long while the request was being sent.',
    });
  }

  /**
   * Closes the connection, first answering with `fault` when nothing has been answered on it
   * yet. Written to the socket directly, as Node does: the request is cut off, not handed on.
   */
  private cutOff(socket: Socket, fault: Fault): void {
    this.closing.add(socket);
    const response = this.current.get(socket);
    const unanswered = !response || response.writableFinished || !response.headersSent;
    if (socket.writable && unanswered) {
      const { status, headers, text } = this.errorBody(fault);
      const head = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`);
      socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n${head.join('')}\r\n${text}`);
    }
    socket.destroy();
  }

  /** SPEC.md's error shape, for answers written before or outside Fastify. */
  private errorBody({ code, message }: Fault): { status: number; headers: Record<string, string | number>; text: string } {
    const status = ERROR_STATUS[code];
    const requestId = this.nextRequestId();
    const text = JSON.stringify({ statusCode: status, code, error: STATUS_CODES[status], message, request_id: requestId });
    const headers = {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(text),
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      'x-request-id': requestId,
      connection: 'close',
    };
    return { status, headers, text };
  }
}

const hasBody = (request: IncomingMessage): boolean =>
  request.headers['transfer-encoding'] !== undefined ||
  (request.headers['content-length'] !== undefined && request.headers['content-length'] !== '0');

/** Node's parse and header-time errors, as the answer the client gets. */
function clientFault(error: NodeJS.ErrnoException): Fault {
  if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT')
    return { code: 'REQUEST_TIMEOUT', message: 'The request headers took too long to arrive.' };
  if (error.code === 'HPE_HEADER_OVERFLOW') return { code: 'HEADERS_TOO_LARGE', message: 'The request headers are too large.' };
  const reason = (error as { reason?: string }).reason;
  return { code: 'BAD_REQUEST', message: `This is not a valid HTTP/1.1 request${reason ? ` (${reason})` : ''}.` };
}
