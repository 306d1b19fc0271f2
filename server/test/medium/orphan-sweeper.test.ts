import { createHash, randomBytes } from 'node:crypto';
import { readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { newRowId, newUploadId } from '../../src/domain/ids.js';
import { UploadRepository } from '../../src/repositories/upload.repository.js';
import { UserRepository } from '../../src/repositories/user.repository.js';
import { BlobStore } from '../../src/services/blob-store.js';
import { OrphanSweeper, STALE_TEMP_MS } from '../../src/services/orphan-sweeper.js';
import { blobKey, thumbnailKey } from '../../src/services/upload-links.js';
import { LocalStorage } from '../../src/storage/local-storage.js';
import { DIALECTS, testDatabase } from '../helpers/database.js';
import { putBytes } from '../helpers/storage.js';
import { tempDir } from '../helpers/temp-dir.js';
import { uploadTempDir } from '../../src/storage/data-dir.js';

const GRACE_MS = 10 * 60_000;

describe.each(DIALECTS)('orphan sweeper and blob store on %s', (dialect) => {
  let uploads: UploadRepository;
  let users: UserRepository;

  beforeAll(async () => {
    const handle = await testDatabase(dialect, await tempDir());
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
});
