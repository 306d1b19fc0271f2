/**
 * The error catalogue. Every error a client can see is an AppError with a stable
 * SCREAMING_SNAKE code; the HTTP error handler turns it into SPEC.md's JSON shape.
 */
export const ERROR_STATUS = {
  BAD_REQUEST: 400,
  NO_FILES: 400,
  EMPTY_FILE: 400,
  TOO_MANY_FILES: 400,
  MALFORMED_MULTIPART: 400,
  VALIDATION_FAILED: 400,
  UNAUTHORIZED: 401,
  INVALID_CREDENTIALS: 401,
  FORBIDDEN: 403,
  CSRF_INVALID: 403,
  REGISTRATION_CLOSED: 403,
  ACCOUNT_DISABLED: 403,
  INVITE_REQUIRED: 403,
  INVITE_INVALID: 403,
  WRONG_PASSWORD: 403,
  NOT_FOUND: 404,
  UPLOAD_NOT_FOUND: 404,
  INVITE_NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  NOT_ACCEPTABLE: 406,
  REQUEST_TIMEOUT: 408,
  USERNAME_TAKEN: 409,
  SELF_CHANGE_REFUSED: 409,
  UPLOAD_GONE: 410,
  PAYLOAD_TOO_LARGE: 413,
  IMAGE_TOO_LARGE: 413,
  QUOTA_EXCEEDED: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  CORRUPT_IMAGE: 415,
  RANGE_NOT_SATISFIABLE: 416,
  EXPECTATION_FAILED: 417,
  RATE_LIMITED: 429,
  TOO_MANY_CONNECTIONS: 429,
  HEADERS_TOO_LARGE: 431,
  INTERNAL_ERROR: 500,
  NOT_IMPLEMENTED: 501,
  SERVICE_UNAVAILABLE: 503,
  INSUFFICIENT_STORAGE: 507,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export class AppError extends Error {
  readonly statusCode: number;

  constructor(
    readonly code: ErrorCode,
    message: string,
    /** Seconds after which trying again makes sense: sent as Retry-After (429, 503). */
    readonly retryAfter?: number,
    /** What went wrong underneath (a storage failure): logged, never sent. */
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'AppError';
    this.statusCode = ERROR_STATUS[code];
  }
}

export const isAppError = (error: unknown): error is AppError => error instanceof AppError;
