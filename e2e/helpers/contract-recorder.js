/**
 * Loaded into the real server's process by e2e/helpers/server.ts (`--import` in NODE_OPTIONS,
 * so cluster workers and `npm start` load it too), it writes down every response the server
 * sends, for the contract test in the test process to judge (server/test/helpers/contract.ts).
 *
 * Why here and not in the clients: the e2e suites reach the server through fetch, bare sockets
 * (raw-http.ts), unfurl.js, Chromium, the SDK and the CLI; only the server sees every answer,
 * whoever asked. And why not in the server's code: this needs no test-only switch in what ships.
 * It wraps node:http's ServerResponse (status, content type, body bytes as they leave, the raw
 * file fast path and hijacked answers included), and learns which Fastify route answered through
 * Fastify's public diagnostics channel. Plain JavaScript: it must load without a compiler,
 * also into the bundled server of `npm start`.
 */
import { Buffer } from 'node:buffer';
import diagnostics from 'node:diagnostics_channel';
import { appendFileSync } from 'node:fs';
import { ServerResponse } from 'node:http';
import { join } from 'node:path';
import process from 'node:process';

const directory = process.env.CONTRACT_RECORD;
/** JSON bodies are small; a larger body is counted, not kept (files go through here too). */
const KEEP_BYTES = 1 << 20;
const ROUTE = Symbol('contract.route');
const BODY = Symbol('contract.body');
const DONE = Symbol('contract.done');

if (directory) {
  // One file per process: cluster workers append side by side without interleaving.
  const file = join(directory, `${process.pid}.jsonl`);

  diagnostics.subscribe('fastify.initialization', ({ fastify }) => {
    // The first onRequest hook of the root instance: it runs for every routed request, in every plugin.
    fastify.addHook('onRequest', (request, _reply, done) => {
      const { url, schema } = request.routeOptions;
      request.raw[ROUTE] = { route: url, hidden: schema?.hide === true };
      done();
    });
  });

  const contentTypeOf = (response) => {
    if (!response.headersSent) {
      const value = response.getHeader('content-type');
      return value === undefined ? undefined : String(value);
    }
    // Headers given to writeHead() are only in the serialised head.
    return /\r\ncontent-type:[ \t]*([^\r\n]*)/i.exec(response._header ?? '')?.[1];
  };

  const keep = (response, chunk, encoding) => {
    if (chunk === undefined || chunk === null || typeof chunk === 'function') return;
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk, typeof encoding === 'string' ? encoding : 'utf8') : Buffer.from(chunk);
    const body = (response[BODY] ??= { chunks: [], length: 0 });
    body.length += bytes.length;
    if (body.length <= KEEP_BYTES) body.chunks.push(bytes);
  };

  const { write, end } = ServerResponse.prototype;
  ServerResponse.prototype.write = function (chunk, encoding, callback) {
    keep(this, chunk, encoding);
    return write.call(this, chunk, encoding, callback);
  };
  ServerResponse.prototype.end = function (chunk, encoding, callback) {
    if (!this[DONE] && this.req) {
      this[DONE] = true;
      keep(this, chunk, encoding);
      const info = this.req[ROUTE];
      const body = this[BODY] ?? { chunks: [], length: 0 };
      const contentType = contentTypeOf(this);
      const text = /json/i.test(contentType ?? '') && body.length <= KEEP_BYTES ? Buffer.concat(body.chunks).toString('utf8') : undefined;
      const record = {
        method: this.req.method,
        url: this.req.url,
        route: info?.route,
        hidden: info?.hidden ?? false,
        status: this.statusCode,
        contentType,
        bodyLength: body.length,
        body: text,
      };
      // Written before the answer leaves, so a client that has it can already read the record.
      appendFileSync(file, `${JSON.stringify(record)}\n`);
    }
    return end.call(this, chunk, encoding, callback);
  };
}
