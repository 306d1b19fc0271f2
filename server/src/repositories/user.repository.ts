import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import type { Usage, UserRow } from './types.js';

export class UserRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async create(user: UserRow): Promise<void> {
    await this.db.insertInto('user').values(user).execute();
  }

  findById(id: string): Promise<UserRow | undefined> {
    return this.db.selectFrom('user').selectAll().where('id', '=', id).executeTakeFirst();
  }

  findByUsername(username: string): Promise<UserRow | undefined> {
    return this.db.selectFrom('user').selectAll().where('username', '=', username).executeTakeFirst();
  }

  async hasAny(): Promise<boolean> {
    const row = await this.db.selectFrom('user').select('id').limit(1).executeTakeFirst();
    return row !== undefined;
  }

  /** Bytes and files of the user's live uploads (what counts against the quota). */
  async usage(userId: string): Promise<Usage> {
    const row = await this.db
      .selectFrom('upload')
      .select((eb) => [eb.fn.coalesce(eb.fn.sum<number>('size'), eb.lit(0)).as('bytes'), eb.fn.countAll<number>().as('files')])
      .where('user_id', '=', userId)
      .where('deleted_at', 'is', null)
      .executeTakeFirstOrThrow();
    return { bytes: Number(row.bytes), files: Number(row.files) };
  }
}
