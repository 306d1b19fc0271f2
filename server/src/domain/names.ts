import { stripUnsafeChars } from './text.js';

const MAX_NAME_BYTES = 255;

/**
 * Makes a client-supplied file name safe to store and show: no directory parts, no control
 * or bidi-override characters, at most 255 UTF-8 bytes with the extension kept.
 */
export function sanitizeFileName(raw: string | undefined): string {
  let name = (raw ?? '').normalize('NFC');
  name = name.split(/[\\/]/).pop() ?? '';
  name = stripUnsafeChars(name);
  name = name.replace(/\s+/g, ' ').trim();
  name = name.replace(/^\.+/, '');
  if (name === '') return 'image';
  return clampBytes(name, MAX_NAME_BYTES);
}

/** Cuts the stem (not the extension) so the whole name fits in `max` UTF-8 bytes, never splitting a character. */
function clampBytes(name: string, max: number): string {
  if (Buffer.byteLength(name) <= max) return name;
  const dot = name.lastIndexOf('.');
  const ext = dot > 0 && name.length - dot <= 16 ? name.slice(dot) : '';
  const budget = max - Buffer.byteLength(ext);
  let stem = '';
  let bytes = 0;
  for (const char of ext ? name.slice(0, dot) : name) {
    bytes += Buffer.byteLength(char);
    if (bytes > budget) break;
    stem += char;
  }
  return stem + ext;
}

/** The account rules of registration (contract Credentials), for accounts made without it (the admin command). */
export const USERNAME_PATTERN = /^[A-Za-z0-9_.-]{2,32}$/;
export const PASSWORD_LENGTH = { min: 8, max: 1024 } as const;
