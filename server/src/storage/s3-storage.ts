import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import type { S3Config } from '../config/config.js';
import { AppError } from '../domain/errors.js';
import { checkedKey, checkedRange, mismatch } from './driver-checks.js';
import {
  ObjectNotFoundError,
  type ByteRange,
  type ListedObject,
  type PutMeta,
  type StorageDriver,
  type StoredObject,
} from './storage-driver.js';

/** Objects up to this size go in one PUT; larger ones in parts of this size. S3's smallest part is 5 MiB. */
export const PART_BYTES = 8 * 1024 ** 2;
/**
 * Parts of one object sent at once: a store far away (R2, B2) answers each part after a round
 * trip, so one at a time leaves the link idle. Memory per upload is at most this many parts.
 */
const PARTS_IN_FLIGHT = 4;
/** S3 allows at most this many parts, so very large objects get larger parts. */
const MAX_PARTS = 10_000;
/** How long one object deletion may take before it is abandoned (and the orphan sweeper left to finish it). */
const DELETE_TIMEOUT_MS = 60_000;

/**
 * Objects in an S3-compatible bucket (AWS, MinIO, R2, B2, Garage), under `<prefix><key>`.
 * Every write carries the bytes' SHA-256 for the store to verify, and is checked here too
 * (not every store verifies it) before it is committed. A key is never overwritten: keys
 * are content-addressed, and `If-None-Match: *` makes a put that lost a race a no-op.
 */
export class S3Storage implements StorageDriver {
  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
    private readonly prefix = '',
    private readonly publicBase?: string,
  ) {}

  static fromConfig(config: S3Config): S3Storage {
    const client = new S3Client({
      endpoint: config.endpoint,
      region: config.region,
      forcePathStyle: config.forcePathStyle,
      credentials: { accessKeyId: config.accessKeyId, secretAccessKey: config.secretAccessKey },
      // Only the checksums we send (SHA-256): the SDK's default CRC32 trailers are refused by
      // several S3-compatible stores.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      // Raw files stream from the bucket, one connection each while they are sent.
      requestHandler: {
        connectionTimeout: 5_000,
        httpAgent: { keepAlive: true, maxSockets: 256 },
        httpsAgent: { keepAlive: true, maxSockets: 256 },
      },
    });
    // Outermost, around the SDK's retries: every request of this driver fails as reaching() says.
    client.middlewareStack.add((next) => (args) => reaching(next(args)), { step: 'initialize', name: 'storageUnavailable' });
    return new S3Storage(client, config.bucket, config.prefix, config.publicUrl);
  }

  async put(key: string, body: Readable | Buffer, meta: PutMeta): Promise<void> {
    const objectKey = this.objectKey(key);
    try {
      // Bytes already stored (the same image uploaded again) are not sent a second time.
      if ((await this.head(key)) !== undefined) return;
      const partBytes = Math.max(PART_BYTES, Math.ceil(meta.size / MAX_PARTS));
      if (meta.size <= partBytes) await this.putWhole(key, objectKey, body, meta);
      else await this.putParts(key, objectKey, body, meta, partBytes);
    } catch (error) {
      if (statusOf(error) === 412) return; // another writer placed these bytes first
      throw error;
    } finally {
      // On every path, the early return above included: a stream left unread would keep its
      // file (an upload's temp file, deleted later) open for as long as the process lives.
      if (!Buffer.isBuffer(body)) body.destroy();
    }
  }

  /** One request, its body read into memory first (at most PART_BYTES) so that it can be checked. */
  private async putWhole(key: string, objectKey: string, body: Readable | Buffer, meta: PutMeta): Promise<void> {
    const data = Buffer.isBuffer(body) ? body : await readAtMost(key, body, meta.size);
    checkWhole(key, data.length, createHash('sha256').update(data).digest('hex'), meta);
    await this.client.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: objectKey,
        Body: data,
        ContentLength: data.length,
        ContentType: meta.contentType,
        ChecksumSHA256: base64(meta.sha256),
        IfNoneMatch: '*',
      }),
    );
  }

  /**
   * A multipart upload, up to PARTS_IN_FLIGHT parts sent at once (each in memory while it is
   * sent); aborted on any failure, once no part is in flight, so nothing is left in the bucket.
   */
  private async putParts(key: string, objectKey: string, body: Readable | Buffer, meta: PutMeta, partBytes: number): Promise<void> {
    const { UploadId } = await this.client.send(
      new CreateMultipartUploadCommand({
        Bucket: this.bucket,
        Key: objectKey,
        ContentType: meta.contentType,
        ChecksumAlgorithm: 'SHA256',
      }),
    );
    const upload = { Bucket: this.bucket, Key: objectKey, UploadId };
    const inFlight = new Set<Promise<void>>();
    try {
      const whole = createHash('sha256');
      let size = 0;
      const parts: Array<{ PartNumber: number; ETag?: string; ChecksumSHA256: string }> = [];
      for await (const part of partsOf(key, Buffer.isBuffer(body) ? Readable.from([body]) : body, partBytes, meta.size)) {
        whole.update(part);
        size += part.length;
        const checksum = createHash('sha256').update(part).digest('base64');
        const PartNumber = parts.length + 1;
        parts.push({ PartNumber, ChecksumSHA256: checksum });
        const sending = this.client
          .send(new UploadPartCommand({ ...upload, PartNumber, Body: part, ContentLength: part.length, ChecksumSHA256: checksum }))
          .then(({ ETag }) => {
            parts[PartNumber - 1]!.ETag = ETag;
          })
          .finally(() => inFlight.delete(sending));
        // Handled here as well: a part that fails while the loop is elsewhere is not an unhandled rejection.
        sending.catch(() => undefined);
        inFlight.add(sending);
        if (inFlight.size >= PARTS_IN_FLIGHT) await Promise.race(inFlight);
      }
      await Promise.all(inFlight);
      checkWhole(key, size, whole.digest('hex'), meta);
      await this.client.send(new CompleteMultipartUploadCommand({ ...upload, MultipartUpload: { Parts: parts }, IfNoneMatch: '*' }));
    } catch (error) {
      // An abort while parts are still being sent could leave them behind it.
      await Promise.allSettled(inFlight);
      // Best effort: a bucket lifecycle rule removes what an abort that fails leaves (docs/deployment.md).
      await this.client.send(new AbortMultipartUploadCommand(upload)).catch(() => undefined);
      throw error;
    }
  }

  async get(key: string, range?: ByteRange): Promise<Readable> {
    const Key = this.objectKey(key);
    if (range) checkedRange(range);
    try {
      const { Body } = await this.client.send(
        new GetObjectCommand({ Bucket: this.bucket, Key, Range: range && `bytes=${range.start}-${range.end}` }),
      );
      return Body as Readable;
    } catch (error) {
      if (isMissing(error)) throw new ObjectNotFoundError(key);
      // A range that starts past the end: as a local file read there, no bytes.
      if (statusOf(error) === 416) return Readable.from([]);
      throw error;
    }
  }

  async head(key: string): Promise<StoredObject | undefined> {
    try {
      const { ContentLength } = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) }));
      return { size: ContentLength ?? 0 };
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
  }

  async delete(key: string): Promise<void> {
    // Bounded well inside the blob collector's staleness bound (COLLECTION_TIMING.staleMs): a
    // delete still in flight once an upload has taken over the blob would remove its new bytes.
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) }), {
      abortSignal: AbortSignal.timeout(DELETE_TIMEOUT_MS),
    });
  }

  async *list(): AsyncIterable<ListedObject> {
    let ContinuationToken: string | undefined;
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({ Bucket: this.bucket, Prefix: this.prefix || undefined, ContinuationToken }),
      );
      for (const object of page.Contents ?? []) {
        if (object.Key === undefined) continue;
        yield { key: object.Key.slice(this.prefix.length), size: object.Size ?? 0, modifiedAt: object.LastModified?.getTime() ?? 0 };
      }
      ContinuationToken = page.IsTruncated === true ? page.NextContinuationToken : undefined;
    } while (ContinuationToken !== undefined);
  }

  /** The bucket exists and these credentials reach it. */
  async check(): Promise<void> {
    await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
  }

  publicUrl(key: string): string | undefined {
    return this.publicBase === undefined ? undefined : `${this.publicBase}/${this.objectKey(key)}`;
  }

  private objectKey(key: string): string {
    return this.prefix + checkedKey(key);
  }
}

