import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import type { ApiKeyRow, UserRow } from './types.js';

export class ApiKeyRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async create(key: ApiKeyRow): Promise<void> {
    await this.db.insertInto('api_key').values(key).execute();
  }

  listByUser(userId: string): Promise<ApiKeyRow[]> {
    return this.db.selectFrom('api_key').selectAll().where('user_id', '=', userId).orderBy('created_at', 'desc').orderBy('id').execute();
  }

  /** The key with this hash and its owner, in one query (it runs on every API request). */
  async findByHash(keyHash: string): Promise<{ key: ApiKeyRow; user: UserRow } | undefined> {
    const row = await this.db
      .selectFrom('api_key')
      .innerJoin('user', 'user.id', 'api_key.user_id')
      .selectAll('user')
      .select([
        'api_key.id as key_id',
        'api_key.name as key_name',
        'api_key.key_hash',
        'api_key.key_hint',
        'api_key.created_at as key_created_at',
        'api_key.last_used_at',
      ])
      .where('api_key.key_hash', '=', keyHash)
      .executeTakeFirst();
    if (!row) return undefined;
    const { key_id, key_name, key_hash, key_hint, key_created_at, last_used_at, ...user } = row;
    return {
      key: { id: key_id, user_id: user.id, name: key_name, key_hash, key_hint, created_at: key_created_at, last_used_at },
      user,
    };
  }

  async touch(id: string, at: string): Promise<void> {
    await this.db.updateTable('api_key').set({ last_used_at: at }).where('id', '=', id).execute();
  }

  /** Revokes one of the user's keys; false when the user has no such key. */
  async delete(userId: string, id: string): Promise<boolean> {
    const result = await this.db.deleteFrom('api_key').where('id', '=', id).where('user_id', '=', userId).executeTakeFirst();
    return result.numDeletedRows > 0n;
  }
}
