import { AppError } from '../domain/errors.js';
import { newRowId } from '../domain/ids.js';
import { PASSWORD_LENGTH, USERNAME_PATTERN } from '../domain/names.js';
import type { UserRow } from '../repositories/types.js';
import type { SessionRepository } from '../repositories/session.repository.js';
import type { UserRepository } from '../repositories/user.repository.js';
import { toUserView, type UserView } from './auth.service.js';
import { hashPassword, type ScryptParams } from './password.js';

export type Role = UserRow['role'];

export interface AdminUserView extends UserView {
  usage: { bytes: number; files: number };
  quota_bytes: number | null;
}

export interface AdminOptions {
  /** Bytes each new account may store; null = unlimited (the server's DEFAULT_QUOTA). */
  defaultQuota: number | null;
  /** Lowered only by tests; production uses OWASP's parameters. */
  scrypt?: ScryptParams;
}

/**
 * What the `discord-images admin` command does, for when nobody can sign in: it works on the
 * database directly, with no actor, so it is reachable only from a shell on the server.
 * Accounts made here follow registration's rules, except that registration may be closed.
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
  async setRole(username: string, role: Role): Promise<UserView> {
    const user = await this.find(username);
    if (user.role === 'admin' && role === 'user' && (await this.users.countAdmins()) <= 1)
      throw new AppError('FORBIDDEN', `${user.username} is the only admin: make another user admin first.`);
    if (user.role !== role) await this.users.setRole(user.id, role);
    return toUserView({ ...user, role });
  }

  async listUsers(): Promise<AdminUserView[]> {
    const rows = await this.users.list();
    return Promise.all(
      rows.map(async (user) => ({ ...toUserView(user), usage: await this.users.usage(user.id), quota_bytes: user.quota_bytes })),
    );
  }

  private async find(username: string): Promise<UserRow> {
    const user = await this.users.findByUsername(username.toLowerCase());
    if (!user) throw new AppError('NOT_FOUND', `There is no user named ${username.toLowerCase()}.`);
    return user;
  }
}

function checkUsername(username: string): string {
  if (!USERNAME_PATTERN.test(username))
    throw new AppError('VALIDATION_FAILED', `${username} is not a valid username: 2-32 letters, digits, _ . or -.`);
  return username.toLowerCase();
}

function checkPassword(password: string): void {
  if (password.length < PASSWORD_LENGTH.min || password.length > PASSWORD_LENGTH.max)
    throw new AppError('VALIDATION_FAILED', `The password must be ${PASSWORD_LENGTH.min} to ${PASSWORD_LENGTH.max} characters long.`);
}
