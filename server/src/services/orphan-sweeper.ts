import type { UploadRepository } from '../repositories/upload.repository.js';
import { sweepTemp } from '../storage/data-dir.js';
import type { ListedObject, StorageDriver } from '../storage/storage-driver.js';
import { BlobStore } from './blob-store.js';
import { blobKey, parseObjectKey, thumbnailKey } from './upload-links.js';

/**
 * Stored bytes younger than this are left alone even without a row: an upload places its
 * bytes a moment before its transaction commits. Correctness does not hang on it (an upload
 * whose bytes are swept meanwhile places them again, see BlobStore.ensure), it spares that work.
 */
export const ORPHAN_GRACE_MS = 15 * 60_000;
/** A temp file untouched this long belongs to no running upload (request timeouts end them sooner). */
export const STALE_TEMP_MS = 60 * 60_000;
/** The first sweep waits for the start to settle; later ones come at this interval. */
export const FIRST_SWEEP_DELAY_MS = 60_000;
export const SWEEP_INTERVAL_MS = 60 * 60_000;
/** Objects checked against the database per query. */
const BATCH = 500;

export interface SweepResult {
  /** Temp files removed. */
  temp: number;
  /** Originals removed, with their thumbnails. */
  blobs: number;
  /** Thumbnails of originals already gone. */
  thumbnails: number;
}

/** Where the periodic sweep reports (pino's signature, as app.log has it). */
export interface SweepLog {
  info(details: object, message: string): void;
  error(details: object, message: string): void;
}

/**
 * Removes what a crash leaves in storage: temp files no upload is writing, and stored bytes
 * no upload references (placed by an upload that died before its commit, or left by one whose
 * deletion committed but whose bytes were not removed yet). Safe beside running uploads and
 * on several processes at once: every removal of an original marks its blob row first (BlobStore).
 */
export class OrphanSweeper {
  private readonly blobs: BlobStore;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly uploads: UploadRepository,
    private readonly storage: StorageDriver,
    /** Uploads in progress (data-dir.ts uploadTempDir), swept of what crashes left. */
    private readonly tempDir: string,
    private readonly graceMs = ORPHAN_GRACE_MS,
  ) {
    this.blobs = new BlobStore(uploads, storage);
  }

  /** One pass over storage; `now` decides what is old enough. */
  async sweep(now = Date.now()): Promise<SweepResult> {
    const result: SweepResult = { temp: await sweepTemp(this.tempDir, now - STALE_TEMP_MS), blobs: 0, thumbnails: 0 };
    let batch: ListedObject[] = [];
    for await (const object of this.storage.list()) {
      if (object.modifiedAt > now - this.graceMs) continue;
      batch.push(object);
      if (batch.length < BATCH) continue;
      await this.removeUnreferenced(batch, result);
      batch = [];
    }
    await this.removeUnreferenced(batch, result);
    return result;
  }

  /** Sweeps FIRST_SWEEP_DELAY_MS after start, then every SWEEP_INTERVAL_MS, until stop(). */
  start(log: SweepLog): void {
    const run = () => {
      this.running = this.sweep()
        .then(
          (result) => {
            if (result.temp + result.blobs + result.thumbnails > 0) log.info(result, 'removed what no upload references');
          },
          (error: unknown) => log.error({ err: error }, 'storage sweep failed; trying again later'),
        )
        .finally(() => {
          this.running = undefined;
          if (!this.stopped) this.timer = setTimeout(run, SWEEP_INTERVAL_MS).unref();
        });
    };
    this.timer = setTimeout(run, FIRST_SWEEP_DELAY_MS).unref();
  }

  /** Cancels the next sweep and waits for one in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  private async removeUnreferenced(batch: ListedObject[], result: SweepResult): Promise<void> {
    // Keys of other shapes are not ours to judge, and are left alone.
    const objects = batch.flatMap((object) => parseObjectKey(object.key) ?? []);
    const referenced = await this.uploads.referencedBlobs([...new Set(objects.map((object) => object.sha256))]);
    for (const { kind, sha256 } of objects) {
      if (referenced.has(sha256)) continue;
      if (kind === 'blob') {
        if (await this.blobs.collect(sha256)) result.blobs += 1;
      } else if (
        (await this.storage.head(blobKey(sha256))) === undefined &&
        (await this.storage.head(thumbnailKey(sha256))) !== undefined
      ) {
        // Only once its original is gone: else collect() removes both, in the order thumbnails
        // rely on. Still there: collect() may have taken it already, listed before its original.
        await this.storage.delete(thumbnailKey(sha256));
        result.thumbnails += 1;
      }
    }
  }
}
