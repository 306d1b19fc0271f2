import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';

export class SettingRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async get(key: string): Promise<string | undefined> {
    const row = await this.db.selectFrom('setting').select('value').where('key', '=', key).executeTakeFirst();
    return row?.value;
  }
}
