import type { Generated } from 'kysely';

/** Times are ISO 8601 UTC strings in both dialects: portable, and they sort as text. */
export interface UserTable {
  id: string;
  /** Lower-cased: usernames are case-insensitive. */
  username: string;
  password_hash: string;
  role: 'admin' | 'user';
  /** Bytes; null = unlimited. */
  quota_bytes: number | null;
  /** 0 or 1 (portable across dialects): 1 = refused at sign-in and on every key and session. */
  disabled: number;
  created_at: string;
}

export interface ApiKeyTable {
  id: string;
  user_id: string;
  name: string;
  /** SHA-256 hex of the secret. The secret itself is never stored. */
  key_hash: string;
  /** First characters of the secret, to tell keys apart in a list. */
  key_hint: string;
  created_at: string;
  last_used_at: string | null;
}

export interface SessionTable {
  /** SHA-256 hex of the cookie value. */
  id: string;
  user_id: string;
  created_at: string;
  expires_at: string;
}

export interface InviteTable {
  id: string;
  /** What a new user enters at sign-up; unique. */
  code: string;
  max_uses: number;
  /** Accounts made with it; counted in the transaction that makes the account. */
  uses: Generated<number>;
  /** null = never. */
  expires_at: string | null;
  created_at: string;
  /** The admin's user id. */
  created_by: string;
  /** The list's newest-first order. */
  seq: Generated<number>;
}

/** One stored object per distinct content; uploads reference it by sha256. */
export interface BlobTable {
  sha256: string;
  size: number;
  /** Live uploads pointing here; the object is removed when it drops to 0. */
  ref_count: number;
  /**
   * Set (with ref_count 0) while a collector removes the bytes, after the commit that set it:
   * uploads of these bytes wait until the row is gone. Null otherwise.
   */
  collecting_at: string | null;
}

export interface UploadTable {
  id: string;
  /** Null on the tombstones of a deleted account: they outlive their owner, so their URLs still answer 410. */
  user_id: string | null;
  name: string;
  mime: string;
  ext: string;
  size: number;
  width: number;
  height: number;
  sha256: string;
  /** `#rrggbb` */
  dominant_color: string;
  created_at: string;
  /** Set when deleted: the row stays as a tombstone so its URLs answer 410. */
  deleted_at: string | null;
  /** JSON of EmbedFields given at upload time, or null. */
  embed_overrides: string | null;
  /** Guarantees newest-first order among uploads made in the same millisecond. */
  seq: Generated<number>;
}

/** Instance-wide values made once by a migration, e.g. the key that signs deletion links. */
export interface SettingTable {
  key: string;
  value: string;
}

/** Embed templates for one scope ('server' or a user id); null fields inherit. */
export interface EmbedSettingTable {
  scope: string;
  /** 0 or 1 (portable across dialects); null = inherit. */
  enabled: number | null;
  site_name: string | null;
  title: string | null;
  description: string | null;
  author: string | null;
  author_url: string | null;
  /** 'auto' (the image's accent colour) or '#rrggbb'. */
  color: string | null;
  updated_at: string;
}

export interface Database {
  embed_setting: EmbedSettingTable;
  setting: SettingTable;
  user: UserTable;
  api_key: ApiKeyTable;
  session: SessionTable;
  invite: InviteTable;
  blob: BlobTable;
  upload: UploadTable;
}
