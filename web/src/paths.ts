/**
 * The app's own paths. Each must differ from an upload id (exactly 10 base62 characters) so that
 * it can never hide a share page at `/:id`; the server serves index.html for these alone
 * (server/src/http/plugins/web.plugin.ts, whose list a test holds equal to this one).
 */
export const APP_PATHS = [
  '/',
  '/auth',
  '/keys',
  '/setup',
  '/settings',
  '/admin',
  '/admin/users',
  '/admin/invites',
  '/admin/embed',
  '/admin/usage',
] as const;
export type AppPath = (typeof APP_PATHS)[number];
