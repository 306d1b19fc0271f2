import type { Kysely } from 'kysely';
import type { Database, EmbedSettingTable } from '../db/schema.js';
import type { UploadRow } from './types.js';

export type EmbedSettingRow = EmbedSettingTable;
export type EmbedSettingPatch = Partial<Omit<EmbedSettingRow, 'scope' | 'updated_at'>>;

export const SERVER_SCOPE = 'server';

/** An upload with everything its share page is made of. */
export interface SharedUpload {
  upload: UploadRow;
  /** '' when it has no owner (a tombstone of a deleted account). */
  username: string;
  /** The rows of the server's and the owner's scopes that exist. */
  settings: EmbedSettingRow[];
}

const FIELDS = ['scope', 'enabled', 'site_name', 'title', 'description', 'author', 'author_url', 'color', 'updated_at'] as const;
/** The two scopes a share page layers, as the aliases they are joined under. */
const SCOPES = ['server_setting', 'owner_setting'] as const;
const aliased = (scope: (typeof SCOPES)[number]) => FIELDS.map((field) => `${scope}.${field} as ${scope}_${field}` as const);

export class EmbedSettingRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /** The rows of these scopes that exist, in no particular order. */
  find(scopes: string[]): Promise<EmbedSettingRow[]> {
    return this.db.selectFrom('embed_setting').selectAll().where('scope', 'in', scopes).execute();
  }

  /**
   * An upload, its owner's name and the embed settings of the server and of its owner, in one
   * query: share pages are the busiest route that reads the database, and on PostgreSQL each
   * query is a round trip and a statement for the server to parse (bench/database.ts).
   */
  async findShared(uploadId: string): Promise<SharedUpload | undefined> {
    const row = await this.db
      .selectFrom('upload')
      .leftJoin('user as owner', 'owner.id', 'upload.user_id')
      .leftJoin('embed_setting as server_setting', (join) => join.on('server_setting.scope', '=', SERVER_SCOPE))
      .leftJoin('embed_setting as owner_setting', 'owner_setting.scope', 'upload.user_id')
      .selectAll('upload')
      .select(['owner.username', ...aliased('server_setting'), ...aliased('owner_setting')])
      .where('upload.id', '=', uploadId)
      .executeTakeFirst();
    if (!row) return undefined;
    const { username, ...columns } = row as typeof row & Record<string, unknown>;
    const joined = (name: string) => SCOPES.some((scope) => name.startsWith(`${scope}_`));
    const settings = SCOPES.filter((scope) => columns[`${scope}_scope`] !== null).map(
      (scope) => Object.fromEntries(FIELDS.map((field) => [field, columns[`${scope}_${field}`]])) as unknown as EmbedSettingRow,
    );
    const upload = Object.fromEntries(Object.entries(columns).filter(([name]) => !joined(name))) as unknown as UploadRow;
    return { upload, username: username ?? '', settings };
  }

  /** Applies a patch (null clears a field back to "inherit"), creating the row if needed. */
  async update(scope: string, patch: EmbedSettingPatch, at: string): Promise<void> {
    await this.db
      .insertInto('embed_setting')
      .values({ scope, ...patch, updated_at: at })
      .onConflict((oc) => oc.column('scope').doUpdateSet({ ...patch, updated_at: at }))
      .execute();
  }
}
