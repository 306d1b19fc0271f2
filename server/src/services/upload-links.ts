import { createHmac } from 'node:crypto';
import type { Static } from 'typebox';
import type { UploadResponse } from '../contract/upload.schemas.js';
import { safeEqual } from '../domain/ids.js';
import type { UploadRow } from '../repositories/types.js';

/** The upload object of SPEC.md, as every endpoint returns it (its schema is the contract's). */
export type UploadView = Static<typeof UploadResponse>;

/**
 * Builds public links. Deletion secrets are an HMAC of the upload id under an instance key,
 * so they can be shown again in listings without storing a secret per upload.
 */
export class UploadLinks {
  constructor(
    private readonly publicUrl: string,
    private readonly deletionKey: string,
  ) {}

  deletionSecret(id: string): string {
    return createHmac('sha256', this.deletionKey).update(id).digest('base64url').slice(0, 32);
  }

  isDeletionSecret(id: string, secret: string): boolean {
    return safeEqual(this.deletionSecret(id), secret);
  }

  view(row: UploadRow): UploadView {
    const base = this.publicUrl;
    return {
      id: row.id,
      name: row.name,
      url: `${base}/${row.id}`,
      raw_url: `${base}/i/${row.id}.${row.ext}`,
      thumbnail_url: `${base}/t/${row.id}.webp`,
      delete_url: `${base}/d/${row.id}/${this.deletionSecret(row.id)}`,
      mime: row.mime,
      size: Number(row.size),
      width: row.width,
      height: row.height,
      sha256: row.sha256,
      created_at: row.created_at,
    };
  }
}

/** Content-addressed storage key: identical bytes are stored once. */
export const blobKey = (sha256: string): string => `${sha256.slice(0, 2)}/${sha256.slice(2, 4)}/${sha256}`;

/** Keyed by the original's bytes: same bytes, same thumbnail, made and stored once. */
export const thumbnailKey = (sha256: string): string => `thumbs/${sha256.slice(0, 2)}/${sha256}.webp`;

/** What an object key made by blobKey() or thumbnailKey() was made from; undefined for any other key. */
export function parseObjectKey(key: string): { kind: 'blob' | 'thumbnail'; sha256: string } | undefined {
  const sha256 = /([0-9a-f]{64})(?:\.webp)?$/.exec(key)?.[1];
  if (sha256 === undefined) return undefined;
  if (key === blobKey(sha256)) return { kind: 'blob', sha256 };
  if (key === thumbnailKey(sha256)) return { kind: 'thumbnail', sha256 };
  return undefined;
}
