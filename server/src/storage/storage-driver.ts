import type { Readable } from 'node:stream';

import type { ByteRange } from '../domain/byte-range.js';

export type { ByteRange };

export interface StoredObject {
  size: number;
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
   * allowed (content-addressed keys always hold the same bytes).
   * The source is moved, not copied: once this resolves, `sourcePath` no longer exists.
   */
  putFile(key: string, sourcePath: string): Promise<void>;
  /** Streams an object (or one range of it). Rejects with code 'ENOENT' when missing. */
  get(key: string, range?: ByteRange): Promise<Readable>;
  /** Size of an object, or undefined when it does not exist. */
  stat(key: string): Promise<StoredObject | undefined>;
  /** Removes an object; removing a missing one is not an error. */
  delete(key: string): Promise<void>;
  /** Readiness: can the storage be reached and written? Throws when not. */
  check(): Promise<void>;
  /**
   * A directory on local disk for in-progress uploads. It sits beside local storage so that
   * placing a finished upload is a rename on the same file system.
   */
  readonly tempDir: string;
}
