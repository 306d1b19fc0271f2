import type { Static } from 'typebox';
import type { CreateInviteBody, InviteResponse } from '../contract/invite.schemas.js';
import { type Actor, requireAdmin } from '../domain/actor.js';
import { AppError } from '../domain/errors.js';
import { newRowId, randomBase62 } from '../domain/ids.js';
import { INVITE_CODE_LENGTH, INVITE_DEFAULTS } from '../domain/invites.js';
import type { InviteRepository, ListedInvite } from '../repositories/invite.repository.js';

export type InviteView = Static<typeof InviteResponse>;
export type NewInvite = Static<typeof CreateInviteBody>;

const DAY_MS = 24 * 3600 * 1000;
const MANAGE = 'manage invites';

/** Invite codes for REGISTRATION=invite, made, listed and revoked by admins (sign-up uses them: AuthService). */
export class InviteService {
  constructor(private readonly invites: InviteRepository) {}

  async create(actor: Actor, { max_uses = INVITE_DEFAULTS.maxUses, expires_in_days }: NewInvite): Promise<InviteView> {
    requireAdmin(actor, MANAGE);
    const now = new Date();
    // Left out: the default; null: never.
    const days = expires_in_days === undefined ? INVITE_DEFAULTS.expiresInDays : expires_in_days;
    const row = {
      id: newRowId(),
      code: randomBase62(INVITE_CODE_LENGTH),
      max_uses,
      expires_at: days === null ? null : new Date(now.getTime() + days * DAY_MS).toISOString(),
      created_at: now.toISOString(),
      created_by: actor.userId,
    };
    await this.invites.create(row);
    return toInviteView({ ...row, uses: 0, created_by_username: actor.username });
  }

  async list(actor: Actor): Promise<InviteView[]> {
    requireAdmin(actor, MANAGE);
    return (await this.invites.list()).map(toInviteView);
  }

  /** Deletes the invite: its code stops working at once; accounts made with it stay. */
  async revoke(actor: Actor, id: string): Promise<void> {
    requireAdmin(actor, MANAGE);
    if (!(await this.invites.delete(id)))
      throw new AppError('INVITE_NOT_FOUND', `There is no invite with id ${id}: see GET /api/admin/invites.`);
  }
}

const toInviteView = (row: ListedInvite): InviteView => ({
  id: row.id,
  code: row.code,
  max_uses: row.max_uses,
  uses: row.uses,
  expires_at: row.expires_at,
  created_at: row.created_at,
  created_by: row.created_by_username,
});
