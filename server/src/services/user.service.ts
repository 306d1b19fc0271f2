import type { Static } from 'typebox';
import type { AccountResponse } from '../contract/account.schemas.js';
import type { Actor } from '../domain/actor.js';
import { AppError } from '../domain/errors.js';
import type { UserRepository } from '../repositories/user.repository.js';
import { toUserView } from './auth.service.js';

/** GET /api/me without the session's csrf_token, which the route adds. */
export type AccountView = Omit<Static<typeof AccountResponse>, 'csrf_token'>;

export class UserService {
  constructor(private readonly users: UserRepository) {}

  async me(actor: Actor): Promise<AccountView> {
    const user = await this.users.findById(actor.userId);
    if (!user) throw new AppError('UNAUTHORIZED', 'This account no longer exists.');
    return { ...toUserView(user), usage: await this.users.usage(user.id), quota_bytes: user.quota_bytes };
  }
}
