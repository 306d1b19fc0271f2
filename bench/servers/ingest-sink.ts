/**
 * Baseline for upload ingest: what storing an upload costs without any image handling.
 * Each PUT body is streamed to a temp file while hashing it (sha256), then fsynced and renamed
 * to its hash, which is the disk work the service does when it places an upload. No multipart
 * parsing, no type sniffing, no image decoding, no database.
 *
 * With `decode <repo root>` it also fully decodes each upload with sharp before placing it,
 * exactly as the service's upload check does (server/src/media/image-processor.ts,
 * decodeColour): the least any server doing the decode SPEC.md requires can do.
 * Usage: ingest-sink.ts <dir> <port> [decode <repo root>]
 */
import { createHash, randomUUID } from 'node:crypto';
import { createWriteStream, mkdirSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage } from 'node:http';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type Sharp from 'sharp';

const [dir = '', port = '', mode, repoRoot] = process.argv.slice(2);
if (!dir || !port || (mode !== undefined && (mode !== 'decode' || !repoRoot))) {
  throw new Error('usage: ingest-sink.ts <dir> <port> [decode <repo root>]');
}
const tempDir = join(dir, 'tmp');
mkdirSync(tempDir, { recursive: true });

// This file runs compiled from a temp directory: sharp is found from the repository.
const sharp = repoRoot ? (createRequire(join(repoRoot, 'package.json'))('sharp') as typeof Sharp) : undefined;
sharp?.cache(false);

/** The service's full decode: every compressed byte read, shrunk to a 64 px colour sample. */
async function decode(path: string): Promise<void> {
  await sharp!(path, { failOn: 'error', limitInputPixels: 100_000_000 })
    .resize(64, 64, { fit: 'inside', withoutEnlargement: true })
    .toColourspace('srgb')
    .raw({ depth: 'uchar' })
    .toBuffer();
}

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
    if (sharp) await decode(tempPath);
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
