import { AppError } from '../domain/errors.js';

/** Messages follow a subject: the caller prefixes them with the file's name. */
export function corruptImage(reason: string): AppError {
  return new AppError('CORRUPT_IMAGE', `is a truncated or corrupt image (${reason})`);
}

export function unsupportedType(mime: string | undefined): AppError {
  return new AppError(
    'UNSUPPORTED_MEDIA_TYPE',
    `is not a supported image: ${mime ?? 'unknown type'} (supported: PNG, JPEG, GIF, WebP, AVIF)`,
  );
}
