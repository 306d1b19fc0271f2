import type { Readable } from 'node:stream';

import type { ByteRange } from '../domain/byte-range.js';

export type { ByteRange };

export interface StoredObject {
  size: number;
}

/** What the caller knows of the bytes it puts: the driver checks them against it. */
export interface PutMeta {
  size: number;
  /** Hex sha256 of the bytes: a remote driver sends it for the store to verify, and checks it itself. */
  sha256: string;
  /** Sent to a remote store, which serves it when raw files are fetched there (S3_PUBLIC_URL). */
  contentType?: string;
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

/** The object asked for does not exist (never stored, or deleted meanwhile). */
export class ObjectNotFoundError extends Error {
  override name = 'ObjectNotFoundError';
  constructor(readonly key: string) {
    super(`No such object: ${key}`);
  }
}

export const isObjectNotFound = (error: unknown): error is ObjectNotFoundError => error instanceof ObjectNotFoundError;

/**
 * Where file bytes live. Keys are relative paths made by the services (for example
 * `ab/cd/<sha256>`); a driver never interprets them. Services only ever see this interface,
 * so the local and S3 drivers are interchangeable.
 */
export interface StorageDriver {
  /**
   * Stores `body` under `key`, atomically: a reader sees the whole object or nothing. Keys are
   * content-addressed, so an existing key is never overwritten: putting one resolves, leaving
   * the stored object as it is (delete it first to replace a damaged one). Rejects, storing
   * nothing, when the bytes do not match `meta`. Durable (the default): once this resolves,
   * the object survives a crash or power loss. A stream is consumed or destroyed either way.
   */
  put(key: string, body: Readable | Buffer, meta: PutMeta): Promise<void>;
  /**
   * Streams an object (or one range of it; a range running past the end stops there).
   * Rejects with ObjectNotFoundError when missing, before any stream exists.
   */
  get(key: string, range?: ByteRange): Promise<Readable>;
  /** Size of an object, or undefined when it does not exist. */
  head(key: string): Promise<StoredObject | undefined>;
  /** Removes an object; removing a missing one is not an error. */
  delete(key: string): Promise<void>;
  /**
   * Every stored object, in no particular order, for the orphan sweeper (orphan-sweeper.ts).
   * An object placed or removed while this runs may or may not be listed.
   */
  list(): AsyncIterable<ListedObject>;
  /** Readiness: can the storage be reached and written? Throws when not. */
  check(): Promise<void>;
  /** Where clients can fetch the object themselves (S3_PUBLIC_URL), or undefined to stream it from here. */
  publicUrl(key: string): string | undefined;
}
