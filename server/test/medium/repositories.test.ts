import { beforeAll, describe, expect, it } from 'vitest';
import type { DatabaseHandle } from '../../src/db/database.js';
import { newRowId, newUploadId } from '../../src/domain/ids.js';
import { ApiKeyRepository } from '../../src/repositories/api-key.repository.js';
import { SessionRepository } from '../../src/repositories/session.repository.js';
import type { NewUpload, UserRow } from '../../src/repositories/types.js';
import { InviteRepository } from '../../src/repositories/invite.repository.js';
import { UploadRepository } from '../../src/repositories/upload.repository.js';
import { UserRepository } from '../../src/repositories/user.repository.js';
import { DIALECTS, testDatabase } from '../helpers/database.js';
import { racingRepositories } from '../helpers/racing-repositories.js';
import { tempDir } from '../helpers/temp-dir.js';

describe.each(DIALECTS)('repositories on %s', (dialect) => {
  let handle: DatabaseHandle;
  let dataDir: string;
  let users: UserRepository;
  let uploads: UploadRepository;

  beforeAll(async () => {
    dataDir = await tempDir();
    handle = await testDatabase(dialect, dataDir);
    users = new UserRepository(handle.db);
    uploads = new UploadRepository(handle.db);
  });

  const newUser = async () => {
    const id = newRowId();
    await users.create(
      { id, username: `user_${id.toLowerCase()}`, password_hash: 'x', quota_bytes: null, created_at: new Date().toISOString() },
      true,
    );
    return id;
  };
  const upload = (userId: string, sha256: string, size = 100): NewUpload => ({
    id: newUploadId(),
    user_id: userId,
    name: 'a.png',
    mime: 'image/png',
    ext: 'png',
    size,
    width: 1,
    height: 1,
    sha256,
    dominant_color: '#000000',
    created_at: new Date().toISOString(),
    embed_overrides: null,
  });
  const refCount = async (sha256: string) =>
    (await handle.db.selectFrom('blob').select('ref_count').where('sha256', '=', sha256).executeTakeFirst())?.ref_count;

  // Each race runs its transactions on connections of their own, all at once (see
  // racingRepositories), and is repeated, because processes racing on SQLite wake at slightly
  // different times. Without the lock under test, these fail.
  const RACERS = 4;
  const ROUNDS = 8;
  // Starting the SQLite racer processes takes seconds on a loaded machine.
  const RACE_TIMEOUT_MS = 90_000;

  it(
    'makes exactly one admin even when the first registrations race',
    async () => {
      const dir = await tempDir();
      const fresh = await testDatabase(dialect, dir);
      const racers = await racingRepositories(fresh, dir, RACERS);
      for (let round = 0; round < ROUNDS; round++) {
        // Every round starts before the first registration again.
        await fresh.db.deleteFrom('setting').execute();
        await fresh.db.deleteFrom('user').execute();
        const candidates = Array.from({ length: RACERS }, (_, i) => ({
          id: newRowId(),
          username: `racer${i}`,
          password_hash: 'x',
          quota_bytes: null,
          created_at: new Date().toISOString(),
        }));
        const outcomes = await racers.race(
          candidates.map((candidate) => ({ repository: 'users', method: 'create', args: [candidate, false] })),
        );
        expect(outcomes.filter((outcome) => !outcome.ok)).toEqual([]);
        const made = outcomes.flatMap((outcome) => (outcome.ok && outcome.value ? [outcome.value as UserRow] : []));
        expect(made.map((row) => row.role)).toEqual(['admin']);
      }
      const late = { id: newRowId(), username: 'late', password_hash: 'x', quota_bytes: null, created_at: new Date().toISOString() };
      expect(await new UserRepository(fresh.db).create(late, true)).toMatchObject({ role: 'user' });
    },
    RACE_TIMEOUT_MS,
  );

  it(
    'counts the uses of an invite in the sign-up, so racing sign-ups cannot make more accounts than it allows',
    async () => {
      const racers = await racingRepositories(handle, dataDir, RACERS);
      const adminId = await newUser(); // an account exists: the racers are not first, so they need the invite
      const invites = new InviteRepository(handle.db);
      for (let round = 0; round < ROUNDS; round++) {
        // Single-use codes, and every other round a code for two.
        const maxUses = 1 + (round % 2);
        const code = `race${round}${newRowId()}`;
        await invites.create({
          id: newRowId(),
          code,
          max_uses: maxUses,
          expires_at: null,
          created_at: new Date().toISOString(),
          created_by: adminId,
        });
        const at = new Date().toISOString();
        const outcomes = await racers.race(
          Array.from({ length: RACERS }, () => {
            const id = newRowId();
            const candidate = { id, username: `invited_${id.toLowerCase()}`, password_hash: 'x', quota_bytes: null, created_at: at };
            return {
              repository: 'users' as const,
              method: 'create' as const,
              args: [candidate, { code, at }] as [typeof candidate, { code: string; at: string }],
            };
          }),
        );
        expect(outcomes.filter((outcome) => !outcome.ok)).toEqual([]);
        const made = outcomes.flatMap((outcome) => (outcome.ok && outcome.value ? [outcome.value as UserRow] : []));
        expect(made.map((row) => row.role)).toEqual(Array(maxUses).fill('user'));
        const row = await handle.db.selectFrom('invite').select('uses').where('code', '=', code).executeTakeFirstOrThrow();
        expect(row.uses).toBe(maxUses);
      }
    },
    RACE_TIMEOUT_MS,
  );

  /** For the rows' blobs, as the upload service would check its bytes; records the calls. */
  const ensured: string[] = [];
  const ensure = async (sha256: string) => void ensured.push(sha256);

  it('counts blob references across uploads and says when the last one is gone', async () => {
    const userId = await newUser();
    const sha = 'a'.repeat(63) + dialect.length;
    const [a, b] = [upload(userId, sha), upload(userId, sha)];
    ensured.length = 0;
    await uploads.insertWithinQuota(userId, [a, b], ensure);
    expect(ensured).toEqual([sha]);
    expect(Number(await refCount(sha))).toBe(2);

    expect(await uploads.markDeleted(a.id, new Date().toISOString())).toEqual({ sha256: sha, unreferenced: false });
    expect(await uploads.markDeleted(a.id, new Date().toISOString())).toBeUndefined();
    expect(Number(await refCount(sha))).toBe(1);
    expect((await uploads.findById(a.id))?.deleted_at).not.toBeNull();
    expect((await uploads.findById(a.id))?.name).toBe('');

    expect(await uploads.markDeleted(b.id, new Date().toISOString())).toEqual({ sha256: sha, unreferenced: true });
    expect(await refCount(sha)).toBeUndefined();
  });

  it('rolls back the whole request when one insert fails', async () => {
    const userId = await newUser();
    const good = upload(userId, 'b'.repeat(64));
    const clash = { ...upload(userId, 'c'.repeat(64)), id: good.id };
    await expect(uploads.insertWithinQuota(userId, [good, clash], ensure)).rejects.toThrow();
    expect(await uploads.findById(good.id)).toBeUndefined();
    expect(await refCount('b'.repeat(64))).toBeUndefined();
  });

  it('commits no row when its bytes cannot be ensured', async () => {
    const userId = await newUser();
    const row = upload(userId, 'd'.repeat(64));
    await expect(uploads.insertWithinQuota(userId, [row], () => Promise.reject(new Error('disk')))).rejects.toThrow('disk');
    expect(await uploads.findById(row.id)).toBeUndefined();
    expect(await refCount('d'.repeat(64))).toBeUndefined();
  });

  it('collects a blob only while no live upload references it, and leaves no row behind', async () => {
    const userId = await newUser();
    const sha = 'f'.repeat(62) + dialect.slice(0, 2);
    const removed: string[] = [];
    const remove = async (s: string) => void removed.push(s);
    const row = upload(userId, sha);
    await uploads.insertWithinQuota(userId, [row], ensure);
    expect(await uploads.collectBlob(sha, remove)).toBe(false);
    expect(Number(await refCount(sha))).toBe(1);
    await uploads.markDeleted(row.id, new Date().toISOString());
    expect(await uploads.collectBlob(sha, remove)).toBe(true);
    expect(removed).toEqual([sha]);
    expect(await refCount(sha)).toBeUndefined();
    // A failed removal keeps nothing either: the bytes stay for the sweeper.
    await expect(uploads.collectBlob(sha, () => Promise.reject(new Error('disk')))).rejects.toThrow('disk');
    expect(await refCount(sha)).toBeUndefined();
    expect(await uploads.referencedBlobs([sha, 'e'.repeat(64)])).toEqual(new Set());
  });

  it(
    'checks the quota inside the transaction, so concurrent uploads cannot overshoot it',
    async () => {
      const racers = await racingRepositories(handle, dataDir, RACERS);
      for (let round = 0; round < ROUNDS; round++) {
        const userId = newRowId();
        await users.create(
          {
            id: userId,
            username: `quota_${userId.toLowerCase()}`,
            password_hash: 'x',
            quota_bytes: 250,
            created_at: new Date().toISOString(),
          },
          true,
        );
        const calls = Array.from({ length: RACERS }, (_, i) => ({
          repository: 'uploads' as const,
          method: 'insertWithinQuota' as const,
          args: [userId, [upload(userId, `${round}_${i}`.padStart(64, 'q'), 100)]] as [string, NewUpload[]],
        }));
        const outcomes = await racers.race(calls);
        expect(outcomes.filter((outcome) => !outcome.ok)).toEqual([]);
        const results = outcomes.map((outcome) => (outcome.ok ? outcome.value : undefined));
        expect(results.filter((result) => (result as { stored: boolean }).stored)).toHaveLength(2);
        expect(results.find((result) => !(result as { stored: boolean }).stored)).toEqual({ stored: false, used: 200, quota: 250 });
        expect(await users.usage(userId)).toEqual({ bytes: 200, files: 2 });
      }
    },
    RACE_TIMEOUT_MS,
  );

  it('lists live uploads newest first with a keyset cursor, and sums usage', async () => {
    const userId = await newUser();
    const rows = Array.from({ length: 5 }, (_, i) => upload(userId, `${i}`.padStart(64, 'e'), 10 * (i + 1)));
    for (const row of rows) await uploads.insertWithinQuota(userId, [row], ensure);
    await uploads.markDeleted(rows[2]!.id, new Date().toISOString());
    const all = await uploads.listByUser(userId, 10);
    expect(all.map((r) => r.id)).toEqual([rows[4], rows[3], rows[1], rows[0]].map((r) => r!.id));
    const after = await uploads.listByUser(userId, 10, all[1]!.seq);
    expect(after.map((r) => r.id)).toEqual([rows[1]!.id, rows[0]!.id]);
    expect(await users.usage(userId)).toEqual({ bytes: 10 + 20 + 40 + 50, files: 4 });
  });

  it('finds keys by hash with their owner, and sessions only until they expire', async () => {
    const userId = await newUser();
    const keys = new ApiKeyRepository(handle.db);
    await keys.create({
      id: newRowId(),
      user_id: userId,
      name: 'k',
      key_hash: 'f'.repeat(64),
      key_hint: 'di_abcd',
      created_at: new Date().toISOString(),
      last_used_at: null,
    });
    const found = await keys.findByHash('f'.repeat(64));
    expect(found?.user.id).toBe(userId);
    expect(found?.key.name).toBe('k');
    expect(await keys.findByHash('0'.repeat(64))).toBeUndefined();

    const sessions = new SessionRepository(handle.db);
    const now = Date.now();
    await sessions.create({
      id: 'live'.padEnd(64, '0'),
      user_id: userId,
      created_at: new Date(now).toISOString(),
      expires_at: new Date(now + 60_000).toISOString(),
    });
    await sessions.create({
      id: 'dead'.padEnd(64, '0'),
      user_id: userId,
      created_at: new Date(now).toISOString(),
      expires_at: new Date(now - 1).toISOString(),
    });
    expect((await sessions.findValid('live'.padEnd(64, '0'), new Date(now).toISOString()))?.id).toBe(userId);
    expect(await sessions.findValid('dead'.padEnd(64, '0'), new Date(now).toISOString())).toBeUndefined();
  });
});
