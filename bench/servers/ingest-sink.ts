/**
 * Baseline for upload ingest: what storing an upload costs without any image handling.
 * Each PUT body is streamed to a temp file while hashing it (sha256), then fsynced and renamed
 * to its hash, which is the disk work the service does when it places an upload. No multipart
 * parsing, no type sniffing, no image decoding, no database.
 * Usage: ingest-sink.ts <dir> <port>
 */
import { createHash, randomUUID } from 'node:crypto';
import { createWriteStream, mkdirSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';

const [dir = '', port = ''] = process.argv.slice(2);
if (!dir || !port) throw new Error('usage: ingest-sink.ts <dir> <port>');
const tempDir = join(dir, 'tmp');
mkdirSync(tempDir, { recursive: true });

async function store(req: IncomingMessage): Promise<{ sha256: string; size: number }> {
  const tempPath = join(tempDir, randomUUID());
  const hash = createHash('sha256');
  let size = 0;
  try {
    await pipeline(
      req,
      async function* (chunks: AsyncIterable<Buffer>) {
        for await (const chunk of chunks) {
          hash.update(chunk);
          size += chunk.length;
          yield chunk;
        }
      },
      // flush: fsync before close, and pipeline settles only once the stream has closed.
      createWriteStream(tempPath, { flush: true }),
    );
  } catch (error) {
    await rm(tempPath, { force: true });
    throw error;
  }
  const sha256 = hash.digest('hex');
  await rename(tempPath, join(dir, sha256));
  return { sha256, size };
}

createServer((req, res) => {
  if (req.method !== 'PUT') {
    res.writeHead(405).end();
    return;
  }
  store(req).then(
    (stored) => {
      res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify(stored));
    },
    (error: Error) => {
      res.writeHead(500).end(error.message);
    },
  );
}).listen(Number(port), '127.0.0.1', () => console.log(`ingest-sink listening on 127.0.0.1:${port}`));
