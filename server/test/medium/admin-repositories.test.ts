import { Migrator, sql } from 'kysely';
import { beforeAll, describe, expect, it } from 'vitest';
import { type DatabaseHandle, migrate } from '../../src/db/database.js';
import { migrations } from '../../src/db/migrations/index.js';
import { newRowId, newUploadId } from '../../src/domain/ids.js';
import { ApiKeyRepository } from '../../src/repositories/api-key.repository.js';
import { SessionRepository } from '../../src/repositories/session.repository.js';
import type { NewUpload } from '../../src/repositories/types.js';
import { UploadRepository } from '../../src/repositories/upload.repository.js';
import { UserRepository } from '../../src/repositories/user.repository.js';
import { DIALECTS, testDatabase } from '../helpers/database.js';
import { tempDir } from '../helpers/temp-dir.js';

describe.each(DIALECTS)('account administration in the repositories on %s', (dialect) => {
  let handle: DatabaseHandle;
  let users: UserRepository;
  let uploads: UploadRepository;

  beforeAll(async () => {
    handle = await testDatabase(dialect, await tempDir());
    users = new UserRepository(handle.db);
    uploads = new UploadRepository(handle.db);
  });

  const newUser = async (createdAt = new Date().toISOString(), id = newRowId()) => {
    await users.create({ id, username: `user_${id.toLowerCase()}`, password_hash: 'x', quota_bytes: null, created_at: createdAt }, true);
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
  const store = (userId: string, rows: NewUpload[]) => uploads.insertWithinQuota(userId, rows, async () => {});
  const refCount = async (sha256: string) =>
    (await handle.db.selectFrom('blob').select('ref_count').where('sha256', '=', sha256).executeTakeFirst())?.ref_count;
  const sha = (tag: string) => `${dialect}${tag}`.padStart(64, '0');

  it('lists users newest first with their live usage, by keyset pages that break ties of created_at by id', async () => {
    // A moment of its own, far in the future, so the other tests' users come after these.
    const at = '2999-01-01T00:00:00.000Z';
    const ids = ['AAAAAAAAAAAAAAA1', 'AAAAAAAAAAAAAAA2', 'AAAAAAAAAAAAAAA3'].map((suffix) => `${dialect.slice(0, 2)}${suffix}`);
    for (const id of ids) await newUser(at, id);
    const newest = await newUser('3000-01-01T00:00:00.000Z');
    const [a, b] = [upload(ids[1]!, sha('u1'), 30), upload(ids[1]!, sha('u2'), 12)];
    await store(ids[1]!, [a, b]);
    await uploads.markDeleted(a.id, new Date().toISOString());

    const first = await users.listWithUsage(2);
    expect(first.map((user) => user.id)).toEqual([newest, ids[2]]);
    const second = await users.listWithUsage(2, first[1]);
    expect(second.map((user) => user.id)).toEqual([ids[1], ids[0]]);
    expect(second[0]!.usage).toEqual({ bytes: 12, files: 1 });
    expect(second[1]!.usage).toEqual({ bytes: 0, files: 0 });
    expect(second[0]).toMatchObject({ role: expect.any(String), disabled: 0, quota_bytes: null });
  });

  it('changes only the fields given, and says when there is no such user', async () => {
    const id = await newUser();
    expect(await users.update(id, { disabled: 1 })).toMatchObject({ id, disabled: 1, quota_bytes: null });
    expect(await users.update(id, { quota_bytes: 42 })).toMatchObject({ id, disabled: 1, quota_bytes: 42 });
    expect(await users.update(id, {})).toMatchObject({ id, disabled: 1, quota_bytes: 42 });
    expect(await users.update('nobody', { disabled: 1 })).toBeUndefined();
  });

  it('deletes a user with keys and sessions, leaving tombstones of their uploads and releasing their blob references', async () => {
    const id = await newUser();
    const other = await newUser();
    const [mine, twice1, twice2, earlier] = [upload(id, sha('d1')), upload(id, sha('d2')), upload(id, sha('d2')), upload(id, sha('d3'))];
    await store(id, [mine, twice1, twice2, earlier]);
    const shared = upload(other, sha('d2'));
    await store(other, [shared]);
    await uploads.markDeleted(earlier.id, '2026-01-01T00:00:00.000Z');
    await new ApiKeyRepository(handle.db).create({
      id: newRowId(),
      user_id: id,
      name: 'k',
      key_hash: sha('key'),
      key_hint: 'di_abcd',
      created_at: new Date().toISOString(),
      last_used_at: null,
    });
    const expires = new Date(Date.now() + 60_000).toISOString();
    await new SessionRepository(handle.db).create({
      id: sha('session'),
      user_id: id,
      created_at: new Date().toISOString(),
      expires_at: expires,
    });

    const at = new Date().toISOString();
    const result = await uploads.deleteUserWithUploads(id, at);
    expect(result?.uploadIds.sort()).toEqual([mine.id, twice1.id, twice2.id].sort());
    expect(result?.unreferenced).toEqual([sha('d1')]);
    expect(await refCount(sha('d1'))).toBeUndefined();
    expect(Number(await refCount(sha('d2')))).toBe(1);

    for (const row of [mine, twice1, twice2])
      expect(await uploads.findById(row.id)).toMatchObject({ user_id: null, deleted_at: at, name: '' });
    // Deleted before: its tombstone keeps its own time.
    expect(await uploads.findById(earlier.id)).toMatchObject({ user_id: null, deleted_at: '2026-01-01T00:00:00.000Z' });
    expect(await uploads.findById(shared.id)).toMatchObject({ user_id: other, deleted_at: null });
    expect(await users.findById(id)).toBeUndefined();
    expect(await new ApiKeyRepository(handle.db).findByHash(sha('key'))).toBeUndefined();
    expect(await new SessionRepository(handle.db).findValid(sha('session'), new Date().toISOString())).toBeUndefined();
    expect(await uploads.deleteUserWithUploads(id, at)).toBeUndefined();
    // An upload of theirs that was on its way commits nothing.
    const late = upload(id, sha('d4'));
    expect(await store(id, [late])).toEqual({ stored: false, noUser: true });
    expect(await uploads.findById(late.id)).toBeUndefined();
    expect(await refCount(sha('d4'))).toBeUndefined();
  });

  it('migrates a database made before 0003 keeping its uploads, whose order goes on', async () => {
    const old = await testDatabase(dialect, await tempDir(), { migrated: false });
    const migrator = new Migrator({
      db: old.db,
      provider: { getMigrations: () => Promise.resolve(migrations(old.dialect)) },
      migrationTableSchema: old.schema,
    });
    expect((await migrator.migrateTo('0002-embed-settings')).error).toBeUndefined();
    const userId = newRowId();
    // Without today's columns: as 0002 left the table.
    await sql`insert into "user" (id, username, password_hash, role, created_at) values (${userId}, 'before', 'x', 'admin', '2026-01-01')`.execute(
      old.db,
    );
    const before = upload(userId, sha('m1'));
    await old.db.insertInto('upload').values(before).execute();

    await migrate(old);
    const repository = new UploadRepository(old.db);
    const after = upload(userId, sha('m2'));
    await repository.insertWithinQuota(userId, [after], async () => {});
    expect((await repository.listByUser(userId, 10)).map((row) => row.id)).toEqual([after.id, before.id]);
    expect(await new UserRepository(old.db).findById(userId)).toMatchObject({ disabled: 0 });
    // The tombstones now outlive their owner.
    const deleted = await repository.deleteUserWithUploads(userId, new Date().toISOString());
    expect(deleted?.uploadIds.sort()).toEqual([after.id, before.id].sort());
    expect(await repository.findById(before.id)).toMatchObject({ user_id: null });
  });
});
