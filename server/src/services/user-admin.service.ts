import type { Static } from 'typebox';
import type { AdminStatsResponse } from '../contract/admin.schemas.js';
import type { Actor } from '../domain/actor.js';
import { AppError } from '../domain/errors.js';
import { requireAdmin } from '../domain/actor.js';
import type { UserRepository } from '../repositories/user.repository.js';
import type { AdminService, AdminUserPatch, AdminUserView } from './admin.service.js';
import type { UploadService } from './upload.service.js';

export type AdminStats = Static<typeof AdminStatsResponse>;

/** Days of GET /api/admin/stats, today included. */
export const STATS_DAYS = 30;
const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * The admin API's account management: who may do it (an admin, never to their own role, their
 * own account's access or their own account), over AdminService, which the CLI shares.
 */
export class UserAdminService {
  constructor(
    private readonly admin: AdminService,
    private readonly users: UserRepository,
    private readonly uploads: UploadService,
    /** Today, for the stats' days; tests move it. */
    private readonly now: () => Date = () => new Date(),
  ) {}

  async list(actor: Actor, limit: number, before?: string): Promise<{ items: AdminUserView[]; next?: string }> {
    requireAdmin(actor, 'list the accounts');
    return this.admin.page(limit, before);
  }

  async update(actor: Actor, id: string, patch: AdminUserPatch): Promise<AdminUserView> {
    requireAdmin(actor, 'change accounts');
    const user = await this.admin.get(id);
    if (user.id === actor.userId) {
      // Locking oneself out, or leaving the server without the admin who did it, needs another admin.
      if (patch.role !== undefined && patch.role !== user.role)
        throw new AppError('SELF_CHANGE_REFUSED', 'You cannot change your own role: another admin has to.');
      if (patch.disabled === true) throw new AppError('SELF_CHANGE_REFUSED', 'You cannot disable your own account: another admin has to.');
    }
    return this.admin.update(user, patch);
  }

  /** Removes the account, its keys, sessions and uploads (their URLs then answer 410). */
  async delete(actor: Actor, id: string): Promise<void> {
    requireAdmin(actor, 'delete accounts');
    if (id === actor.userId) throw new AppError('SELF_CHANGE_REFUSED', 'You cannot delete your own account: another admin has to.');
    if (!(await this.uploads.deleteAccount(id))) throw new AppError('NOT_FOUND', `There is no account with id ${id}.`);
  }

  /** Accounts, live uploads and bytes, and the last STATS_DAYS UTC days, oldest first, zero-filled. */
  async stats(actor: Actor): Promise<AdminStats> {
    requireAdmin(actor, 'see the server statistics');
    const today = Date.parse(this.now().toISOString().slice(0, 10));
    const dates = Array.from({ length: STATS_DAYS }, (_, i) => new Date(today - (STATS_DAYS - 1 - i) * DAY_MS).toISOString().slice(0, 10));
    const { days, ...totals } = await this.users.stats(dates[0]!);
    const byDate = new Map(days.map((day) => [day.date, day]));
    return { ...totals, days: dates.map((date) => byDate.get(date) ?? { date, uploads: 0, bytes: 0 }) };
  }
}
