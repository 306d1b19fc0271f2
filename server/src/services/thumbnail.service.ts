import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { ByteRange } from '../domain/byte-range.js';
import { AppError, isAppError } from '../domain/errors.js';
import { isWholeWebp, type Thumbnail, type Thumbnailer, WEBP_HEADER_BYTES } from '../media/thumbnailer.js';
import type { FileCache } from '../storage/file-cache.js';
import { openLocal } from '../storage/local-file.js';
import { isObjectNotFound, type StorageDriver } from '../storage/storage-driver.js';
import { type FileService, type InMemory, METADATA_ENTRIES, type RawFile } from './file.service.js';
import { blobKey, thumbnailKey } from './upload-links.js';

/** What the thumbnail route needs to answer, before reading any byte. */
export interface ThumbnailFile extends RawFile {
  /** The upload's stored file, which the thumbnail is made from. */
  source: RawFile;
  /** Where the thumbnail is stored (and cached), kept to spare building it on every hit. */
  key: string;
}

/**
 * Thumbnails of uploads, made on first request and stored beside the originals under a key
 * derived from the original's bytes, so identical uploads share one and a restart reuses it.
 * The first request is answered from memory while the thumbnail is being stored.
 *
 * Within a process, concurrent first requests for one thumbnail wait for a single render.
 * Across processes and nodes two renders of the same thumbnail can happen; that is harmless,
 * because placing an object is atomic and both hold the same bytes.
 */
export class ThumbnailService {
  /** By the original's sha256: thumbnails never change for given bytes. */
  private readonly known = new Map<string, ThumbnailFile>();
  private readonly inFlight = new Map<string, Promise<ThumbnailFile>>();
  /**
   * Originals (by sha256) whose thumbnail storage did not have when they were uploaded, with
   * when that answer stops being trusted.
   */
  private readonly unrendered = new Map<string, number>();
  /** anticipate() calls still waiting for storage. */
  private readonly asking = new Set<Promise<void>>();
  /** Rendered thumbnails being stored, by storage key; these promises never reject. */
  private readonly placing = new Map<string, Promise<void>>();
  private renderCount = 0;

  constructor(
    private readonly files: FileService,
    private readonly storage: StorageDriver,
    private readonly cache: FileCache,
    private readonly thumbnailer: Thumbnailer,
    /** Where a remote original is downloaded for sharp (local-file.ts). */
    private readonly tempDir: string,
  ) {}

  /** Thumbnails this process has rendered (not found in storage), since it started. */
  get renders(): number {
    return this.renderCount;
  }

  /** Resolves once every thumbnail rendered so far is stored (or has failed to be) and storage has answered every anticipate(). */
  async idle(): Promise<void> {
    while (this.placing.size > 0 || this.asking.size > 0) await Promise.all([...this.placing.values(), ...this.asking]);
  }

  /**
   * An upload of these bytes has just been stored, and its links are being handed out: asks
   * storage now, in the background, whether their thumbnail exists, so that the first request
   * for it (Discord's, within seconds) goes straight to rendering instead of waiting for that
   * answer. The answer is trusted for a minute: after that, or if the request reaches another
   * process that renders and stores the thumbnail first, storage is asked again or the
   * thumbnail rendered once more (the same bytes, placed over the same key).
   */
  anticipate(sha256: string): Promise<void> {
    const asked = this.ask(sha256).finally(() => this.asking.delete(asked));
    this.asking.add(asked);
    return asked;
  }

  private async ask(sha256: string): Promise<void> {
    if (this.known.has(sha256)) return;
    const stored = await this.storage.head(thumbnailKey(sha256)).catch(() => null); // null: the first request asks again
    this.unrendered.delete(sha256);
    // A request that came first has asked for itself.
    if (stored !== undefined || this.known.has(sha256) || this.inFlight.has(sha256)) return;
    if (this.unrendered.size >= METADATA_ENTRIES) this.unrendered.delete(this.unrendered.keys().next().value!);
    this.unrendered.set(sha256, Date.now() + UNRENDERED_TRUST_MS);
  }

  /** Whether anticipate() found no thumbnail of these bytes a moment ago; forgets the answer. */
  private knownUnrendered(sha256: string): boolean {
    const until = this.unrendered.get(sha256);
    this.unrendered.delete(sha256);
    return until !== undefined && until > Date.now();
  }

  /** The thumbnail behind `/t/<id>.webp`, made if needed: 404 when unknown, 410 when deleted. */
  describe(id: string): Promise<ThumbnailFile> {
    // No async wrapper of its own: this and read() run on every request for a thumbnail.
    return this.files.original(id).then((source) => this.known.get(source.sha256) ?? this.ensure(source));
  }

  /**
   * The thumbnail behind `/t/<id>.webp` with its bytes, when all of it is already in memory;
   * undefined in every other case (the caller then takes the long way: describe() and read()).
   * Synchronous, for the thumbnail route's hot path.
   */
  inMemory(id: string): InMemory<ThumbnailFile> | undefined {
    const source = this.files.knownOriginal(id);
    const file = source && this.known.get(source.sha256);
    const bytes = file && this.cache.get(file.key);
    return bytes && { file, bytes };
  }

  /** The whole thumbnail (a Buffer when the cache takes it) or one range of it. */
  read(thumbnail: ThumbnailFile, range?: ByteRange): Promise<Buffer | Readable> {
    const cached = this.cache.get(thumbnail.key);
    if (cached) return Promise.resolve(range ? cached.subarray(range.start, range.end + 1) : cached);
    return this.readOrRemake(thumbnail, range);
  }

