import type { Static } from 'typebox';
import type { ApiKeyResponse } from '../contract/account.schemas.js';
import type { Actor } from '../domain/actor.js';
import { AppError } from '../domain/errors.js';
import { newApiKeySecret, newRowId, safeEqual, sha256Hex } from '../domain/ids.js';
import type { ApiKeyRepository } from '../repositories/api-key.repository.js';
import type { ApiKeyRow, UserRow } from '../repositories/types.js';

/** An API key as the API shows it: never its secret, only a hint (the contract's ApiKeyResponse). */
export type ApiKeyView = Static<typeof ApiKeyResponse>;

/** `last_used_at` is written at most this often per key, to keep writes off the hot path. */
const TOUCH_INTERVAL_MS = 60_000;

export class ApiKeyService {
  constructor(private readonly keys: ApiKeyRepository) {}

  /** Creates a key; the secret is returned here once and only its hash is kept. */
  async create(actor: Pick<Actor, 'userId'>, name: string): Promise<{ key: ApiKeyView; token: string }> {
    const token = newApiKeySecret();
    const row: ApiKeyRow = {
      id: newRowId(),
      user_id: actor.userId,
      name,
      key_hash: sha256Hex(token),
      key_hint: token.slice(0, 7),
      created_at: new Date().toISOString(),
      last_used_at: null,
    };
    await this.keys.create(row);
    return { key: toView(row), token };
  }

  async list(actor: Actor): Promise<ApiKeyView[]> {
    return (await this.keys.listByUser(actor.userId)).map(toView);
  }

  async revoke(actor: Actor, id: string): Promise<void> {
    if (!(await this.keys.delete(actor.userId, id))) throw new AppError('NOT_FOUND', `You have no API key with id ${id}.`);
  }

  /** The actor for a presented key, or undefined when no such key exists; ACCOUNT_DISABLED for a disabled account's key. */
  async authenticate(token: string): Promise<Actor | undefined> {
    const hash = sha256Hex(token);
    const found = await this.keys.findByHash(hash);
    // The lookup is by hash; the constant-time check guards against any collation surprise.
    if (!found || !safeEqual(found.key.key_hash, hash)) return undefined;
    refuseDisabled(found.user);
    const now = Date.now();
    if (!found.key.last_used_at || now - Date.parse(found.key.last_used_at) > TOUCH_INTERVAL_MS) {
      await this.keys.touch(found.key.id, new Date(now).toISOString());
    }
    return { userId: found.user.id, username: found.user.username, role: found.user.role, via: 'key' };
  }
}

const toView = (row: ApiKeyRow): ApiKeyView => ({
  id: row.id,
  name: row.name,
  hint: row.key_hint,
  created_at: row.created_at,
  last_used_at: row.last_used_at,
});

/**
 * A disabled account is refused with its own answer (403), not as signed out (401): its
 * keys and sessions stay, and work again once an admin enables it.
 */
export function refuseDisabled(user: UserRow): void {
  if (user.disabled) throw new AppError('ACCOUNT_DISABLED', `The account ${user.username} is disabled: ask the server's admin.`);
}
