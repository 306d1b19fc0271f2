import { type ExpressionBuilder, type Kysely, sql } from 'kysely';
import type { Database } from '../db/schema.js';
import type { InviteRow } from './types.js';

/** An invite as listed: its row and the username of the admin who made it. */
export type ListedInvite = InviteRow & { created_by_username: string };

/** A sign-up with an invite code, at a time (for the expiry). */
export interface InviteUse {
  code: string;
  at: string;
}

export class InviteRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async create(invite: Omit<InviteRow, 'uses'>): Promise<void> {
    await this.db.insertInto('invite').values(invite).execute();
  }

  /** Every invite, newest first. */
  list(): Promise<ListedInvite[]> {
    return this.listed().orderBy('invite.seq', 'desc').execute();
  }

  /** The invite a code names, if it could make an account at `at` (not expired, not used up). */
  findUsable({ code, at }: InviteUse): Promise<{ id: string } | undefined> {
    return this.db.selectFrom('invite').select('id').where(usable(code, at)).executeTakeFirst();
  }

  /** Returns whether the invite existed. */
  async delete(id: string): Promise<boolean> {
    const result = await this.db.deleteFrom('invite').where('id', '=', id).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  private listed() {
    return this.db
      .selectFrom('invite')
      .innerJoin('user', 'user.id', 'invite.created_by')
      .select(['invite.id', 'invite.code', 'invite.max_uses', 'invite.uses', 'invite.expires_at', 'invite.created_at', 'invite.created_by'])
      .select('user.username as created_by_username');
  }
}

/** The invite of this code, if it can still make an account at `at`. */
const usable = (code: string, at: string) => (eb: ExpressionBuilder<Database, 'invite'>) =>
  eb.and([eb('code', '=', code), eb('uses', '<', eb.ref('max_uses')), eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', at)])]);

/**
 * Counts one use of the invite, if it is still usable, in one statement: the check and the
 * count cannot be split by another sign-up, so a single-use code makes one account however many
 * race for it. Run it inside the transaction that makes the account, so a sign-up that fails
 * after it gives the use back. Returns whether a use was counted.
 */
export async function redeemInvite(db: Kysely<Database>, { code, at }: InviteUse): Promise<boolean> {
  const row = await db
    .updateTable('invite')
    .set({ uses: sql`uses + 1` })
    .where(usable(code, at))
    .returning('id')
    .executeTakeFirst();
  return row !== undefined;
}
