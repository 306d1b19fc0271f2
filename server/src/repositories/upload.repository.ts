import { type Kysely, sql, type Transaction } from 'kysely';
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
   * the figures for the refusal come back (or `noUser` when the user no longer exists). `ensureObject` runs for each distinct blob once its
   * row is held, before the commit: it must see that the bytes are in place.
   */
  async insertWithinQuota(
    userId: string,
    uploads: NewUpload[],
    ensureObject: WithBlob,
  ): Promise<{ stored: true } | { stored: false; used: number; quota: number } | { stored: false; noUser: true }> {
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
      // Deleted (by an admin) while this upload was on its way.
      if (!user) return { stored: false, noUser: true };
      const quota = user.quota_bytes;
      if (quota !== null) {
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

  /**
   * Live uploads of a user, newest first, strictly older than `beforeSeq` when given, and
   * whose name contains `nameContains` in any case when given. The search walks the user's
   * uploads newest first on (user_id, seq) and stops at `limit` matches; a substring has no
   * index to use (docs/decisions.md#search-by-name).
   */
  listByUser(userId: string, limit: number, beforeSeq?: number, nameContains?: string): Promise<UploadRow[]> {
    let query = this.db
      .selectFrom('upload')
      .selectAll()
      .where('user_id', '=', userId)
      .where('deleted_at', 'is', null)
      .orderBy('seq', 'desc')
      .limit(limit);
    if (beforeSeq !== undefined) query = query.where('seq', '<', beforeSeq);
    // lower() folds all of Unicode in both dialects (SQLite's is replaced: db/database.ts).
    if (nameContains !== undefined)
      query = query.where(sql<string>`lower(name)`, 'like', sql<string>`${containsPattern(nameContains)} escape '\\'`);
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
      const { deleted, unreferenced } = await tombstone(trx, { id }, at);
      const row = deleted[0];
      return row && { sha256: row.sha256, unreferenced: unreferenced.includes(row.sha256) };
    });
  }

  /**
   * Deletes a user, their keys and sessions (by cascade) and turns their live uploads into
   * tombstones, which stay without an owner so that their URLs answer 410, all in one
   * transaction. Answers the uploads tombstoned and the blobs left without a reference (their
   * bytes are to be removed after this commit, as for markDeleted), or undefined when there
   * is no such user.
   */
  async deleteUserWithUploads(userId: string, at: string): Promise<{ uploadIds: string[]; unreferenced: string[] } | undefined> {
    return this.db.transaction().execute(async (trx) => {
      // The user's row first, as an upload takes it (insertWithinQuota): an upload of theirs
      // running meanwhile commits either before this (and is tombstoned here) or after, finding no user.
      const user = await trx
        .updateTable('user')
        .set({ quota_bytes: sql`quota_bytes` })
        .where('id', '=', userId)
        .returning('id')
        .executeTakeFirst();
      if (!user) return undefined;
      const { deleted, unreferenced } = await tombstone(trx, { userId }, at);
      await trx.deleteFrom('user').where('id', '=', userId).execute();
      return { uploadIds: deleted.map((row) => row.id), unreferenced };
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

/**
 * Inside the caller's transaction: turns live uploads into tombstones (their URLs then answer
 * 410) and drops their blob references, one update per distinct blob, in sha256 order (the
 * order insertWithinQuota locks them in, so the two cannot deadlock). Answers the uploads
 * tombstoned and the blobs now without any reference, whose rows are gone.
 */
async function tombstone(
  trx: Transaction<Database>,
  which: { id: string } | { userId: string },
  at: string,
): Promise<{ deleted: Array<{ id: string; sha256: string }>; unreferenced: string[] }> {
  const deleted = await trx
    .updateTable('upload')
    .set({ deleted_at: at, name: '' })
    .where('deleted_at', 'is', null)
    .where('id' in which ? 'id' : 'user_id', '=', 'id' in which ? which.id : which.userId)
    .returning(['id', 'sha256'])
    .execute();
  const references = new Map<string, number>();
  for (const row of deleted) references.set(row.sha256, (references.get(row.sha256) ?? 0) + 1);
  const unreferenced: string[] = [];
  for (const [sha256, count] of [...references].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const blob = await trx
      .updateTable('blob')
      .set({ ref_count: sql`ref_count - ${count}` })
      .where('sha256', '=', sha256)
      .returning('ref_count')
      .executeTakeFirst();
    if (blob && Number(blob.ref_count) > 0) continue;
    await trx.deleteFrom('blob').where('sha256', '=', sha256).execute();
    unreferenced.push(sha256);
  }
  return { deleted, unreferenced };
}

/** A LIKE pattern matching names that contain `text`, lower-cased, its wildcards (% _) and the escape (\) taken literally. */
export const containsPattern = (text: string): string => `%${text.toLowerCase().replace(/[\\%_]/g, '\\$&')}%`;
