import type { Readable } from 'node:stream';
import { AppError } from '../domain/errors.js';
import { isUploadId } from '../domain/ids.js';
import type { UploadRepository } from '../repositories/upload.repository.js';
import type { UploadRow } from '../repositories/types.js';
import type { FileCache } from '../storage/file-cache.js';
import type { ByteRange } from '../domain/byte-range.js';
import { isObjectNotFound, type StorageDriver } from '../storage/storage-driver.js';
import { blobKey } from './upload-links.js';

/** What the raw route needs to answer, before reading any byte. */
export interface RawFile {
  sha256: string;
  mime: string;
  size: number;
  /** Strong: the stored bytes never change for an id. */
  etag: string;
}

/** A file and its whole bytes, both already in memory. */
export interface InMemory<File> {
  file: File;
  bytes: Buffer;
}

interface Entry {
  file: RawFile;
  ext: string;
  gone: boolean;
  expires: number;
}

/**
 * How long this process trusts what it knows of an id. Deletions reach the processes of this
 * machine at once (DeletionBus), and those of other nodes at once through Redis (REDIS_URL);
 * without Redis, or while it is away, other nodes learn of them within this time.
 */
const METADATA_TTL_MS = 10_000;
/** Ids whose metadata one process keeps (a few hundred bytes each). */
export const METADATA_ENTRIES = 100_000;

/**
 * Serves stored files. Hot files come from memory: an image host's traffic is mostly the
 * same recent files fetched again and again (Discord's proxy, browsers, embeds).
 */
export class FileService {
  private readonly metadata = new Map<string, Entry>();
  /** Counts forget() calls, so a lookup racing a delete does not cache what it read. */
  private deletions = 0;

  constructor(
    private readonly uploads: UploadRepository,
    private readonly storage: StorageDriver,
    private readonly cache: FileCache,
  ) {}

  /** The file behind `/i/<id>.<ext>`: 404 when unknown (or another extension), 410 when deleted. */
  async describe(id: string, ext: string): Promise<RawFile> {
    const entry = await this.entry(id, `There is no file ${id}.${ext} here.`);
    if (!servesAs(entry, ext)) throw new AppError('NOT_FOUND', `There is no file ${id}.${ext} here.`);
    return entry.file;
  }

  /**
   * The live file behind `/i/<id>.<ext>` with its whole bytes, when both are already in this
   * process's memory; undefined in every other case (the caller then takes the long way:
   * describe() and read()). Synchronous, for the raw route's hot path.
   */
  inMemory(id: string, ext: string): InMemory<RawFile> | undefined {
    const entry = this.live(id);
    if (!entry || !servesAs(entry, ext)) return undefined;
    const bytes = this.cache.get(entry.file.sha256);
    return bytes && { file: entry.file, bytes };
  }

  /** What original() gives, when this process knows it without asking anyone; else undefined. */
  knownOriginal(id: string): RawFile | undefined {
    return this.live(id)?.file;
  }

  /** The whole file (a Buffer when it is small enough to keep in memory) or one range of it. */
  async read(file: RawFile, range?: ByteRange): Promise<Buffer | Readable> {
    const key = blobKey(file.sha256);
    try {
      const cached = this.cache.get(file.sha256) ?? (await this.cache.load(file.sha256, file.size, () => this.storage.get(key)));
      if (cached) return range ? cached.subarray(range.start, range.end + 1) : cached;
      return await this.storage.get(key, range);
    } catch (error) {
      // The bytes went away under us: another node deleted the last upload of them.
      if (isObjectNotFound(error)) throw new AppError('UPLOAD_GONE', 'This file has been deleted.');
      throw error;
    }
  }

  /**
   * Where the client can fetch the bytes itself (S3_PUBLIC_URL: a CDN or a public bucket), or
   * undefined when they are served from here.
   */
  publicUrl(file: RawFile): string | undefined {
    return this.storage.publicUrl(blobKey(file.sha256));
  }

  /** The stored file of an upload, whatever its extension (thumbnails are made from it). */
  async original(id: string): Promise<RawFile> {
    return (await this.entry(id, `There is no upload ${id} here.`)).file;
  }

  /** What is known of a live upload: 404 (with `missing`) when unknown, 410 when deleted. */
  private async entry(id: string, missing: string): Promise<Entry> {
    const entry = this.known(id) ?? (await this.lookup(id));
    if (!entry) throw new AppError('NOT_FOUND', missing);
    if (entry.gone) throw new AppError('UPLOAD_GONE', 'This upload has been deleted.');
    return entry;
  }

  forget(id: string): void {
    this.metadata.delete(id);
    this.deletions += 1;
  }

  /** Drops everything known of every id, for when deletions may have been missed (the deletion bus was cut off). */
  forgetAll(): void {
    this.metadata.clear();
    this.deletions += 1;
  }

  private known(id: string): Entry | undefined {
    const entry = this.metadata.get(id);
    return entry && entry.expires > Date.now() ? entry : undefined;
  }

  private live(id: string): Entry | undefined {
    const entry = this.known(id);
    return entry && !entry.gone ? entry : undefined;
  }

  /**
   * Learns a new upload without asking the database: Discord (and the uploader's browser)
   * fetch a link the moment it is handed out.
   */
  remember(row: UploadRow): void {
    this.store(row);
  }

  private async lookup(id: string): Promise<Entry | undefined> {
    const before = this.deletions;
    const row = isUploadId(id) ? await this.uploads.findById(id) : undefined;
    if (!row) return undefined;
    // A delete heard while the row was read may have made it stale: use it, but do not keep it.
    return this.deletions === before ? this.store(row) : toEntry(row, 0);
  }

  private store(row: UploadRow): Entry {
    const entry = toEntry(row, Date.now() + METADATA_TTL_MS);
    this.metadata.delete(row.id);
    // Oldest inserted goes first: entries expire anyway, so insertion order is close enough to LRU.
    if (this.metadata.size >= METADATA_ENTRIES) this.metadata.delete(this.metadata.keys().next().value!);
    this.metadata.set(row.id, entry);
    return entry;
  }
}

/** `.jpeg` is accepted for a stored `.jpg`; extensions arrive lowercased. */
const servesAs = (entry: Entry, ext: string): boolean => ext === entry.ext || (ext === 'jpeg' && entry.ext === 'jpg');

const toEntry = (row: UploadRow, expires: number): Entry => ({
  file: { sha256: row.sha256, mime: row.mime, size: Number(row.size), etag: `"${row.sha256}"` },
  ext: row.ext,
  gone: row.deleted_at !== null,
  expires,
});
