import { ApiError, DiscordImages, NetworkError } from '@discord-images/sdk';

/**
 * The one client of the app. Same origin, so the browser sends the session cookie by itself;
 * the SDK learns the CSRF token from sign-in and `me()` and sends it on every change.
 */
export const di = new DiscordImages({ baseUrl: location.origin, credentials: 'same-origin' });

/** What to tell the person about a failed call: the API's own message, which says what to do. */
export function messageOf(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  if (error instanceof NetworkError) return 'The server could not be reached. Check your connection and try again.';
  return error instanceof Error ? error.message : String(error);
}

/** A session that expired or was ended elsewhere: the app sends the person back to sign in. */
export const isSignedOut = (error: unknown): boolean => error instanceof ApiError && error.status === 401;
