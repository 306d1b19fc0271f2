import type { Kysely } from 'kysely';
import type { Database, EmbedSettingTable } from '../db/schema.js';

export type EmbedSettingRow = EmbedSettingTable;
export type EmbedSettingPatch = Partial<Omit<EmbedSettingRow, 'scope' | 'updated_at'>>;

export const SERVER_SCOPE = 'server';

export class EmbedSettingRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /** The rows of these scopes that exist, in no particular order. */
  find(scopes: string[]): Promise<EmbedSettingRow[]> {
    return this.db.selectFrom('embed_setting').selectAll().where('scope', 'in', scopes).execute();
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