  private async readOrRemake(thumbnail: ThumbnailFile, range?: ByteRange): Promise<Buffer | Readable> {
    try {
      return await this.readStored(thumbnail, range);
    } catch (error) {
      if (!isObjectNotFound(error)) throw error;
      // Removed since it was described: with the last upload of these bytes (on this node or
      // another), or by an operator clearing thumbs/. Make it again; the same input renders
      // the same bytes, and if a new sharp renders others, the headers already chosen are wrong.
      this.known.delete(thumbnail.source.sha256);
      const again = await this.ensure(thumbnail.source);
      if (again.etag !== thumbnail.etag) throw new AppError('SERVICE_UNAVAILABLE', 'This thumbnail was just remade; try again.');
      return this.readStored(again, range);
    }
  }

  private async readStored(thumbnail: ThumbnailFile, range?: ByteRange): Promise<Buffer | Readable> {
    const { key } = thumbnail;
    let whole = this.cache.get(key);
    if (!whole) {
      // Just rendered but not kept in memory (no cache): it can be read once it is stored.
      await this.placing.get(key);
      whole = await this.cache.load(key, thumbnail.size, () => this.storage.get(key));
    }
    if (whole) return range ? whole.subarray(range.start, range.end + 1) : whole;
    return this.storage.get(key, range);
  }

  /** One lookup-or-render per thumbnail at a time; later callers share the first one's work. */
  private ensure(source: RawFile): Promise<ThumbnailFile> {
    let pending = this.inFlight.get(source.sha256);
    if (!pending) {
      pending = this.findOrRender(source).finally(() => this.inFlight.delete(source.sha256));
      this.inFlight.set(source.sha256, pending);
    }
    return pending;
  }

  private async findOrRender(source: RawFile): Promise<ThumbnailFile> {
    const key = thumbnailKey(source.sha256);
    const stored = this.knownUnrendered(source.sha256) ? undefined : await this.storage.head(key);
    const { size, sha256 } = (stored && (await this.hashStored(key, stored.size))) ?? (await this.render(source, key));
    const thumbnail: ThumbnailFile = { sha256, size, mime: 'image/webp', etag: `"t-${sha256}"`, source, key };
    // Oldest inserted goes first, as in FileService: entries never go stale, only unused.
    if (this.known.size >= METADATA_ENTRIES) this.known.delete(this.known.keys().next().value!);
    this.known.set(source.sha256, thumbnail);
    return thumbnail;
  }

  /**
   * A thumbnail made earlier (or by another node): its ETag needs its hash. Undefined, and
   * the object removed, when a crash cut it short (they are placed without syncing).
   */
  private async hashStored(key: string, size: number): Promise<{ size: number; sha256: string } | undefined> {
    const hash = createHash('sha256');
    let header: Buffer = Buffer.alloc(0);
    // Through the cache: the request that asked is about to send these bytes.
    const whole = await this.cache.load(key, size, () => this.storage.get(key));
    if (whole) {
      header = whole;
      hash.update(whole);
    } else {
      for await (const chunk of (await this.storage.get(key)) as AsyncIterable<Buffer>) {
        if (header.length < WEBP_HEADER_BYTES) header = Buffer.concat([header, chunk.subarray(0, WEBP_HEADER_BYTES - header.length)]);
        hash.update(chunk);
      }
    }
    if (!isWholeWebp(header, size)) {
      this.cache.delete(key);
      await this.storage.delete(key);
      return undefined;
    }
    return { size, sha256: hash.digest('hex') };
  }

  private async render(source: RawFile, key: string): Promise<Thumbnail> {
    const original = await openLocal(this.storage, blobKey(source.sha256), this.tempDir).catch((error: unknown) => {
      throw isObjectNotFound(error) ? gone() : error;
    });
    let made: Thumbnail;
    try {
      made = await this.thumbnailer.render(original.path);
    } catch (error) {
      // The stored file passed the upload checks: it was deleted before or while being read, or
      // MAX_PIXELS was lowered, or storage is damaged. A GET answering 413 or 415 would
      // confuse clients and caches.
      if (!isAppError(error)) throw error;
      if ((await this.storage.head(blobKey(source.sha256))) === undefined) throw gone();
      throw new AppError('NOT_FOUND', `This upload has no thumbnail: the image ${error.message}.`);
    } finally {
      await original.release();
    }
    this.renderCount += 1;
    this.cache.set(key, made.data);
    // After this turn of the event loop, so the response to the request that asked goes first.
    const placing: Promise<void> = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => this.place(source, key, made))
      .finally(() => {
        if (this.placing.get(key) === placing) this.placing.delete(key);
      });
    this.placing.set(key, placing);
    return made;
  }

  /**
   * Stores a rendered thumbnail while its first request is answered: a derived file need not
   * hold that request up (with S3, it is an upload). Placed without syncing, which would cost
   * as much as all the rest but the render; hashStored() notices one a crash cut short. If
   * storing fails, or the process stops first, the thumbnail is rendered again when asked for.
   */
  private async place(source: RawFile, key: string, { data, size, sha256 }: Thumbnail): Promise<void> {
    try {
      await this.storage.put(key, data, { size, sha256, contentType: 'image/webp', durable: false });
      // The last upload of these bytes may have been deleted while this rendered. Deletion
      // removes the original, then the thumbnail (BlobStore.collect); checking the
      // original after placing the thumbnail means one of the two always removes it.
      if ((await this.storage.head(blobKey(source.sha256))) === undefined) {
        await this.storage.delete(key);
        this.known.delete(source.sha256);
        this.cache.delete(key);
      }
    } catch {
      // Not stored (the driver cleaned up after itself): it is rendered again when asked for.
    }
  }
}

/** How long an upload's "no thumbnail yet" is trusted: its first requests come within seconds. */
const UNRENDERED_TRUST_MS = 60_000;

const gone = (): AppError => new AppError('UPLOAD_GONE', 'This upload has been deleted.');
