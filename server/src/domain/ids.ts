import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/**
 * A uniformly random base62 string from the crypto RNG. Rejection sampling
 * (bytes >= 248 are dropped) keeps every character equally likely.
 */
export function randomBase62(length: number): string {
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte < 248) out += BASE62[byte % 62];
      if (out.length === length) break;
    }
  }
  return out;
}

/** Upload ids: 10 base62 characters = 59.5 bits, over SPEC.md's 58-bit floor. */
const UPLOAD_ID_LENGTH = 10;
export const newUploadId = (): string => randomBase62(UPLOAD_ID_LENGTH);
export const isUploadId = (value: string): boolean => /^[0-9A-Za-z]{10}$/.test(value);

/** Internal row ids (users, keys, sessions): never shown in URLs that must be unguessable. */
export const newRowId = (): string => randomBase62(16);

/** API keys: `di_` + 40 base62 characters (238 bits). Only the SHA-256 is stored. */
export const API_KEY_PREFIX = 'di_';
export const newApiKeySecret = (): string => API_KEY_PREFIX + randomBase62(40);
export const isApiKeyFormat = (value: string): boolean => /^di_[0-9A-Za-z]{32,128}$/.test(value);

/** Session tokens and deletion secrets: 32 base62 characters (190 bits). */
export const newSecret = (): string => randomBase62(32);

export const sha256Hex = (value: string): string => createHash('sha256').update(value).digest('hex');

/** Constant-time comparison of two hex digests (or any equal-length strings). */
export function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
