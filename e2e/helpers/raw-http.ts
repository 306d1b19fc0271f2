/**
 * HTTP/1.1 over a bare TCP socket, for requests no HTTP client would send: the bytes go out
 * exactly as given, then the client half-closes (it will send nothing more), so every
 * exchange ends with the server's answer and close, a close alone, or our deadline.
 */
import { connect } from 'node:net';

export interface RawResponse {
  status: number;
  /** Header names lower-cased; a repeated header keeps its last value. */
  headers: Record<string, string>;
  body: Buffer;
}

export interface RawExchange {
  /** Every complete response read, in order (Node's own bare 400 for unparseable bytes included). */
  responses: RawResponse[];
  /** The server closed the connection (cleanly or by reset), or the deadline ran out first. */
  end: 'closed' | 'reset' | 'timeout';
  ms: number;
}

/** The end of a chunked body starting at `offset`, or -1 when the bytes stop before it. */
function chunkedEnd(data: Buffer, offset: number): number {
  for (;;) {
    const lineEnd = data.indexOf('\r\n', offset);
    if (lineEnd === -1) return -1;
    const size = Number.parseInt(data.subarray(offset, lineEnd).toString('latin1'), 16);
    if (!Number.isFinite(size)) return -1;
    if (size === 0) {
      const trailerEnd = data.indexOf('\r\n\r\n', lineEnd);
      return trailerEnd === -1 ? -1 : trailerEnd + 4;
    }
    offset = lineEnd + 2 + size + 2;
  }
}

/** Splits what the server sent into responses; `headFirst`: the first answers a HEAD (no body). */
export function parseResponses(data: Buffer, headFirst: boolean): RawResponse[] {
  const responses: RawResponse[] = [];
  let offset = 0;
  while (offset < data.length) {
    const headEnd = data.indexOf('\r\n\r\n', offset);
    if (headEnd === -1) break;
    const [statusLine = '', ...lines] = data.subarray(offset, headEnd).toString('latin1').split('\r\n');
    const match = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine);
    if (!match) break;
    const status = Number(match[1]);
    const headers: Record<string, string> = {};
    for (const line of lines) {
      const colon = line.indexOf(':');
      if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    const bodyStart = headEnd + 4;
    let bodyEnd = bodyStart;
    const noBody = status < 200 || status === 204 || status === 304 || (headFirst && responses.length === 0);
    if (!noBody && /chunked/i.test(headers['transfer-encoding'] ?? '')) bodyEnd = chunkedEnd(data, bodyStart);
    else if (!noBody && headers['content-length'] !== undefined) bodyEnd = bodyStart + Number(headers['content-length']);
    if (bodyEnd < 0 || bodyEnd > data.length) break;
    // 1xx answers (100 Continue) come before the real one and are not counted.
    if (status >= 200) responses.push({ status, headers, body: data.subarray(bodyStart, bodyEnd) });
    offset = bodyEnd;
  }
  return responses;
}

/** Writes `bytes`, half-closes, and reads until the server closes or `timeoutMs` runs out. */
export function exchange(port: number, bytes: Buffer, { headFirst = false, timeoutMs = 10_000 } = {}): Promise<RawExchange> {
  const started = Date.now();
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let end: RawExchange['end'] = 'closed';
    const socket = connect({ port, host: '127.0.0.1' });
    const timer = setTimeout(() => {
      end = 'timeout';
      socket.destroy();
    }, timeoutMs);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    // ECONNRESET, or EPIPE when the server closed while we were still writing: a close all the same.
    socket.on('error', () => {
      if (end === 'closed') end = 'reset';
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ responses: parseResponses(Buffer.concat(chunks), headFirst), end, ms: Date.now() - started });
    });
    socket.end(bytes);
  });
}
