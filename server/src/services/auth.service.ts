import { createHash } from 'node:crypto';
import type { Static } from 'typebox';
import type { UserResponse } from '../contract/account.schemas.js';
import type { Registration } from '../config/config.js';
import type { Actor } from '../domain/actor.js';
import { AppError } from '../domain/errors.js';
import { newRowId, newSecret, sha256Hex } from '../domain/ids.js';
import type { InviteRepository, InviteUse } from '../repositories/invite.repository.js';
import type { SessionRepository } from '../repositories/session.repository.js';
import type { UserRow } from '../repositories/types.js';
import type { UserRepository } from '../repositories/user.repository.js';
import { type ApiKeyService, type ApiKeyView, refuseDisabled } from './api-key.service.js';
import { QueueFullError, Semaphore } from '../media/semaphore.js';
import { hashPassword, type ScryptParams, verifyPassword } from './password.js';

/** Password hashing at once, and waiting (docs/decisions.md#passwords-and-sessions). */
export const HASHING = { slots: 2, maxWaiting: 8, maxWaitMs: 5_000, retryAfterSeconds: 2 } as const;

export type UserView = Static<typeof UserResponse>;

export interface AuthOptions {
  registration: Registration;
  /** Bytes; null = unlimited. */
  defaultQuota: number | null;
  sessionTtlSeconds: number;
  /** Lowered only by tests; production uses OWASP's parameters. */
  scrypt?: ScryptParams;
}

export interface NewSession {
  user: UserView;
  /** The cookie value; only its hash is stored. */
  sessionToken: string;
  csrfToken: string;
  expiresAt: Date;
}

export class AuthService {
  /**
   * Each scrypt takes 128 MiB and a libuv thread (shared with file reads and fsyncs): two at a
   * time, so a burst of logins queues instead of stalling image serving. The queue is bounded
   * in length and in time, so a flood of sign-ins is refused at once (503) rather than making
   * everyone, real users included, wait behind it.
   */
  private readonly hashing = new Semaphore(HASHING.slots, { maxWaiting: HASHING.maxWaiting, maxWaitMs: HASHING.maxWaitMs });
  /** Verifying against this keeps a login for an unknown user as slow as a wrong password. */
  private decoyHash: Promise<string> | undefined;

  constructor(
    private readonly users: UserRepository,
    private readonly sessions: SessionRepository,
    private readonly apiKeys: ApiKeyService,
    private readonly invites: InviteRepository,
    private readonly options: AuthOptions,
  ) {}

  /**
   * Creates an account with a first API key. The very first account is the admin, whatever
   * the registration mode; after it, REGISTRATION=invite needs a usable `invite` code, of which
   * the account takes one use (an open server ignores a code).
   */
  async register(username: string, password: string, invite?: string): Promise<{ user: UserView; key: ApiKeyView; token: string }> {
    const name = username.toLowerCase();
    const taken = () => new AppError('USERNAME_TAKEN', `The username ${name} is taken; choose another.`);
    const mode = this.options.registration;
    const use: InviteUse | undefined =
      mode === 'invite' && invite !== undefined ? { code: invite, at: new Date().toISOString() } : undefined;
    const mayJoin = mode === 'open' || (use ?? false);
    const refused = () => (mode === 'closed' ? this.closed() : use ? invalidInvite() : inviteRequired());
    // Refused before hashing: a closed server must not spend 128 MiB and a thread per attempt.
    if (mode !== 'open' && (await this.users.hasAdmin()) && (!use || !(await this.invites.findUsable(use)))) throw refused();
    if (await this.users.findByUsername(name)) throw taken();
    const candidate = {
      id: newRowId(),
      username: name,
      password_hash: await this.hash(() => hashPassword(password, this.options.scrypt)),
      quota_bytes: this.options.defaultQuota,
      created_at: new Date().toISOString(),
    };
    let user: UserRow | undefined;
    try {
      user = await this.users.create(candidate, mayJoin);
    } catch (error) {
      // Two registrations of one name at once: the unique index decides.
      if (await this.users.findByUsername(name)) throw taken();
      throw error;
    }
    // The admin seat was taken meanwhile, or the invite used up or revoked.
    if (!user) throw refused();
    const { key, token } = await this.apiKeys.create({ userId: user.id }, 'default');
    return { user: toUserView(user), key, token };
  }

