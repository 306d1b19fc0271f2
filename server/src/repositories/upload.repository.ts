import { type Kysely, type Transaction, sql } from 'kysely';
import type { Database } from '../db/schema.js';
import type { NewUpload, UploadRow } from './types.js';
import { usageOf } from './user.repository.js';

/** Called inside the transaction that drops a blob's last reference, so no upload can re-reference it halfway. */
export type RemoveObject = (sha256: string) => Promise<void>;

export class UploadRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /**
   * Inserts the uploads of one request (all of one user) and counts their blob references, all
   * or nothing, unless they would take the user over their quota: then nothing is written and
   * the figures for the refusal come back.
   */
  async insertWithinQuota(userId: string, uploads: NewUpload[]): Promise<{ stored: true } | { stored: false; used: number; quota: number }> {
    // Blob rows are locked in sha256 order, so two requests carrying the same images in
    // different orders cannot deadlock on PostgreSQL.
    const bySha = [...uploads].sort((a, b) => (a.sha256 < b.sha256 ? -1 : a.sha256 > b.sha256 ? 1 : 0));
    return this.db.transaction().execute(async (trx) => {
      // A no-op update locks the user's row in both dialects (SQLite: the write lock at once,
      // rather than upgrading a read lock), so one user's concurrent uploads check their
      // quota one after another and cannot overshoot it together.
      const user = await trx.updateTable('user').set({ quota_bytes: sql`quota_bytes` }).where('id', '=', userId).returning('quota_bytes').executeTakeFirst();
      const quota = user?.quota_bytes;
      if (quota !== null && quota !== undefined) {
        const { bytes } = await usageOf(trx, userId);
        const incoming = uploads.reduce((sum, upload) => sum + upload.size, 0);
        if (bytes + incoming > quota) return { stored: false, used: bytes, quota: Number(quota) };
      }
      for (const upload of bySha) {
        await trx
          .insertInto('blob')
          .values({ sha256: upload.sha256, size: upload.size, ref_count: 1 })
          .onConflict((oc) => oc.column('sha256').doUpdateSet({ ref_count: sql`blob.ref_count + 1` }))
          .execute();
      }
      // In request order: seq then lists the request's files newest first, last part on top.
      for (const upload of uploads) await trx.insertInto('upload').values(upload).execute();
      return { stored: true };
    });
  }

  findById(id: string): Promise<UploadRow | undefined> {
    return this.db.selectFrom('upload').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** Live uploads of a user, newest first, strictly older than `beforeSeq` when given. */
  listByUser(userId: string, limit: number, beforeSeq?: number): Promise<UploadRow[]> {
    let query = this.db
      .selectFrom('upload')
      .selectAll()
      .where('user_id', '=', userId)
      .where('deleted_at', 'is', null)
      .orderBy('seq', 'desc')
      .limit(limit);
    if (beforeSeq !== undefined) query = query.where('seq', '<', beforeSeq);
    return query.execute();
  }

  /**
   * Turns a live upload into a tombstone (its URLs then answer 410) and drops its blob
   * reference. Returns false when the upload was not live.
   */
  async markDeleted(id: string, at: string, removeObject: RemoveObject): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      const row = await trx
        .updateTable('upload')
        .set({ deleted_at: at, name: '' })
        .where('id', '=', id)
        .where('deleted_at', 'is', null)
        .returning('sha256')
        .executeTakeFirst();
      if (!row) return false;
      await this.release(trx, row.sha256, removeObject);
      return true;
    });
  }

  /** Undoes insertMany for uploads whose bytes could not be placed: no tombstone is left. */
  async removeMany(ids: string[], removeObject: RemoveObject): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      for (const id of ids) {
        const row = await trx.deleteFrom('upload').where('id', '=', id).returning('sha256').executeTakeFirst();
        if (row) await this.release(trx, row.sha256, removeObject);
      }
    });
  }

  private async release(trx: Transaction<Database>, sha256: string, removeObject: RemoveObject): Promise<void> {
    const blob = await trx
      .updateTable('blob')
      .set({ ref_count: sql`ref_count - 1` })
      .where('sha256', '=', sha256)
      .returning('ref_count')
      .executeTakeFirst();
    if (blob && Number(blob.ref_count) <= 0) {
      await trx.deleteFrom('blob').where('sha256', '=', sha256).execute();
      await removeObject(sha256);
    }
  }
}