/** Buffers of `partBytes` (the last one shorter), refusing a body longer than `limit` before it fills memory. */
async function* partsOf(key: string, body: Readable, partBytes: number, limit: number): AsyncIterable<Buffer> {
  let part = Buffer.allocUnsafe(partBytes);
  let filled = 0;
  let total = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > limit) throw mismatch(key, `more than the ${limit} bytes described`);
    for (let offset = 0; offset < chunk.length;) {
      const copied = chunk.copy(part, filled, offset);
      filled += copied;
      offset += copied;
      if (filled === partBytes) {
        yield part;
        part = Buffer.allocUnsafe(partBytes);
        filled = 0;
      }
    }
  }
  if (filled > 0) yield part.subarray(0, filled);
}

async function readAtMost(key: string, body: Readable, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const part of partsOf(key, body, Math.max(limit, 1), limit)) chunks.push(part);
  return Buffer.concat(chunks);
}

function checkWhole(key: string, size: number, sha256: string, meta: PutMeta): void {
  if (size !== meta.size) throw mismatch(key, `${size} bytes, not the ${meta.size} described`);
  if (sha256 !== meta.sha256) throw mismatch(key, 'bytes of another sha256 than described');
}

const base64 = (hex: string): string => Buffer.from(hex, 'hex').toString('base64');

function statusOf(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode;
}

/**
 * A request to the store. When the store cannot be reached, or answers with anything but the
 * few answers callers expect (missing object, lost put race, range past the end), the request
 * fails with 503 SERVICE_UNAVAILABLE rather than a bare 500 (or, in an upload, a
 * misleading 400): nothing is wrong with what the client sent, and trying again later may work.
 */
async function reaching<T>(request: Promise<T>): Promise<T> {
  try {
    return await request;
  } catch (error) {
    const status = statusOf(error);
    if (isMissing(error) || status === 412 || status === 416) throw error;
    throw new AppError('SERVICE_UNAVAILABLE', 'The file storage cannot be reached right now; try again later.', 30, { cause: error });
  }
}

function isMissing(error: unknown): boolean {
  // A missing bucket is a broken deployment, not a deleted file.
  const name = (error as { name?: string } | undefined)?.name;
  return name !== 'NoSuchBucket' && statusOf(error) === 404;
}
