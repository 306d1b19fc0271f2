/**
 * The Node build: adds file paths and Node streams to the browser build's inputs. The body is
 * streamed (never held whole in memory) and counted as fetch pulls it, so progress is the
 * bytes really handed to the socket; it has a Content-Length whenever every size is known, so
 * that the server applies its limits before the bytes are sent.
 */
import { createReadStream, type ReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Readable } from 'node:stream';
import { Client, type PreparedUpload, type UploadFile } from './client.js';
import { closing, contentTypeFor, DEFAULT_NAME, DEFAULT_TYPE, newBoundary, PART_END, partHead } from './multipart.js';

/** A file path, a Blob or File, bytes, or a stream (a Node Readable, or any async iterable of bytes). */
export type NodeSource = string | Blob | Uint8Array | Readable | AsyncIterable<Uint8Array>;

const CHUNK = 64 * 1024;
const encoder = new TextEncoder();

interface Part {
  name: string;
  type: string;
  size: number | undefined;
  open(): Iterable<Uint8Array> | AsyncIterable<Uint8Array | string>;
}

async function* chunksOf(stream: ReadableStream<Uint8Array>): AsyncGenerator<Uint8Array> {
  const reader = stream.getReader();
  try {
    for (let next = await reader.read(); !next.done; next = await reader.read()) yield next.value;
  } finally {
    await reader.cancel();
  }
}

function* slices(bytes: Uint8Array): Generator<Uint8Array> {
  for (let at = 0; at < bytes.byteLength; at += CHUNK) yield bytes.subarray(at, at + CHUNK);
}

const isReadStream = (stream: object): stream is ReadStream => 'path' in stream && typeof stream.path === 'string' && 'bytesRead' in stream;

async function partOf({ data, name, type, size }: UploadFile<NodeSource>): Promise<Part & { replayable: boolean }> {
  if (typeof data === 'string') {
    const info = await stat(data);
    if (!info.isFile()) throw new Error(`${data} is not a file`);
    return {
      name: name ?? basename(data),
      type: type ?? DEFAULT_TYPE,
      size: info.size,
      replayable: true,
      open: () => createReadStream(data),
    };
  }
  if (data instanceof Blob) {
    const fileName = 'name' in data && typeof data.name === 'string' && data.name ? data.name : DEFAULT_NAME;
    return {
      name: name ?? fileName,
      type: type ?? (data.type || DEFAULT_TYPE),
      size: data.size,
      replayable: true,
      open: () => chunksOf(data.stream()),
    };
  }
  if (data instanceof Uint8Array) {
    return { name: name ?? DEFAULT_NAME, type: type ?? DEFAULT_TYPE, size: data.byteLength, replayable: true, open: () => slices(data) };
  }
  if (typeof data === 'object' && data !== null && Symbol.asyncIterator in data) {
    let known = size;
    let fileName = name;
    // A whole file opened with fs.createReadStream: its name and size are the file's.
    if (isReadStream(data)) {
      const path = String(data.path);
      fileName ??= basename(path);
      const range = data as unknown as { start?: number; end?: number };
      if (known === undefined && range.start === undefined && range.end === undefined) known = (await stat(path)).size;
    }
    let opened = false;
    const open = () => {
      if (opened) throw new Error('A stream can be uploaded only once');
      opened = true;
      return data as AsyncIterable<Uint8Array | string>;
    };
    return { name: fileName ?? DEFAULT_NAME, type: type ?? DEFAULT_TYPE, size: known, replayable: false, open };
  }
  throw new TypeError(`Cannot upload ${Object.prototype.toString.call(data)}: give a path, a Blob, bytes or a stream`);
}

/** A stream of the multipart body that counts its bytes as they are pulled. */
function multipartStream(
  parts: Part[],
  boundary: string,
  onBytes: (count: number, last: boolean) => void,
  onFailure: (error: Error) => void,
) {
  let last = false;
  async function* body(): AsyncGenerator<Uint8Array> {
    for (const part of parts) {
      yield encoder.encode(partHead(boundary, part));
      let sent = 0;
      for await (const chunk of part.open()) {
        const bytes = typeof chunk === 'string' ? encoder.encode(chunk) : chunk;
        sent += bytes.byteLength;
        if (part.size !== undefined && sent > part.size) break;
        if (bytes.byteLength > 0) yield bytes;
      }
      // The Content-Length promised these bytes: a short or long stream would corrupt the request.
      if (part.size !== undefined && sent !== part.size) {
        throw new Error(`${part.name}: the input has ${sent > part.size ? 'more' : 'fewer'} bytes than its size (${part.size})`);
      }
      yield encoder.encode(PART_END);
    }
    last = true;
    yield encoder.encode(closing(boundary));
  }
  const chunks = body();
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          const next = await chunks.next();
          if (next.done) return controller.close();
          controller.enqueue(next.value);
          onBytes(next.value.byteLength, last);
        } catch (error) {
          onFailure(error as Error);
          controller.error(error);
        }
      },
      async cancel() {
        await chunks.return(undefined);
      },
    },
    // Pull one chunk at a time, when fetch wants it: what was counted is what went out.
    { highWaterMark: 0 },
  );
}

export async function streamUpload(files: UploadFile<NodeSource>[]): Promise<PreparedUpload> {
  const parts = await Promise.all(files.map(partOf));
  const boundary = newBoundary();
  const framing =
    parts.reduce((sum, part) => sum + encoder.encode(partHead(boundary, part)).byteLength + PART_END.length, 0) + closing(boundary).length;
  const total = parts.every((part) => part.size !== undefined) ? parts.reduce((sum, part) => sum + part.size!, framing) : undefined;
  return {
    replayable: parts.every((part) => part.replayable),
    async send(fetchImpl, url, init, onProgress) {
      let loaded = 0;
      let failure: Error | undefined;
      const body = multipartStream(
        parts,
        boundary,
        (count, last) => {
          loaded += count;
          onProgress?.({ loaded, total: total ?? (last ? loaded : undefined) });
        },
        (error) => (failure = error),
      );
      const headers: Record<string, string> = { ...init.headers, 'content-type': contentTypeFor(boundary) };
      if (total !== undefined) headers['content-length'] = String(total);
      try {
        return await fetchImpl(url, { ...init, headers, body, duplex: 'half' } as RequestInit);
      } catch (error) {
        throw failure ?? error;
      }
    },
  };
}

/**
 * A client of a Discord Images server, for Node 20+.
 * @example
 * const di = new DiscordImages({ baseUrl: 'http://localhost:3000', token: process.env.TOKEN });
 * const [upload] = await di.upload('screenshot.png');
 * console.log(upload.url);
 */
export class DiscordImages extends Client<NodeSource> {
  protected override prepareUpload(files: UploadFile<NodeSource>[]): Promise<PreparedUpload> {
    return streamUpload(files);
  }
}

export * from './shared.js';
