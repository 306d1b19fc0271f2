import type { ErrorBody, ErrorCode } from './types.js';

/** The server answered with an error status (4xx, 5xx). */
export class ApiError extends Error {
  override readonly name = 'ApiError';

  constructor(
    /** The HTTP status, such as 413. */
    readonly status: number,
    /**
     * The catalogue code, such as `PAYLOAD_TOO_LARGE`; `UNEXPECTED_RESPONSE` when the answer
     * was not the server's JSON error (a proxy's HTML page, for example).
     */
    readonly code: ErrorCode | 'UNEXPECTED_RESPONSE',
    message: string,
    /** The request's id in the server's logs (`request_id`, or the `x-request-id` header). */
    readonly requestId: string | undefined,
    /** Seconds to wait before trying again, from `Retry-After` (429, 503). */
    readonly retryAfter?: number,
    /** The parsed error body, when there was one. */
    readonly body?: ErrorBody,
  ) {
    super(message);
  }
}

/** No answer came: the server is down, the name does not resolve, the connection broke. */
export class NetworkError extends Error {
  override readonly name = 'NetworkError';

  constructor(message: string, options: { cause: unknown }) {
    super(message, options);
  }
}

/** Seconds from a Retry-After header: a number of seconds or an HTTP date. */
export function retryAfterSeconds(header: string | null): number | undefined {
  if (header === null || header.trim() === '') return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds);
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - Date.now()) / 1000));
}

/** The ApiError for a failed response; reads its body. */
export async function apiErrorFrom(response: Response): Promise<ApiError> {
  const text = await response.text().catch(() => '');
  const retryAfter = retryAfterSeconds(response.headers.get('retry-after'));
  let body: ErrorBody | undefined;
  try {
    const parsed = JSON.parse(text) as Partial<ErrorBody> | null;
    if (parsed && typeof parsed.code === 'string' && typeof parsed.message === 'string') body = parsed as ErrorBody;
  } catch {
    // not JSON: described below
  }
  const requestId = body?.request_id ?? response.headers.get('x-request-id') ?? undefined;
  if (body) return new ApiError(response.status, body.code, body.message, requestId, retryAfter, body);
  const excerpt = text.replace(/\s+/g, ' ').trim().slice(0, 200);
  const message = `${response.status} ${response.statusText}`.trim() + (excerpt ? `: ${excerpt}` : '');
  return new ApiError(response.status, 'UNEXPECTED_RESPONSE', message, requestId, retryAfter);
}
