import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import type { SessionRow, UserRow } from './types.js';

export class SessionRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async create(session: SessionRow): Promise<void> {
    await this.db.insertInto('session').values(session).execute();
  }

  /** The unexpired session with this id hash and its user. */
  async findValid(id: string, now: string): Promise<UserRow | undefined> {
    return this.db
      .selectFrom('session')
      .innerJoin('user', 'user.id', 'session.user_id')
      .selectAll('user')
      .where('session.id', '=', id)
      .where('session.expires_at', '>', now)
      .executeTakeFirst();
  }

  async delete(id: string): Promise<void> {
    await this.db.deleteFrom('session').where('id', '=', id).execute();
  }

  /** Signs a user out everywhere (after a password change or reset), but for the session `keepId` when given. */
  async deleteForUser(userId: string, keepId?: string): Promise<void> {
    let query = this.db.deleteFrom('session').where('user_id', '=', userId);
    if (keepId !== undefined) query = query.where('id', '!=', keepId);
    await query.execute();
  }

  async deleteExpired(now: string): Promise<void> {
    await this.db.deleteFrom('session').where('expires_at', '<=', now).execute();
  }
}
