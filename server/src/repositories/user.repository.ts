import { type Kysely, sql } from 'kysely';
import type { Database } from '../db/schema.js';
import { type InviteUse, redeemInvite } from './invite.repository.js';
import type { Usage, UserRow } from './types.js';

/** The setting row whose existence means the first user (the admin) has registered. */
const ADMIN_SEAT = 'admin_user_id';

export class UserRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /**
   * Creates a user; the first one ever becomes admin. The claim of the admin seat is a row
   * insert in the same transaction, so two first registrations at once cannot both win.
   * Returns undefined (and creates nothing) when the user would not be first and `mayJoin` is
   * false, or is an invite that can no longer be used; a use of the invite is counted in the
   * same transaction, so it is given back if the account cannot be made (a taken name).
   */
  async create(user: Omit<UserRow, 'role' | 'disabled'>, mayJoin: boolean | InviteUse): Promise<UserRow | undefined> {
    return this.db.transaction().execute(async (trx) => {
      const claimed = await trx
        .insertInto('setting')
        .values({ key: ADMIN_SEAT, value: user.id })
        .onConflict((oc) => oc.column('key').doNothing())
        .returning('key')
        .executeTakeFirst();
      if (!claimed && (mayJoin === false || (mayJoin !== true && !(await redeemInvite(trx, mayJoin))))) return undefined;
      const row: UserRow = { ...user, role: claimed ? 'admin' : 'user', disabled: 0 };
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

  /**
   * Users with their usage, newest first, strictly after `before` in that order when given
   * (a keyset page: created_at, then id, break ties). Usage comes from one grouped query, not
   * one per user.
   */
  async listWithUsage(limit: number, before?: Pick<UserRow, 'id' | 'created_at'>): Promise<UserWithUsage[]> {
    let query = this.db
      .selectFrom('user')
      .leftJoin(
        (eb) =>
          eb
            .selectFrom('upload')
            .select((u) => ['user_id', u.fn.sum<number>('size').as('bytes'), u.fn.countAll<number>().as('files')])
            .where('deleted_at', 'is', null)
            .groupBy('user_id')
            .as('usage'),
        (join) => join.onRef('usage.user_id', '=', 'user.id'),
      )
      .selectAll('user')
      .select(['usage.bytes', 'usage.files'])
      .orderBy('user.created_at', 'desc')
      .orderBy('user.id', 'desc')
      .limit(limit);
    if (before) {
      query = query.where((eb) =>
        eb.or([
          eb('user.created_at', '<', before.created_at),
          eb.and([eb('user.created_at', '=', before.created_at), eb('user.id', '<', before.id)]),
        ]),
      );
    }
    const rows = await query.execute();
    return rows.map(({ bytes, files, ...user }) => ({ ...user, usage: { bytes: Number(bytes ?? 0), files: Number(files ?? 0) } }));
  }

  /** Changes what is given; answers the user as it now is, or undefined when there is no such user. */
  async update(id: string, changes: Partial<Pick<UserRow, 'role' | 'quota_bytes' | 'disabled'>>): Promise<UserRow | undefined> {
    if (Object.keys(changes).length === 0) return this.findById(id);
    return this.db.updateTable('user').set(changes).where('id', '=', id).returningAll().executeTakeFirst();
  }

  /** Accounts, live uploads and their bytes, and per UTC day since `since` (YYYY-MM-DD) the uploads made then that are still live. */
  async stats(since: string): Promise<{ users: number; uploads: number; bytes: number; days: DayStats[] }> {
    const users = await this.db
      .selectFrom('user')
      .select((eb) => eb.fn.countAll<number>().as('count'))
      .executeTakeFirstOrThrow();
    const live = this.db.selectFrom('upload').where('deleted_at', 'is', null);
    const totals = await live
      .select((eb) => [eb.fn.countAll<number>().as('uploads'), eb.fn.coalesce(eb.fn.sum<number>('size'), eb.lit(0)).as('bytes')])
      .executeTakeFirstOrThrow();
    const day = sql<string>`substr(created_at, 1, 10)`;
    const days = await live
      .select((eb) => [day.as('date'), eb.fn.countAll<number>().as('uploads'), eb.fn.sum<number>('size').as('bytes')])
      .where('created_at', '>=', since)
      .groupBy(day)
      .execute();
    return {
      users: Number(users.count),
      uploads: Number(totals.uploads),
      bytes: Number(totals.bytes),
      days: days.map((row) => ({ date: row.date, uploads: Number(row.uploads), bytes: Number(row.bytes) })),
    };
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

export type UserWithUsage = UserRow & { usage: Usage };

export interface DayStats {
  /** YYYY-MM-DD, UTC */
  date: string;
  uploads: number;
  bytes: number;
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
