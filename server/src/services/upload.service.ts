import { rmSync } from 'node:fs';
import { rm, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { Actor } from '../domain/actor.js';
import { AppError, isAppError } from '../domain/errors.js';
import { isUploadId, newRowId, newUploadId } from '../domain/ids.js';
import { type EmbedOverrides, type OverrideSource, parseOverrides } from '../domain/embed-template.js';
import { formatBytes } from '../domain/format.js';
import { sanitizeFileName } from '../domain/names.js';
import { keysetPage } from '../domain/pagination.js';
import type { ImageProcessor, ProcessedImage } from '../media/image-processor.js';
import { receiveImage } from '../media/receive-image.js';
import type { UploadRepository } from '../repositories/upload.repository.js';
import type { NewUpload, UploadRow } from '../repositories/types.js';
import type { StorageDriver } from '../storage/storage-driver.js';
import { ownedUpload } from './owned-upload.js';
import { BlobStore, type LocalBlob } from './blob-store.js';
import { STALE_TEMP_MS } from './orphan-sweeper.js';
import type { UploadLinks, UploadView } from './upload-links.js';

/** One part of an upload request, as the route hands it over. */
export type IncomingPart = IncomingFile | IncomingField;

export interface IncomingField {
  kind: 'field';
  name: string;
  value: string;
}

export interface IncomingFile {
  kind: 'file';
  fieldname: string;
  filename: string | undefined;
  stream: Readable;
  /** True when the part was cut at MAX_FILE_SIZE. */
  truncated(): boolean;
}

export interface UploadLimits {
  maxFileSize: number;
  /** Local directory for uploads in progress (data-dir.ts uploadTempDir), whatever the storage. */
  tempDir: string;
}

/** What the rest of the process hears of uploads (caches, other workers). */
export interface UploadEvents {
  /** The uploads of a request were committed and placed: their links are about to be handed out. */
  stored(rows: UploadRow[]): void;
  deleted(id: string): void;
}

const FILE_FIELDS = ['files[]', 'file', 'files'];

/** What one part became while the request is still streaming in. */
interface PendingPart {
  label: string;
  name: string;
  tempPaths: string[];
  /** Set once the part is fully received: its check and strip, running in the background. */
  result?: Promise<ProcessedImage>;
  failure?: unknown;
}

/**
 * While an upload runs, its temp files are touched this often, so the orphan sweep (which takes
 * a temp file untouched for STALE_TEMP_MS as a crash's leftover) spares a long multi-part
 * upload whose first parts were written long ago. The mtime is shared by every process, where
 * a list of running uploads would not be.
 */
const TEMP_TOUCH_MS = STALE_TEMP_MS / 4;

export class UploadService {
  /** Temp files of the uploads running now, for an exit that cannot wait for them. */
  private readonly tempFiles = new Set<string>();
  private toucher: NodeJS.Timeout | undefined;
  private readonly blobs: BlobStore;

  constructor(
    private readonly uploads: UploadRepository,
    private readonly storage: StorageDriver,
    private readonly images: ImageProcessor,
    private readonly links: UploadLinks,
    private readonly limits: UploadLimits,
    private readonly events: UploadEvents = { stored: () => {}, deleted: () => {} },
  ) {
    this.blobs = new BlobStore(uploads, storage);
  }

  /**
   * Stores every part of one request, all or nothing. Each part streams to a temp file
   * (hashed on the way), is checked and stripped while the next part arrives, then the bytes
   * are placed in storage and one transaction records them all (BlobStore says why in this order).
   */
  async upload(actor: Actor, incoming: AsyncIterable<IncomingPart>, headerOverrides: Record<string, string> = {}): Promise<UploadView[]> {
    const parts: PendingPart[] = [];
    const fromHeaders = checkOverrides(headerOverrides, 'header');
    const overrideInput: Record<string, string> = {};
    try {
      for await (const item of incoming) {
        const failed = parts.find((part) => part.failure !== undefined);
        if (failed) throw failed.failure;
        if (item.kind === 'field') {
          if (item.name.startsWith(EMBED_FIELD_PREFIX)) overrideInput[item.name.slice(EMBED_FIELD_PREFIX.length)] = item.value;
          continue;
        }
        const part = this.begin(parts.length, item);
        parts.push(part);
        await this.receive(part, item);
      }
      if (parts.length === 0) {
        throw new AppError('NO_FILES', 'The request has no image: send each image as a multipart part named files[].');
      }
      const overrides = { ...fromHeaders, ...checkOverrides(overrideInput, 'field') };
      const images = await settleInOrder(parts);
      return await this.store(actor, parts, images, overrides);
    } finally {
      // Every part must be finished before its temp files go, even when another part failed.
      await Promise.allSettled(parts.flatMap((part) => part.result ?? []));
      await Promise.all(
        parts.flatMap((part) =>
          part.tempPaths.map(async (path) => {
            await rm(path, { force: true });
            this.tempFiles.delete(path);
          }),
        ),
      );
      if (this.tempFiles.size === 0) {
        clearInterval(this.toucher);
        this.toucher = undefined;
      }
    }
  }

  /** Marks the temp files of the running uploads as in use now (see TEMP_TOUCH_MS). */
  async touchTempFiles(): Promise<void> {
    const now = new Date();
    // A part not yet begun or already removed has no file: nothing to keep.
    await Promise.all([...this.tempFiles].map((path) => utimes(path, now, now).catch(() => {})));
  }

  /**
   * For an exit that cannot wait for the uploads still running (a shutdown timed out, or
   * their clients left): removes their temp files now, as their own cleanup would have.
   */
  discardTempFiles(): void {
    for (const path of this.tempFiles) rmSync(path, { force: true });
    this.tempFiles.clear();
    clearInterval(this.toucher);
    this.toucher = undefined;
  }

  /** Registers a part (and its temp paths, for cleanup) before any byte is written. */
  private begin(index: number, file: IncomingFile): PendingPart {
    const name = sanitizeFileName(file.filename);
    const tempPath = join(this.limits.tempDir, `${newRowId()}.upload`);
    const tempPaths = [tempPath, `${tempPath}.stripped`];
    for (const path of tempPaths) this.tempFiles.add(path);
    this.toucher ??= setInterval(() => void this.touchTempFiles(), TEMP_TOUCH_MS).unref();
    return { label: `files[${index}] (${name})`, name, tempPaths };
  }

  private async receive(part: PendingPart, file: IncomingFile): Promise<void> {
    const { label } = part;
    const [tempPath, scratch] = part.tempPaths as [string, string];
    if (!FILE_FIELDS.includes(file.fieldname)) {
      file.stream.resume();
      throw new AppError('BAD_REQUEST', `Unexpected file field "${file.fieldname}": send images as files[] parts.`);
    }
    const received = await receiveImage(file.stream, tempPath).catch((error: unknown) => {
      throw file.truncated() ? this.tooLarge(label) : error;
    });
    if (file.truncated()) throw this.tooLarge(label);
    if (received.size === 0) throw new AppError('EMPTY_FILE', `${label} is empty.`);
    const result = this.images.process(received, scratch).catch((error: unknown) => {
      throw isAppError(error) ? new AppError(error.code, `${label} ${error.message}`) : error;
    });
    result.catch((error: unknown) => {
      part.failure = error;
    });
    part.result = result;
  }

  private tooLarge(label: string): AppError {
    return new AppError(
      'PAYLOAD_TOO_LARGE',
      `${label} is larger than this server's limit of ${formatBytes(this.limits.maxFileSize)} per file.`,
    );
  }

  private async store(actor: Actor, parts: PendingPart[], images: ProcessedImage[], overrides: EmbedOverrides): Promise<UploadView[]> {
    const embedOverrides = Object.keys(overrides).length > 0 ? JSON.stringify(overrides) : null;
    const now = Date.now();
    const rows: NewUpload[] = images.map((image, i) => ({
      id: newUploadId(),
      user_id: actor.userId,
      name: parts[i]!.name,
      mime: image.mime,
      ext: image.ext,
      size: image.size,
      width: image.width,
      height: image.height,
      sha256: image.sha256,
      dominant_color: image.dominantColor,
      created_at: new Date(now).toISOString(),
      embed_overrides: embedOverrides,
    }));
    // One file per distinct content: a request may carry the same image twice.
    const blobs = new Map(images.map(({ sha256, path, size, mime }) => [sha256, { sha256, path, size, mime }]));
    const result = await this.placeAndInsert(actor.userId, rows, blobs);
    if (!result.stored && 'noUser' in result) throw new AppError('UNAUTHORIZED', 'This account no longer exists.');
    if (!result.stored) {
      const incoming = rows.reduce((sum, row) => sum + row.size, 0);
      throw new AppError(
        'QUOTA_EXCEEDED',
        `This upload (${formatBytes(incoming)}) would take you over your quota: ${formatBytes(result.used)} of ${formatBytes(result.quota)} used. Delete some uploads or ask the admin for more space.`,
      );
    }
    const stored = rows.map((row): UploadRow => ({ ...row, deleted_at: null, seq: 0 }));
    this.events.stored(stored);
    return stored.map((row) => this.links.view(row));
  }

  /**
   * Places the bytes, then commits the rows that reference them. When that fails or the quota
   * refuses, the bytes no other upload references are removed again.
   */
  private async placeAndInsert(
    userId: string,
    rows: NewUpload[],
    blobs: Map<string, LocalBlob>,
  ): ReturnType<UploadRepository['insertWithinQuota']> {
    try {
      for (const blob of blobs.values()) await this.blobs.place(blob);
      const result = await this.uploads.insertWithinQuota(userId, rows, (sha256) => this.blobs.ensure(blobs.get(sha256)!));
      if (!result.stored) await this.collectQuietly(blobs.keys());
      return result;
    } catch (error) {
      await this.collectQuietly(blobs.keys());
      throw error; // ENOSPC and EDQUOT become 507 in the error handler
    }
  }

  /** A page of the actor's uploads, newest first; `q`: only those whose name contains it, in any case. */
  async list(actor: Actor, limit: number, before?: string, q?: string): Promise<{ items: UploadView[]; next?: string }> {
    let beforeSeq: number | undefined;
    if (before !== undefined) {
      const cursor = isUploadId(before) ? await this.uploads.findById(before) : undefined;
      if (!cursor || cursor.user_id !== actor.userId) {
        throw new AppError('VALIDATION_FAILED', `before=${before} is not the id of one of your uploads.`);
      }
      beforeSeq = cursor.seq;
    }
    const page = keysetPage(await this.uploads.listByUser(actor.userId, limit + 1, beforeSeq, q), limit);
    return { ...page, items: page.items.map((row) => this.links.view(row)) };
  }

  async get(actor: Actor, id: string): Promise<UploadView> {
    return this.links.view(await ownedUpload(this.uploads, actor, id));
  }

  async delete(actor: Actor, id: string): Promise<void> {
    await ownedUpload(this.uploads, actor, id);
    await this.remove(id);
  }

  /** Deletion through the secret link of delete_url (no account needed). */
  async deleteWithSecret(id: string, secret: string): Promise<void> {
    await this.checkDeletionLink(id, secret);
    await this.remove(id);
  }

  /** Throws unless the link is valid and the upload still live (for the confirmation page). */
  async checkDeletionLink(id: string, secret: string): Promise<{ name: string }> {
    const row = isUploadId(id) ? await this.uploads.findById(id) : undefined;
    if (!row || !this.links.isDeletionSecret(id, secret)) throw new AppError('UPLOAD_NOT_FOUND', 'This deletion link is not valid.');
    if (row.deleted_at) throw new AppError('UPLOAD_GONE', 'This upload has already been deleted.');
    return { name: row.name };
  }

  /**
   * Deletes an account and its uploads, each as a deletion of its own would (its URLs then
   * answer 410, every process forgets it, bytes nothing references any more are removed).
   * False when there is no such account.
   */
  async deleteAccount(userId: string): Promise<boolean> {
    const deleted = await this.uploads.deleteUserWithUploads(userId, new Date().toISOString());
    if (!deleted) return false;
    for (const id of deleted.uploadIds) this.events.deleted(id);
    await this.collectQuietly(deleted.unreferenced);
    return true;
  }

  private async remove(id: string): Promise<void> {
    const deleted = await this.uploads.markDeleted(id, new Date().toISOString());
    if (!deleted) throw new AppError('UPLOAD_GONE', `Upload ${id} has already been deleted.`);
    this.events.deleted(id);
    if (deleted.unreferenced) await this.collectQuietly([deleted.sha256]);
  }

  /**
   * Removes bytes no committed upload references. Best effort: the request's outcome is
   * already decided, and bytes left behind are only an orphan, which the sweeper removes.
   */
  private async collectQuietly(sha256s: Iterable<string>): Promise<void> {
    for (const sha256 of sha256s) await this.blobs.collect(sha256).catch(() => undefined);
  }
}

/** Form fields `embed_title` etc. shape this upload's embed (see EmbedOverrides). */
const EMBED_FIELD_PREFIX = 'embed_';

function checkOverrides(input: Record<string, string>, source: OverrideSource): EmbedOverrides {
  const result = parseOverrides(input, source);
  if (typeof result === 'string') throw new AppError('VALIDATION_FAILED', `Invalid embed override: ${result}.`);
  return result;
}

/** Waits for every part and throws the first failure in request order. */
async function settleInOrder(parts: PendingPart[]): Promise<ProcessedImage[]> {
  const results = await Promise.allSettled(parts.map((part) => part.result!));
  return results.map((result) => {
    if (result.status === 'rejected') throw result.reason;
    return result.value;
  });
}
