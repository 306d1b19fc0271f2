import { AppError, isAppError } from '../domain/errors.js';

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

/** sharp's errors become CORRUPT_IMAGE, keeping libvips' short reason but never a path. */
export async function withCorruptErrors<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    if (isAppError(error)) throw error;
    throw corruptImage(decoderReason(error));
  }
}

function decoderReason(error: unknown): string {
  const firstLine = (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';
  const reason = firstLine.replace(/^\w+:\s*/, '').trim(); // "VipsJpeg: premature end..."
  if (reason === '' || reason.includes('/') || reason.includes('\\') || reason.length > 120) {
    return 'the decoder rejected it';
  }
  return reason;
}
