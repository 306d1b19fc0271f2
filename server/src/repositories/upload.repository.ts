import { type Kysely, sql } from 'kysely';
import type { Database } from '../db/schema.js';
import type { NewUpload, UploadRow } from './types.js';
import { usageOf } from './user.repository.js';

/** Called inside a transaction that holds a blob's row, so no other upload or removal of its bytes can run meanwhile. */
export type WithBlob = (sha256: string) => Promise<void>;

export class UploadRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /**
   * Inserts the uploads of one request (all of one user) and counts their blob references, all
   * or nothing, unless they would take the user over their quota: then nothing is written and
   * the figures for the refusal come back. `ensureObject` runs for each distinct blob once its
   * row is held, before the commit: it must see that the bytes are in place.
   */
  async insertWithinQuota(
    userId: string,
    uploads: NewUpload[],
    ensureObject: WithBlob,
  ): Promise<{ stored: true } | { stored: false; used: number; quota: number }> {
    // Blob rows are locked in sha256 order, so two requests carrying the same images in
    // different orders cannot deadlock on PostgreSQL.
    const bySha = [...uploads].sort((a, b) => (a.sha256 < b.sha256 ? -1 : a.sha256 > b.sha256 ? 1 : 0));
    return this.db.transaction().execute(async (trx) => {
      // A no-op update locks the user's row in both dialects (SQLite: the write lock at once,
      // rather than upgrading a read lock), so one user's concurrent uploads check their
      // quota one after another and cannot overshoot it together.
      const user = await trx
        .updateTable('user')
        .set({ quota_bytes: sql`quota_bytes` })
        .where('id', '=', userId)
        .returning('quota_bytes')
        .executeTakeFirst();
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
      for (const sha256 of new Set(bySha.map((upload) => upload.sha256))) await ensureObject(sha256);
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
   * reference. Returns undefined when the upload was not live; else its sha256, and whether
   * that was the blob's last reference: its bytes are then to be removed with collectBlob(),
   * after this commit (never before it, or a crash in between would leave a live upload
   * without bytes).
   */
  async markDeleted(id: string, at: string): Promise<{ sha256: string; unreferenced: boolean } | undefined> {
    return this.db.transaction().execute(async (trx) => {
      const row = await trx
        .updateTable('upload')
        .set({ deleted_at: at, name: '' })
        .where('id', '=', id)
        .where('deleted_at', 'is', null)
        .returning('sha256')
        .executeTakeFirst();
      if (!row) return undefined;
      const blob = await trx
        .updateTable('blob')
        .set({ ref_count: sql`ref_count - 1` })
        .where('sha256', '=', row.sha256)
        .returning('ref_count')
        .executeTakeFirst();
      const unreferenced = !blob || Number(blob.ref_count) <= 0;
      if (unreferenced) await trx.deleteFrom('blob').where('sha256', '=', row.sha256).execute();
      return { sha256: row.sha256, unreferenced };
    });
  }

  /**
   * Runs `removeObject` unless a live upload references the blob, holding its row meanwhile (a
   * placeholder row when there is none, gone again at the commit): an upload of the same
   * bytes waits, then finds them gone and places them again (insertWithinQuota's
   * `ensureObject`). Returns whether it ran.
   */
  async collectBlob(sha256: string, removeObject: WithBlob): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      const blob = await trx
        .insertInto('blob')
        .values({ sha256, size: 0, ref_count: 0 })
        .onConflict((oc) => oc.column('sha256').doUpdateSet({ ref_count: sql`blob.ref_count` }))
        .returning('ref_count')
        .executeTakeFirstOrThrow();
      if (Number(blob.ref_count) > 0) return false;
      await removeObject(sha256);
      await trx.deleteFrom('blob').where('sha256', '=', sha256).execute();
      return true;
    });
  }

  /** Which of these blobs live uploads reference (for the orphan sweeper, a batch at a time). */
  async referencedBlobs(sha256s: string[]): Promise<Set<string>> {
    if (sha256s.length === 0) return new Set();
    const rows = await this.db.selectFrom('blob').select('sha256').where('sha256', 'in', sha256s).where('ref_count', '>', 0).execute();
    return new Set(rows.map((row) => row.sha256));
  }
}
