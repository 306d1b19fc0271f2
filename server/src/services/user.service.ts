import type { Actor } from '../domain/actor.js';
import { AppError } from '../domain/errors.js';
import type { UserRepository } from '../repositories/user.repository.js';
import { toUserView, type UserView } from './auth.service.js';

export interface AccountView extends UserView {
  usage: { bytes: number; files: number };
  /** Bytes; null = unlimited. */
  quota_bytes: number | null;
}

export class UserService {
  constructor(private readonly users: UserRepository) {}

  async me(actor: Actor): Promise<AccountView> {
    const user = await this.users.findById(actor.userId);
    if (!user) throw new AppError('UNAUTHORIZED', 'This account no longer exists.');
    return { ...toUserView(user), usage: await this.users.usage(user.id), quota_bytes: user.quota_bytes };
  }
}
