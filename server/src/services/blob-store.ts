import { createReadStream } from 'node:fs';
import type { UploadRepository } from '../repositories/upload.repository.js';
import type { StorageDriver } from '../storage/storage-driver.js';
import { blobKey, thumbnailKey } from './upload-links.js';

/**
 * The bytes of uploads in storage, kept in step with the blob rows that count their references,
 * so that a committed row never points at missing bytes, whatever moment a crash picks:
 * - bytes are placed, durably, before the transaction that references them commits;
 * - bytes are removed only after the transaction that drops their last reference commits, and
 *   only while their blob row is marked as under collection (committed before the delete
 *   starts, so no transaction waits on storage), which keeps uploads from taking a reference
 *   meanwhile: they wait for the mark to go, then place the bytes again.
 * A crash between the steps leaves bytes without a reference (never a reference without
 * bytes): the orphan sweeper removes them.
 */
/** An upload's bytes, still in their temp file. */
export interface LocalBlob {
  sha256: string;
  path: string;
  size: number;
  mime: string;
}

export class BlobStore {
  constructor(
    private readonly uploads: UploadRepository,
    private readonly storage: StorageDriver,
  ) {}

  /** Makes the file at `path` durable under its content's key; `path` stays, for ensure(). */
  place(blob: LocalBlob): Promise<void> {
    const { sha256, path, size, mime } = blob;
    return this.storage.put(blobKey(sha256), createReadStream(path), { sha256, size, contentType: mime });
  }

  /**
   * Called while holding the blob's row, before the commit that references it: a removal that
   * ran between place() and taking the row (the last other upload of these bytes was deleted,
   * and the upload waited for its collection to end) took the bytes away, so they are placed
   * again. One stat in the common case.
   */
  async ensure(blob: LocalBlob): Promise<void> {
    if ((await this.storage.head(blobKey(blob.sha256))) === undefined) await this.place(blob);
  }

  /**
   * Removes the bytes of a blob and then its thumbnail, unless a live upload references them
   * (ThumbnailService relies on this order to remove a thumbnail it places meanwhile).
   * Returns whether they were removed.
   */
  collect(sha256: string): Promise<boolean> {
    return this.uploads.collectBlob(sha256, async () => {
      await this.storage.delete(blobKey(sha256));
      // Best effort: the original is gone, which is what matters. A thumbnail left behind is
      // harmless (nothing links to it, and the next upload of these bytes reuses it), and the
      // orphan sweeper removes it later.
      await this.storage.delete(thumbnailKey(sha256)).catch(() => undefined);
    });
  }
}
