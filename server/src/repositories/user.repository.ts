import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import type { Usage, UserRow } from './types.js';

/** The setting row whose existence means the first user (the admin) has registered. */
const ADMIN_SEAT = 'admin_user_id';

export class UserRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /**
   * Creates a user; the first one ever becomes admin. The claim of the admin seat is a row
   * insert in the same transaction, so two first registrations at once cannot both win.
   * Returns undefined (and creates nothing) when the user would not be first and `mayJoin` is false.
   */
  async create(user: Omit<UserRow, 'role'>, mayJoin: boolean): Promise<UserRow | undefined> {
    return this.db.transaction().execute(async (trx) => {
      const claimed = await trx
        .insertInto('setting')
        .values({ key: ADMIN_SEAT, value: user.id })
        .onConflict((oc) => oc.column('key').doNothing())
        .returning('key')
        .executeTakeFirst();
      if (!claimed && !mayJoin) return undefined;
      const row: UserRow = { ...user, role: claimed ? 'admin' : 'user' };
      await trx.insertInto('user').values(row).execute();
      return row;
    });
  }

  /** Whether the first user (the admin) has registered. */
  async hasAdmin(): Promise<boolean> {
    return (await this.db.selectFrom('setting').select('key').where('key', '=', ADMIN_SEAT).executeTakeFirst()) !== undefined;
  }

  findById(id: string): Promise<UserRow | undefined> {
    return this.db.selectFrom('user').selectAll().where('id', '=', id).executeTakeFirst();
  }

  findByUsername(username: string): Promise<UserRow | undefined> {
    return this.db.selectFrom('user').selectAll().where('username', '=', username).executeTakeFirst();
  }

  usage(userId: string): Promise<Usage> {
    return usageOf(this.db, userId);
  }

  /** Every user, oldest first. */
  list(): Promise<UserRow[]> {
    return this.db.selectFrom('user').selectAll().orderBy('created_at').orderBy('id').execute();
  }

  async setPasswordHash(id: string, passwordHash: string): Promise<void> {
    await this.db.updateTable('user').set({ password_hash: passwordHash }).where('id', '=', id).execute();
  }

  async setRole(id: string, role: UserRow['role']): Promise<void> {
    await this.db.updateTable('user').set({ role }).where('id', '=', id).execute();
  }

  async countAdmins(): Promise<number> {
    const row = await this.db
      .selectFrom('user')
      .select((eb) => eb.fn.countAll<number>().as('count'))
      .where('role', '=', 'admin')
      .executeTakeFirstOrThrow();
    return Number(row.count);
  }
}

/** Bytes and files of a user's live uploads (what counts against the quota). */
export async function usageOf(db: Kysely<Database>, userId: string): Promise<Usage> {
  const row = await db
    .selectFrom('upload')
    .select((eb) => [eb.fn.coalesce(eb.fn.sum<number>('size'), eb.lit(0)).as('bytes'), eb.fn.countAll<number>().as('files')])
    .where('user_id', '=', userId)
    .where('deleted_at', 'is', null)
    .executeTakeFirstOrThrow();
  return { bytes: Number(row.bytes), files: Number(row.files) };
}
