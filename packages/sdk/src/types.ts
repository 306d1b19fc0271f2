/**
 * The API's objects, taken from the OpenAPI document the server generates (openapi.d.ts is
 * made from ../openapi.json by `npm run openapi`), so they cannot drift from the server.
 */
import type { components } from './openapi.js';

type Schemas = components['schemas'];

/** An uploaded image (SPEC.md, "The upload object"). */
export type Upload = Schemas['UploadResponse'];
/** `GET /api/me`: the account, its usage and quota. */
export type Account = Schemas['AccountResponse'];
export type User = Schemas['UserResponse'];
/** An API key as listed: never its secret. */
export type ApiKey = Schemas['ApiKeyResponse'];
/** A new key and its secret, which the server shows only this once. */
export type CreatedKey = Schemas['CreatedKeyResponse'];
export type RegisterResult = Schemas['RegisterResponse'];
export type LoginResult = Schemas['LoginResponse'];
/** Whether a new account can be made now: `open`, `invite` (with a code) or `closed`. */
export type Registration = Schemas['RegistrationResponse']['registration'];
/** An invite code for a server with `REGISTRATION=invite`. */
export type Invite = Schemas['InviteResponse'];
/** What `admin.invites.create` takes; both fields may be left out. */
export type NewInvite = Partial<Schemas['CreateInviteBody']>;
export type EmbedFields = Schemas['EmbedFieldsResponse'];
/** Any subset of the embed fields; `null` puts a field back to the server default. */
export type EmbedPatch = Schemas['EmbedPatchBody'];
export type EmbedSettings = Schemas['EmbedSettingsResponse'];
export type EmbedPreview = Schemas['EmbedPreviewResponse'];
export type OEmbed = Schemas['OEmbedResponse'];
/** An account as an admin sees it: role, quota, access and usage. */
export type AdminUser = Schemas['AdminUserResponse'];
/** What `admin.users.update` may change; a field left out is kept. */
export type AdminUserPatch = Schemas['AdminUserPatchBody'];
/** The server's usage: accounts, live uploads and bytes, and the last 30 UTC days. */
export type AdminStats = Schemas['AdminStatsResponse'];
/** The error body every failed request carries (SPEC.md, "Errors"). */
export type ErrorBody = Schemas['ErrorResponse'];
/** A code of the server's error catalogue, such as `UNSUPPORTED_MEDIA_TYPE`. */
export type ErrorCode = ErrorBody['code'];

/**
 * Per-upload embed text, sent as `x-embed-*` headers; templates work (`{file.name}`).
 * An empty value keeps the template. The server takes only these five per upload
 * (`enabled` and `author_url` are account settings: {@link DiscordImages.embed}).
 */
export type UploadEmbed = Partial<Pick<EmbedFields, 'title' | 'description' | 'site_name' | 'author' | 'color'>>;

/** Bytes of the upload request sent so far. */
export interface UploadProgress {
  /** Bytes of the request body sent so far (multipart framing included). */
  loaded: number;
  /**
   * The whole body's size; `undefined` while an input of unknown size (a stream given
   * without `size`) is still being sent. The last event has `loaded === total`.
   */
  total: number | undefined;
}
