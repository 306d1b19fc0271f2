import { createHash, randomBytes } from 'node:crypto';
import { readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import type { DatabaseHandle } from '../../src/db/database.js';
import { newRowId, newUploadId } from '../../src/domain/ids.js';
import { UploadRepository } from '../../src/repositories/upload.repository.js';
import { UserRepository } from '../../src/repositories/user.repository.js';
import { BlobStore } from '../../src/services/blob-store.js';
import { OrphanSweeper, STALE_TEMP_MS } from '../../src/services/orphan-sweeper.js';
import { blobKey, thumbnailKey } from '../../src/services/upload-links.js';
import { LocalStorage } from '../../src/storage/local-storage.js';
import type { StorageDriver } from '../../src/storage/storage-driver.js';
import { DIALECTS, testDatabase } from '../helpers/database.js';
import { putBytes } from '../helpers/storage.js';
import { tempDir } from '../helpers/temp-dir.js';
import { uploadTempDir } from '../../src/storage/data-dir.js';

const GRACE_MS = 10 * 60_000;

describe.each(DIALECTS)('orphan sweeper and blob store on %s', (dialect) => {
  let uploads: UploadRepository;
  let users: UserRepository;
  let handle: DatabaseHandle;

  beforeAll(async () => {
    handle = await testDatabase(dialect, await tempDir());
    uploads = new UploadRepository(handle.db);
    users = new UserRepository(handle.db);
  });

  /** A storage of its own per test: the sweeper looks at all of it. */
  const freshStorage = async () => LocalStorage.create(await tempDir('di-sweep-'));

  /** A finished upload's file in tmp/, and its sha256. */
  async function tempUpload(storage: LocalStorage): Promise<{ sha256: string; path: string }> {
    const bytes = randomBytes(500);
    const path = join(uploadTempDir(join(storage.localPath('x'), '..', '..')), `${newRowId()}.upload`);
    await writeFile(path, bytes);
    return { sha256: createHash('sha256').update(bytes).digest('hex'), path };
  }

  async function placed(storage: LocalStorage): Promise<string> {
    const { sha256, path } = await tempUpload(storage);
    await putBytes(storage, blobKey(sha256), path);
    await rm(path);
    return sha256;
  }

  async function referenced(sha256: string): Promise<string> {
    const userId = newRowId();
    await users.create(
      { id: userId, username: `s_${userId.toLowerCase()}`, password_hash: 'x', quota_bytes: null, created_at: new Date().toISOString() },
      true,
    );
    const id = newUploadId();
    const row = {
      id,
      user_id: userId,
      name: 'a.png',
      mime: 'image/png',
      ext: 'png',
      size: 500,
      width: 1,
      height: 1,
      sha256,
      dominant_color: '#000000',
      created_at: new Date().toISOString(),
      embed_overrides: null,
    };
    await uploads.insertWithinQuota(userId, [row], async () => {});
    return id;
  }

  const age = async (storage: LocalStorage, key: string, ms: number) => {
    const then = new Date(Date.now() - ms);
    await utimes(join(uploadTempDir(join(storage.localPath('x'), '..', '..')), '..', 'files', key), then, then);
  };

  it('removes old bytes no upload references, with their thumbnails, and keeps the rest', async () => {
    const storage = await freshStorage();
    const sweeper = new OrphanSweeper(uploads, storage, uploadTempDir(join(storage.localPath('x'), '..', '..')), GRACE_MS);
    const live = await placed(storage);
    await referenced(live);
    const orphan = await placed(storage);
    const young = await placed(storage);
    const deletedLive = await placed(storage);
    const deletedId = await referenced(deletedLive);
    await uploads.markDeleted(deletedId, new Date().toISOString()); // crashed before its bytes were removed
    await putBytes(storage, thumbnailKey(live), Buffer.from('thumb'));
    await putBytes(storage, thumbnailKey(orphan), Buffer.from('thumb'));
    const lostOriginal = createHash('sha256').update('gone').digest('hex');
    await putBytes(storage, thumbnailKey(lostOriginal), Buffer.from('thumb'));
    for (const key of [
      blobKey(live),
      blobKey(orphan),
      blobKey(deletedLive),
      thumbnailKey(live),
      thumbnailKey(orphan),
      thumbnailKey(lostOriginal),
    ]) {
      await age(storage, key, GRACE_MS + 60_000);
    }
    const staleTemp = join(uploadTempDir(join(storage.localPath('x'), '..', '..')), 'cut-off.upload');
    await writeFile(staleTemp, 'x');
    await utimes(staleTemp, new Date(Date.now() - STALE_TEMP_MS - 60_000), new Date(Date.now() - STALE_TEMP_MS - 60_000));
    await writeFile(join(uploadTempDir(join(storage.localPath('x'), '..', '..')), 'in-flight.upload'), 'x');

    expect(await sweeper.sweep()).toEqual({ temp: 1, blobs: 2, thumbnails: 1 });
    expect(await storage.head(blobKey(live))).toBeDefined();
    expect(await storage.head(thumbnailKey(live))).toBeDefined();
    expect(await storage.head(blobKey(young))).toBeDefined();
    for (const gone of [blobKey(orphan), thumbnailKey(orphan), blobKey(deletedLive), thumbnailKey(lostOriginal)]) {
      expect(await storage.head(gone)).toBeUndefined();
    }
    expect(await readdir(uploadTempDir(join(storage.localPath('x'), '..', '..')))).toEqual(['in-flight.upload']);
    // Young bytes go once they are older than the grace period.
    expect(await sweeper.sweep(Date.now() + GRACE_MS + 1000)).toMatchObject({ blobs: 1 });
    expect(await storage.head(blobKey(young))).toBeUndefined();
  });

  it('an upload whose bytes were collected after it placed them places them again before its commit', async () => {
    const storage = await freshStorage();
    const blobs = new BlobStore(uploads, storage);
    const { sha256, path } = await tempUpload(storage);
    await blobs.place({ sha256, path, size: 500, mime: 'image/png' });
    // The last other upload of these bytes is deleted meanwhile: its removal takes the bytes.
    expect(await blobs.collect(sha256)).toBe(true);
    expect(await storage.head(blobKey(sha256))).toBeUndefined();

    const userId = newRowId();
    await users.create(
      { id: userId, username: `r_${userId.toLowerCase()}`, password_hash: 'x', quota_bytes: null, created_at: new Date().toISOString() },
      true,
    );
    const row = {
      id: newUploadId(),
      user_id: userId,
      name: 'a.png',
      mime: 'image/png',
      ext: 'png',
      size: 500,
      width: 1,
      height: 1,
      sha256,
      dominant_color: '#000000',
      created_at: new Date().toISOString(),
      embed_overrides: null,
    };
    await uploads.insertWithinQuota(userId, [row], (sha) => blobs.ensure({ sha256: sha, path, size: 500, mime: 'image/png' }));
    expect(await storage.head(blobKey(sha256))).toEqual({ size: 500 });
    // And a collection now finds the reference and keeps them.
    expect(await blobs.collect(sha256)).toBe(false);
    expect(await storage.head(blobKey(sha256))).toEqual({ size: 500 });
  });

  /** A driver over `inner` whose delete() waits until released: a collection held in its middle. */
  function gatedDeletes(inner: StorageDriver): { driver: StorageDriver; deleting: Promise<void>; release: () => void } {
    let entered!: () => void;
    const deleting = new Promise<void>((resolve) => (entered = resolve));
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const driver = withDelete(inner, async (key) => {
      entered();
      await gate;
      await inner.delete(key);
    });
    return { driver, deleting, release };
  }

  function withDelete(inner: StorageDriver, remove: (key: string) => Promise<void>): StorageDriver {
    return {
      put: (key, body, meta) => inner.put(key, body, meta),
      get: (key, range) => inner.get(key, range),
      head: (key) => inner.head(key),
      list: () => inner.list(),
      check: () => inner.check(),
      publicUrl: (key) => inner.publicUrl(key),
      delete: remove,
    };
  }

  /** Whether `promise` fulfils within `ms` (it goes on either way). */
  const fulfilsWithin = (promise: Promise<unknown>, ms: number) => Promise.race([promise.then(() => true), sleep(ms).then(() => false)]);

  async function newUser(): Promise<string> {
    const userId = newRowId();
    await users.create(
      { id: userId, username: `c_${userId.toLowerCase()}`, password_hash: 'x', quota_bytes: null, created_at: new Date().toISOString() },
      true,
    );
    return userId;
  }

  const uploadRow = (userId: string, sha256: string) => ({
    id: newUploadId(),
    user_id: userId,
    name: 'a.png',
    mime: 'image/png',
    ext: 'png',
    size: 500,
    width: 1,
    height: 1,
    sha256,
    dominant_color: '#000000',
    created_at: new Date().toISOString(),
    embed_overrides: null,
  });

  const blobRow = (sha256: string) =>
    handle.db.selectFrom('blob').select(['ref_count', 'collecting_at']).where('sha256', '=', sha256).executeTakeFirst();

  it('deletes from storage after its commit: other writes commit while the delete is in flight', async () => {
    const storage = await freshStorage();
    const { driver, deleting, release } = gatedDeletes(storage);
    const collected = await placed(storage);
    const collecting = new BlobStore(uploads, driver).collect(collected);
    await deleting;
    try {
      // Another user's upload of other bytes (SQLite: the one write lock, which a transaction
      // around the delete would hold) ...
      const other = await placed(storage);
      expect(await fulfilsWithin(referenced(other), 5000)).toBe(true);
      // ... and a write to the collected blob's own row (PostgreSQL: a transaction around the
      // delete would hold it, its placeholder row uncommitted, and this insert would wait).
      const touch = handle.db
        .insertInto('blob')
        .values({ sha256: collected, size: 0, ref_count: 0 })
        .onConflict((oc) => oc.column('sha256').doNothing())
        .execute();
      expect(await fulfilsWithin(touch, 5000)).toBe(true);
    } finally {
      release();
    }
    expect(await collecting).toBe(true);
    expect(await storage.head(blobKey(collected))).toBeUndefined();
    expect(await blobRow(collected)).toBeUndefined();
  });

  it('an upload of bytes being collected waits for the collection to end, then places them again', async () => {
    const storage = await freshStorage();
    const { driver, deleting, release } = gatedDeletes(storage);
    const blobs = new BlobStore(uploads, driver);
    const { sha256, path } = await tempUpload(storage);
    const local = { sha256, path, size: 500, mime: 'image/png' };
    await blobs.place(local);
    const collecting = blobs.collect(sha256);
    await deleting;
    const userId = await newUser();
    const uploading = uploads.insertWithinQuota(userId, [uploadRow(userId, sha256)], () => blobs.ensure(local));
    try {
      // Committed now, it would have seen the bytes still in place and lost them a moment later.
      expect(await fulfilsWithin(uploading, 500)).toBe(false);
    } finally {
      release();
    }
    expect(await collecting).toBe(true);
    expect(await uploading).toEqual({ stored: true });
    expect(await storage.head(blobKey(sha256))).toEqual({ size: 500 });
    expect(await blobRow(sha256)).toEqual({ ref_count: 1, collecting_at: null });
  });

  it('a delete that fails midway leaves no upload without bytes, and no mark behind', async () => {
    const storage = await freshStorage();
    const blobs = new BlobStore(uploads, storage);
    const { sha256, path } = await tempUpload(storage);
    const local = { sha256, path, size: 500, mime: 'image/png' };
    await blobs.place(local);
    const failing = new BlobStore(
      uploads,
      withDelete(storage, async (key) => {
        await storage.delete(key);
        throw new Error('connection reset');
      }),
    );
    await expect(failing.collect(sha256)).rejects.toThrow('connection reset');
    expect(await storage.head(blobKey(sha256))).toBeUndefined();
    expect(await blobRow(sha256)).toBeUndefined();
    // An upload of these bytes goes ahead at once (no mark to wait out) and places them again.
    const userId = await newUser();
    const quick = new UploadRepository(handle.db, { staleMs: 60_000, waitMs: 1000 });
    expect(await quick.insertWithinQuota(userId, [uploadRow(userId, sha256)], () => blobs.ensure(local))).toEqual({ stored: true });
    expect(await storage.head(blobKey(sha256))).toEqual({ size: 500 });
  });

  it('the mark of a collector that died holds uploads back until it is stale, then is taken over', async () => {
    const storage = await freshStorage();
    const blobs = new BlobStore(uploads, storage);
    const { sha256, path } = await tempUpload(storage);
    const local = { sha256, path, size: 500, mime: 'image/png' };
    // It died after marking the row and deleting the bytes, before removing the row.
    await handle.db.insertInto('blob').values({ sha256, size: 0, ref_count: 0, collecting_at: new Date().toISOString() }).execute();
    const userId = await newUser();
    const impatient = new UploadRepository(handle.db, { staleMs: 60_000, waitMs: 300 });
    const row = uploadRow(userId, sha256);
    await expect(impatient.insertWithinQuota(userId, [row], () => blobs.ensure(local))).rejects.toMatchObject({
      code: 'SERVICE_UNAVAILABLE',
    });
    expect(await uploads.findById(row.id)).toBeUndefined();
    // Another collector leaves a fresh mark alone.
    expect(await blobs.collect(sha256)).toBe(false);
    await handle.db
      .updateTable('blob')
      .set({ collecting_at: new Date(Date.now() - 61_000).toISOString() })
      .where('sha256', '=', sha256)
      .execute();
    expect(await impatient.insertWithinQuota(userId, [row], () => blobs.ensure(local))).toEqual({ stored: true });
    expect(await storage.head(blobKey(sha256))).toEqual({ size: 500 });
    expect(await blobRow(sha256)).toEqual({ ref_count: 1, collecting_at: null });
    expect(await blobs.collect(sha256)).toBe(false);
  });

  it('a collector takes over a stale mark', async () => {
    const storage = await freshStorage();
    const sha256 = await placed(storage);
    await handle.db
      .insertInto('blob')
      .values({ sha256, size: 0, ref_count: 0, collecting_at: new Date(Date.now() - 61_000).toISOString() })
      .execute();
    const collector = new BlobStore(new UploadRepository(handle.db, { staleMs: 60_000, waitMs: 300 }), storage);
    expect(await collector.collect(sha256)).toBe(true);
    expect(await storage.head(blobKey(sha256))).toBeUndefined();
    expect(await blobRow(sha256)).toBeUndefined();
  });
});
