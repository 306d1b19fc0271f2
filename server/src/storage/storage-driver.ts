import type { Readable } from 'node:stream';

import type { ByteRange } from '../domain/byte-range.js';

export type { ByteRange };

export interface StoredObject {
  size: number;
}

export interface PutOptions {
  /**
   * False for objects that can be made again (thumbnails): the driver may skip what makes
   * the object survive a power loss, and after a crash it may be missing, empty or cut
   * short. Readers of such objects must check them.
   * @default true
   */
  durable?: boolean;
}

export interface ListedObject {
  key: string;
  size: number;
  /** When the object was last written, in ms since the epoch. */
  modifiedAt: number;
}

/** An object as a file on local disk, for tools that read from a path (sharp). */
export interface LocalFile {
  /** Read it; never modify, move or delete it. */
  path: string;
  /** Call once done with `path`, whether the work succeeded or not. */
  release(): Promise<void>;
}

/**
 * Where file bytes live. Keys are relative paths made by the services (for example
 * `ab/cd/<sha256>`); a driver never interprets them. Services only ever see this interface,
 * so the local and S3 drivers are interchangeable.
 */
export interface StorageDriver {
  /**
   * Stores the file at `sourcePath` (a finished temp file on local disk) under `key`,
   * atomically: a reader sees the whole object or nothing. Overwriting an existing key is
   * allowed (content-addressed keys always hold the same bytes). Durable (the default): once
   * this resolves, the object survives a crash or power loss.
   * The source is left where it is, for the caller to remove: an upload keeps it until its
   * rows are committed, in case it must place the bytes again (upload.service.ts).
   */
  putFile(key: string, sourcePath: string, options?: PutOptions): Promise<void>;
  /**
   * Stores a small object held in memory (a rendered thumbnail) under `key`, atomically like
   * putFile: a remote driver sends it as it is, the local one goes through a temp file.
   */
  putBuffer(key: string, data: Buffer, options?: PutOptions): Promise<void>;
  /** Streams an object (or one range of it). Rejects with code 'ENOENT' when missing. */
  get(key: string, range?: ByteRange): Promise<Readable>;
  /**
   * The object as a file on local disk. sharp decodes from a path without holding the whole
   * input in memory, which it does with a stream. The local driver gives the path of its own
   * file (no copy) at once, without checking it exists, and a release() that does nothing: a
   * missing object, or one deleted meanwhile, fails when read. A remote driver (S3) downloads
   * the object into `tempDir`, rejecting with code 'ENOENT' when it is missing, and release()
   * deletes that copy.
   */
  openLocal(key: string): Promise<LocalFile>;
  /** Size of an object, or undefined when it does not exist. */
  stat(key: string): Promise<StoredObject | undefined>;
  /** Removes an object; removing a missing one is not an error. */
  delete(key: string): Promise<void>;
  /**
   * Every stored object, in no particular order, for the orphan sweeper (orphan-sweeper.ts).
   * An object placed or removed while this runs may or may not be listed.
   */
  list(): AsyncIterable<ListedObject>;
  /**
   * Removes the files in `tempDir` last modified before `before` (ms since the epoch), or all
   * of them when it is not given: only when no upload can be in flight, at start before
   * serving. Returns how many it removed.
   */
  sweepTemp(before?: number): Promise<number>;
  /** Readiness: can the storage be reached and written? Throws when not. */
  check(): Promise<void>;
  /**
   * A directory on local disk for in-progress uploads. It sits beside local storage so that
   * placing a finished upload is a rename on the same file system.
   */
  readonly tempDir: string;
}
