import { setTimeout as sleep } from 'node:timers/promises';
import { type Kysely, sql, type Transaction } from 'kysely';
import type { Database } from '../db/schema.js';
import { AppError } from '../domain/errors.js';
import type { NewUpload, UploadRow } from './types.js';
import { usageOf } from './user.repository.js';

/**
 * Called with a blob's sha256: by insertWithinQuota inside the transaction that holds its row;
 * by collectBlob after the commit that marked the row as under collection.
 */
export type WithBlob = (sha256: string) => Promise<void>;

/** How blob collection and the uploads that meet it wait for one another. */
export interface CollectionTiming {
  /**
   * A collection mark older than this belongs to a collector that died (or hangs) between
   * marking the row and removing it, and may be taken over. Far longer than two storage
   * deletes take: a collector still deleting after this long could remove bytes an upload has
   * just placed again.
   */
  staleMs: number;
  /** How long an upload waits for a collection of its bytes to end before it answers 503. */
  waitMs: number;
}

export const COLLECTION_TIMING: CollectionTiming = { staleMs: 10 * 60_000, waitMs: 10_000 };
/** The first retry of an upload that met a collection of its bytes; it doubles up to the last. */
const COLLECTION_RETRY_MS = [10, 20, 50, 100, 200, 250];

/** Thrown inside insertWithinQuota's transaction to roll it back and retry later. */
class BlobUnderCollection extends Error {}

export class UploadRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly timing: CollectionTiming = COLLECTION_TIMING,
  ) {}

  /**
   * Inserts the uploads of one request (all of one user) and counts their blob references, all
   * or nothing, unless they would take the user over their quota: then nothing is written and
   * the figures for the refusal come back (or `noUser` when the user no longer exists). `ensureObject` runs for each distinct blob once its
   * row is held, before the commit: it must see that the bytes are in place.
   *
   * A blob row under collection (collectBlob) means its bytes may be being deleted right now:
   * the transaction rolls back and is tried again once the collection has ended (its row gone,
   * so ensureObject places the bytes again), with a short backoff, for up to `timing.waitMs`;
   * then SERVICE_UNAVAILABLE. A mark older than `timing.staleMs` is taken over.
   */
  async insertWithinQuota(
    userId: string,
    uploads: NewUpload[],
    ensureObject: WithBlob,
  ): Promise<{ stored: true } | { stored: false; used: number; quota: number } | { stored: false; noUser: true }> {
    const giveUpAt = Date.now() + this.timing.waitMs;
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.db.transaction().execute((trx) => this.insertOnce(trx, userId, uploads, ensureObject));
      } catch (error) {
        if (!(error instanceof BlobUnderCollection)) throw error;
        const delay = COLLECTION_RETRY_MS[Math.min(attempt, COLLECTION_RETRY_MS.length - 1)]!;
        if (Date.now() + delay > giveUpAt) {
          throw new AppError('SERVICE_UNAVAILABLE', 'The bytes of this image are being removed from storage; try again in a moment.');
        }
        await sleep(delay);
      }
    }
  }

  private async insertOnce(
    trx: Transaction<Database>,
    userId: string,
    uploads: NewUpload[],
    ensureObject: WithBlob,
  ): Promise<{ stored: true } | { stored: false; used: number; quota: number } | { stored: false; noUser: true }> {
    // Blob rows are locked in sha256 order, so two requests carrying the same images in
    // different orders cannot deadlock on PostgreSQL.
    const bySha = [...uploads].sort((a, b) => (a.sha256 < b.sha256 ? -1 : a.sha256 > b.sha256 ? 1 : 0));
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
    const staleBefore = new Date(Date.now() - this.timing.staleMs).toISOString();
    for (const upload of bySha) {
      // No reference is taken on a row under collection: its bytes may vanish after this
      // commit, whatever ensureObject saw. A stale mark is dropped (its collector is gone).
      const taken = await trx
        .insertInto('blob')
        .values({ sha256: upload.sha256, size: upload.size, ref_count: 1 })
        .onConflict((oc) =>
          oc
            .column('sha256')
            .doUpdateSet({ ref_count: sql`blob.ref_count + 1`, size: upload.size, collecting_at: null })
            .where((eb) => eb.or([eb('blob.collecting_at', 'is', null), eb('blob.collecting_at', '<', staleBefore)])),
        )
        .returning('sha256')
        .executeTakeFirst();
      if (!taken) throw new BlobUnderCollection(upload.sha256);
    }
    for (const sha256 of new Set(bySha.map((upload) => upload.sha256))) await ensureObject(sha256);
    // In request order: seq then lists the request's files newest first, last part on top.
    for (const upload of uploads) await trx.insertInto('upload').values(upload).execute();
    return { stored: true };
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
   * Runs `removeObject` unless a live upload references the blob, outside any transaction (a
   * slow storage delete must not hold a database lock, on SQLite the only write lock):
   * 1. one statement marks the row as under collection (a placeholder row when there is none)
   *    unless it is referenced or another collector's fresh mark is on it, and commits;
   * 2. `removeObject` runs: an upload of the same bytes meanwhile meets the mark and waits
   *    (insertWithinQuota), so it cannot take a reference to bytes about to vanish;
   * 3. the row goes, if it still holds this mark, whether or not removeObject succeeded (bytes
   *    it failed to remove are an orphan for the sweeper); the waiting upload then places the
   *    bytes again.
   * A crash after 1 leaves the mark, which uploads and collectors take over once stale, and
   * at most an orphan object. Returns whether it ran.
   */
  async collectBlob(sha256: string, removeObject: WithBlob): Promise<boolean> {
    const now = Date.now();
    const mark = new Date(now).toISOString();
    const staleBefore = new Date(now - this.timing.staleMs).toISOString();
    const marked = await this.db
      .insertInto('blob')
      .values({ sha256, size: 0, ref_count: 0, collecting_at: mark })
      .onConflict((oc) =>
        oc
          .column('sha256')
          .doUpdateSet({ collecting_at: mark })
          .where('blob.ref_count', '=', 0)
          .where((eb) => eb.or([eb('blob.collecting_at', 'is', null), eb('blob.collecting_at', '<', staleBefore)])),
      )
      .returning('sha256')
      .executeTakeFirst();
    if (!marked) return false;
    try {
      await removeObject(sha256);
    } finally {
      await this.db.deleteFrom('blob').where('sha256', '=', sha256).where('ref_count', '=', 0).where('collecting_at', '=', mark).execute();
    }
    return true;
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
