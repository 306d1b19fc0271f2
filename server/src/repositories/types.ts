import type { ApiKeyTable, InviteTable, SessionTable, UploadTable, UserTable } from '../db/schema.js';

export type UserRow = UserTable;
export type ApiKeyRow = ApiKeyTable;
export type SessionRow = SessionTable;
export type InviteRow = Omit<InviteTable, 'uses' | 'seq'> & { uses: number };
export type UploadRow = Omit<UploadTable, 'seq'> & { seq: number };
export type NewUpload = Omit<UploadTable, 'seq' | 'deleted_at'>;

export interface Usage {
  bytes: number;
  files: number;
}