  async login(username: string, password: string): Promise<NewSession> {
    const user = await this.users.findByUsername(username.toLowerCase());
    const stored = user?.password_hash ?? (await this.decoy());
    const valid = await this.hash(() => verifyPassword(password, stored));
    if (!user || !valid) throw new AppError('INVALID_CREDENTIALS', 'Wrong username or password.');
    // Only once the password is right: the refusal must not tell a stranger the account exists.
    refuseDisabled(user);
    const sessionToken = newSecret();
    const now = new Date();
    const expiresAt = new Date(now.getTime() + this.options.sessionTtlSeconds * 1000);
    await this.sessions.create({
      id: sha256Hex(sessionToken),
      user_id: user.id,
      created_at: now.toISOString(),
      expires_at: expiresAt.toISOString(),
    });
    await this.sessions.deleteExpired(now.toISOString());
    return { user: toUserView(user), sessionToken, csrfToken: csrfTokenFor(sessionToken), expiresAt };
  }

  async logout(sessionToken: string): Promise<void> {
    await this.sessions.delete(sha256Hex(sessionToken));
  }

  /** Ends every session of the actor's account, `sessionToken`'s included. */
  async logoutEverywhere(actor: Actor): Promise<void> {
    await this.sessions.deleteForUser(actor.userId);
  }

  /**
   * Sets a new password once the current one is proven, and ends the account's other
   * sessions: the one of `sessionToken` (the request's own, if it came with one) stays, and
   * API keys stay valid (they are revoked on their own).
   */
  async changePassword(actor: Actor, current: string, next: string, sessionToken?: string): Promise<void> {
    const user = await this.users.findById(actor.userId);
    if (!user) throw new AppError('UNAUTHORIZED', 'This account no longer exists.');
    if (!(await this.hash(() => verifyPassword(current, user.password_hash))))
      throw new AppError('WRONG_PASSWORD', 'The current password is wrong: enter the password you sign in with.');
    await this.users.setPasswordHash(user.id, await this.hash(() => hashPassword(next, this.options.scrypt)));
    await this.sessions.deleteForUser(user.id, sessionToken === undefined ? undefined : sha256Hex(sessionToken));
  }

  /** Whether someone could sign up now: the first account can always be made. */
  async registration(): Promise<Registration> {
    return this.options.registration === 'open' || !(await this.users.hasAdmin()) ? 'open' : this.options.registration;
  }

  async authenticateSession(sessionToken: string): Promise<Actor | undefined> {
    const user = await this.sessions.findValid(sha256Hex(sessionToken), new Date().toISOString());
    if (user) refuseDisabled(user);
    return user && { userId: user.id, username: user.username, role: user.role, via: 'session' };
  }

  /** One scrypt, in its turn, or SERVICE_UNAVAILABLE when too many are ahead of it. */
  private async hash<T>(task: () => Promise<T>): Promise<T> {
    try {
      return await this.hashing.run(task);
    } catch (error) {
      if (!(error instanceof QueueFullError)) throw error;
      throw new AppError(
        'SERVICE_UNAVAILABLE',
        `The server is busy checking other passwords: try again in ${HASHING.retryAfterSeconds} seconds.`,
        HASHING.retryAfterSeconds,
      );
    }
  }

  private closed(): AppError {
    return new AppError('REGISTRATION_CLOSED', 'Registration is closed on this server; ask its admin for an account.');
  }

  private decoy(): Promise<string> {
    this.decoyHash ??= hashPassword(newSecret(), this.options.scrypt);
    return this.decoyHash;
  }
}

const inviteRequired = () =>
  new AppError('INVITE_REQUIRED', 'Registration on this server is by invite: enter the invite code an admin gave you.');
const invalidInvite = () =>
  new AppError('INVITE_INVALID', 'This invite code is unknown, expired, revoked or used up: ask an admin for a new one.');

/**
 * The CSRF token is derived from the session secret, so nothing more is stored and any node
 * can check it. A cross-site page cannot read the cookie, so it cannot compute the token.
 */
export const csrfTokenFor = (sessionToken: string): string => createHash('sha256').update(`csrf:${sessionToken}`).digest('base64url');

export const toUserView = (user: UserRow): UserView => ({
  id: user.id,
  username: user.username,
  role: user.role,
  created_at: user.created_at,
});
