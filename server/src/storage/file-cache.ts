import type { Readable } from 'node:stream';

const MAX_ENTRY_BYTES_CAP = 8 * 1024 ** 2;

export interface FileCacheOptions {
  /** Total bytes of file contents held; 0 disables the cache. */
  maxBytes: number;
  /**
   * Largest single file worth caching, so that one big file cannot flush many small ones.
   * @default min(maxBytes / 8, 8 MiB)
   */
  maxEntryBytes?: number;
}

/**
 * Whole small files in memory, least recently used evicted first, bounded by total bytes.
 * A Map iterates in insertion order, so re-inserting on every hit keeps the oldest entry
 * first and both hits and evictions are O(1).
 *
 * Buffers are shared with callers, who must not modify them.
 */
export class FileCache {
  readonly maxBytes: number;
  readonly maxEntryBytes: number;
  private readonly entries = new Map<string, Buffer>();
  private readonly loading = new Map<string, Promise<Buffer | undefined>>();
  private bytes = 0;
  private hitCount = 0;
  private missCount = 0;

  constructor({ maxBytes, maxEntryBytes }: FileCacheOptions) {
    this.maxBytes = checkedSize('maxBytes', maxBytes);
    const defaultEntry = Math.min(Math.floor(maxBytes / 8), MAX_ENTRY_BYTES_CAP);
    this.maxEntryBytes = Math.min(checkedSize('maxEntryBytes', maxEntryBytes ?? defaultEntry), this.maxBytes);
  }

  /** Bytes of file contents held. */
  get size(): number {
    return this.bytes;
  }

  get count(): number {
    return this.entries.size;
  }

  /** Lookups answered from memory (get() or load() found the bytes), since the process started. */
  get hits(): number {
    return this.hitCount;
  }

  /**
   * Lookups that had to go to storage: a load() that read (or joined a read in flight) or was
   * too big to cache. A get() that finds nothing is not one, as its caller then either loads
   * (counted there) or leaves the request to a route that will.
   */
  get misses(): number {
    return this.missCount;
  }

  /** Marks a hit as most recently used. Allocates nothing: this runs on every raw request. */
  get(key: string): Buffer | undefined {
    const buf = this.entries.get(key);
    if (buf !== undefined) {
      this.entries.delete(key);
      this.entries.set(key, buf);
      this.hitCount += 1;
    }
    return buf;
  }

  /** Ignored (and any older value dropped) when `buf` is too big to cache. */
  set(key: string, buf: Buffer): void {
    this.delete(key);
    if (!this.fits(buf.length)) return;
    this.entries.set(key, buf);
    this.bytes += buf.length;
    while (this.bytes > this.maxBytes) {
      const oldest = this.entries.keys().next();
      if (oldest.done === true) break;
      this.delete(oldest.value);
    }
  }

  /** Also stops a load in flight for `key` from caching what it reads. */
  delete(key: string): void {
    this.loading.delete(key);
    const buf = this.entries.get(key);
    if (buf === undefined) return;
    this.entries.delete(key);
    this.bytes -= buf.length;
  }

  /**
   * The whole object, from the cache or read into it through `read`. Concurrent loads of one
   * key share a single read. Resolves undefined, reading nothing, when `size` is too big to
   * cache: the caller streams it instead. Rejects, caching nothing, when `read` fails or the
   * stream's length differs from `size`: the object changed or is damaged, and a padded or
   * truncated file must not be served.
   */
  load(key: string, size: number, read: () => Promise<Readable>): Promise<Buffer | undefined> {
    const hit = this.get(key);
    if (hit !== undefined) return Promise.resolve(hit);
    this.missCount += 1;
    if (!this.fits(size)) return Promise.resolve(undefined);
    const inFlight = this.loading.get(key);
    if (inFlight !== undefined) return inFlight;

    // async turns a synchronous throw from read() into a rejection; the handlers below run
    // later still, once `pending` is assigned.
    const reading = (async () => readExactly(await read(), size))();
    const pending = reading.then(
      (buf) => {
        // A delete() while reading unregisters this load: the bytes may be stale, keep out.
        if (this.finishLoad(key, pending)) this.set(key, buf);
        return buf;
      },
      (error: unknown) => {
        this.finishLoad(key, pending);
        throw error;
      },
    );
    this.loading.set(key, pending);
    return pending;
  }

  /** Unregisters `load` if it is still the registered one for `key`; says whether it was. */
  private finishLoad(key: string, load: Promise<Buffer | undefined>): boolean {
    if (this.loading.get(key) !== load) return false;
    this.loading.delete(key);
    return true;
  }

  private fits(bytes: number): boolean {
    return this.maxBytes > 0 && bytes <= this.maxEntryBytes;
  }
}

/** Copies chunks straight into one buffer of the expected size: no chunk list, no concat. */
async function readExactly(stream: Readable, size: number): Promise<Buffer> {
  // Unpooled: a small cached file must not pin a shared 8 KiB pool slab for its lifetime.
  const buf = Buffer.allocUnsafeSlow(size);
  let filled = 0;
  // Leaving a for-await loop early (the throw) destroys the stream, closing its file.
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    if (filled + chunk.length > size) throw sizeMismatch(size, 'more');
    filled += chunk.copy(buf, filled);
  }
  if (filled !== size) throw sizeMismatch(size, `only ${filled}`);
  return buf;
}

function sizeMismatch(expected: number, got: string): Error {
  return new Error(`Expected ${expected} bytes but the stream held ${got}`);
}

function checkedSize(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`${name} must be a non-negative integer, got ${value}`);
  }
  return value;
}
