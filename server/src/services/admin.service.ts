import type { Static } from 'typebox';
import type { AdminUserPatchBody, AdminUserResponse } from '../contract/admin.schemas.js';
import { AppError } from '../domain/errors.js';
import { newRowId } from '../domain/ids.js';
import { PASSWORD_LENGTH, USERNAME_PATTERN } from '../domain/names.js';
import { keysetPage, LIST_LIMIT } from '../domain/pagination.js';
import type { UserRow } from '../repositories/types.js';
import type { SessionRepository } from '../repositories/session.repository.js';
import type { UserRepository, UserWithUsage } from '../repositories/user.repository.js';
import { toUserView, type UserView } from './auth.service.js';
import { hashPassword, type ScryptParams } from './password.js';

export type Role = UserRow['role'];
/** An account as the admin sees it (the contract's AdminUserResponse). */
export type AdminUserView = Static<typeof AdminUserResponse>;
export type AdminUserPatch = Static<typeof AdminUserPatchBody>;

export interface AdminOptions {
  /** Bytes each new account may store; null = unlimited (the server's DEFAULT_QUOTA). */
  defaultQuota: number | null;
  /** Lowered only by tests; production uses OWASP's parameters. */
  scrypt?: ScryptParams;
}

/**
 * Managing accounts, with no actor: the `discord-images admin` command calls it directly (for
 * when nobody can sign in, from a shell on the server), and the admin API calls it once
 * UserAdminService has checked who asks. Accounts made here follow registration's rules,
 * except that registration may be closed.
 */
export class AdminService {
  constructor(
    private readonly users: UserRepository,
    private readonly sessions: SessionRepository,
    private readonly options: AdminOptions,
  ) {}

  /** Creates an account. The very first account is the admin whatever `role` says, as at registration. */
  async createUser(username: string, password: string, role: Role = 'user'): Promise<UserView> {
    const name = checkUsername(username);
    checkPassword(password);
    if (await this.users.findByUsername(name)) throw new AppError('USERNAME_TAKEN', `The username ${name} is taken.`);
    const created = await this.users.create(
      {
        id: newRowId(),
        username: name,
        password_hash: await hashPassword(password, this.options.scrypt),
        quota_bytes: this.options.defaultQuota,
        created_at: new Date().toISOString(),
      },
      true,
    );
    if (!created) throw new Error('The account was not created.');
    if (role === 'admin' && created.role !== 'admin') {
      await this.users.setRole(created.id, 'admin');
      return toUserView({ ...created, role: 'admin' });
    }
    return toUserView(created);
  }

  /** Sets a new password and ends the user's sessions (API keys stay valid: revoke them apart). */
  async resetPassword(username: string, password: string): Promise<UserView> {
    checkPassword(password);
    const user = await this.find(username);
    await this.users.setPasswordHash(user.id, await hashPassword(password, this.options.scrypt));
    await this.sessions.deleteForUser(user.id);
    return toUserView(user);
  }

  /** Refuses to demote the last admin: the server would have nobody to manage it. */
  async setRole(username: string, role: Role): Promise<AdminUserView> {
    return this.update(await this.find(username), { role });
  }

  /** A disabled account cannot sign in, and its keys and sessions are refused until it is enabled again. */
  async setDisabled(username: string, disabled: boolean): Promise<AdminUserView> {
    return this.update(await this.find(username), { disabled });
  }

  /** Every account, oldest first (the order a table of them reads best in). */
  async listUsers(): Promise<AdminUserView[]> {
    const all: AdminUserView[] = [];
    for (let page = await this.page(LIST_LIMIT.max); ; page = await this.page(LIST_LIMIT.max, page.next)) {
      all.push(...page.items);
      if (page.next === undefined) return all.reverse();
    }
  }

  /** One keyset page of accounts, newest first, after the account `before` when given. */
  async page(limit: number, before?: string): Promise<{ items: AdminUserView[]; next?: string }> {
    const cursor = before === undefined ? undefined : await this.users.findById(before);
    if (before !== undefined && !cursor) throw new AppError('VALIDATION_FAILED', `before=${before} is not the id of an account.`);
    const page = keysetPage(await this.users.listWithUsage(limit + 1, cursor), limit);
    return { ...page, items: page.items.map(toAdminView) };
  }

  /** The account with this id, or NOT_FOUND. */
  async get(id: string): Promise<UserRow> {
    const user = await this.users.findById(id);
    if (!user) throw new AppError('NOT_FOUND', `There is no account with id ${id}.`);
    return user;
  }

  /** Changes what the patch gives; never demotes the last admin. */
  async update(user: UserRow, patch: AdminUserPatch): Promise<AdminUserView> {
    if (user.role === 'admin' && patch.role === 'user' && (await this.users.countAdmins()) <= 1)
      throw new AppError('FORBIDDEN', `${user.username} is the only admin: make another user admin first.`);
    const updated = await this.users.update(user.id, {
      ...(patch.role !== undefined && { role: patch.role }),
      ...(patch.quota_bytes !== undefined && { quota_bytes: patch.quota_bytes }),
      ...(patch.disabled !== undefined && { disabled: patch.disabled ? 1 : 0 }),
    });
    if (!updated) throw new AppError('NOT_FOUND', `There is no account with id ${user.id}.`);
    return toAdminView({ ...updated, usage: await this.users.usage(updated.id) });
  }

  private async find(username: string): Promise<UserRow> {
    const user = await this.users.findByUsername(username.toLowerCase());
    if (!user) throw new AppError('NOT_FOUND', `There is no user named ${username.toLowerCase()}.`);
    return user;
  }
}

const toAdminView = ({ usage, ...user }: UserWithUsage): AdminUserView => ({
  id: user.id,
  username: user.username,
  role: user.role,
  quota_bytes: user.quota_bytes === null ? null : Number(user.quota_bytes),
  disabled: user.disabled !== 0,
  created_at: user.created_at,
  usage,
});

function checkUsername(username: string): string {
  if (!USERNAME_PATTERN.test(username))
    throw new AppError('VALIDATION_FAILED', `${username} is not a valid username: 2-32 letters, digits, _ . or -.`);
  return username.toLowerCase();
}

function checkPassword(password: string): void {
  if (password.length < PASSWORD_LENGTH.min || password.length > PASSWORD_LENGTH.max)
    throw new AppError('VALIDATION_FAILED', `The password must be ${PASSWORD_LENGTH.min} to ${PASSWORD_LENGTH.max} characters long.`);
}
