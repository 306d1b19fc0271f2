import type { AdminUser, AdminUserPatch, User } from '@discord-images/sdk';
import { useEffect, useRef, useState } from 'preact/hooks';
import { di, isSignedOut, messageOf } from '../../api.js';
import { ConfirmDialog } from '../../components/confirm-dialog.js';
import { DateText } from '../../components/date-text.js';
import { Page } from '../../components/page.js';
import { formatBytes, formatCount, QUOTA_UNITS, type QuotaUnit, quotaBytes, quotaParts } from './format.js';

/** Accounts per page of the list (and per request to the API). */
export const USERS_PAGE = 25;

interface Source {
  iterator: AsyncIterator<AdminUser>;
  /** The first account of the next page, read ahead to know whether there is one. */
  ahead: AdminUser | undefined;
}

/** The next page of accounts from the API's keyset pages, and whether another follows. */
async function nextPage(source: Source): Promise<{ users: AdminUser[]; more: boolean }> {
  const users: AdminUser[] = source.ahead ? [source.ahead] : [];
  source.ahead = undefined;
  while (users.length < USERS_PAGE) {
    const next = await source.iterator.next();
    if (next.done) return { users, more: false };
    users.push(next.value);
  }
  const next = await source.iterator.next();
  if (next.done) return { users, more: false };
  source.ahead = next.value;
  return { users, more: true };
}

const uploadsText = (count: number) => `${formatCount(count)} ${count === 1 ? 'upload' : 'uploads'}`;

/** Every account, page by page: role, quota, usage, access; change them, or delete an account with its uploads. */
export function AdminUsersPage({ me, onSignedOut }: { me: User; onSignedOut: () => void }) {
  const [users, setUsers] = useState<AdminUser[] | undefined>(undefined);
  const [more, setMore] = useState(false);
  const [loadingMore, setLoadingMore] = useState(false);
  const [error, setError] = useState<string | null>(null);
  // An action's refusal shown under its account (the API's words: "you cannot disable yourself").
  const [rowError, setRowError] = useState<{ id: string; message: string } | null>(null);
  const [editing, setEditing] = useState<AdminUser | null>(null);
  const [disabling, setDisabling] = useState<AdminUser | null>(null);
  const [deleting, setDeleting] = useState<AdminUser | null>(null);
  const [busy, setBusy] = useState(false);
  const source = useRef<Source | null>(null);
  const controller = useRef(new AbortController());

  const fail = (failure: unknown, id?: string) => {
    if (isSignedOut(failure)) return onSignedOut();
    if (id) setRowError({ id, message: messageOf(failure) });
    else setError(messageOf(failure));
  };

  const load = async () => {
    setLoadingMore(true);
    try {
      const page = await nextPage(source.current!);
      setUsers((list) => [...(list ?? []), ...page.users]);
      setMore(page.more);
    } catch (failure) {
      if (!controller.current.signal.aborted) fail(failure);
    } finally {
      setLoadingMore(false);
    }
  };

  useEffect(() => {
    const signal = controller.current.signal;
    source.current = { iterator: di.admin.users.list({ limit: USERS_PAGE, signal }), ahead: undefined };
    void load();
    return () => controller.current.abort();
  }, []);

  const replace = (user: AdminUser) => setUsers((list) => list?.map((item) => (item.id === user.id ? user : item)));

  const update = async (user: AdminUser, patch: AdminUserPatch): Promise<boolean> => {
    setBusy(true);
    setRowError(null);
    try {
      replace(await di.admin.users.update(user.id, patch));
      return true;
    } catch (failure) {
      fail(failure, user.id);
      return false;
    } finally {
      setBusy(false);
    }
  };

  const remove = async (user: AdminUser) => {
    setBusy(true);
    setRowError(null);
    try {
      await di.admin.users.delete(user.id);
      setUsers((list) => list?.filter((item) => item.id !== user.id));
    } catch (failure) {
      fail(failure, user.id);
    } finally {
      setBusy(false);
      setDeleting(null);
    }
  };

  return (
    <Page title="Users">
      <p class="muted lead">
        Every account on this server, newest first. A disabled account cannot sign in and its API keys are refused; its uploads stay online
        until you delete the account.
      </p>
      {error && (
        <p class="banner error" role="alert">
          {error}
        </p>
      )}
      {users === undefined ? (
        !error && <p class="muted">Loading accounts…</p>
      ) : (
        <ul class="admin-list" aria-label="Accounts">
          {users.map((user) => {
            const self = user.id === me.id;
            return (
              <li key={user.id} class={`admin-row user-row${user.disabled ? ' is-disabled' : ''}`} aria-labelledby={`user-${user.id}`}>
                <div class="admin-row-title">
                  <strong id={`user-${user.id}`}>{user.username}</strong>
                  <span class="badges">
                    {self && <span class="badge">You</span>}
                    {user.role === 'admin' && <span class="badge brand">Admin</span>}
                    {user.disabled && <span class="badge danger">Disabled</span>}
                  </span>
                </div>
                <dl class="facts">
                  <div>
                    <dt>Role</dt>
                    <dd>{user.role === 'admin' ? 'Admin' : 'User'}</dd>
                  </div>
                  <div>
                    <dt>Usage</dt>
                    <dd>
                      {formatBytes(user.usage.bytes)} · {uploadsText(user.usage.files)}
                    </dd>
                  </div>
                  <div>
                    <dt>Quota</dt>
                    <dd>
                      {user.quota_bytes === null ? 'Unlimited' : formatBytes(user.quota_bytes)}
                      {user.quota_bytes !== null && user.quota_bytes > 0 && (
                        <span class="usage-bar" aria-hidden="true">
                          <span style={{ width: `${Math.min(100, (user.usage.bytes / user.quota_bytes) * 100)}%` }} />
                        </span>
                      )}
                    </dd>
                  </div>
                  <div>
                    <dt>Status</dt>
                    <dd>{user.disabled ? 'Disabled' : 'Active'}</dd>
                  </div>
                  <div>
                    <dt>Created</dt>
                    <dd>
                      <DateText iso={user.created_at} />
                    </dd>
                  </div>
                </dl>
                <div class="row-actions">
                  <button
                    type="button"
                    class="button small"
                    aria-label={`Edit ${user.username}`}
                    onClick={() => {
                      setRowError(null);
                      setEditing(user);
                    }}
                  >
                    Edit
                  </button>
                  {user.disabled ? (
                    <button
                      type="button"
                      class="button small"
                      aria-label={`Enable ${user.username}`}
                      disabled={busy}
                      onClick={() => void update(user, { disabled: false })}
                    >
                      Enable
                    </button>
                  ) : (
                    <button
                      type="button"
                      class="button small"
                      aria-label={`Disable ${user.username}`}
                      onClick={() => {
                        setRowError(null);
                        setDisabling(user);
                      }}
                    >
                      Disable
                    </button>
                  )}
                  <button
                    type="button"
                    class="button small danger-outline"
                    aria-label={`Delete ${user.username}`}
                    onClick={() => {
                      setRowError(null);
                      setDeleting(user);
                    }}
                  >
                    Delete
                  </button>
                </div>
                {rowError?.id === user.id && (
                  <p class="banner error row-error" role="alert">
                    {rowError.message}
                  </p>
                )}
              </li>
            );
          })}
        </ul>
      )}
      {users?.length === 0 && <p class="empty">No accounts.</p>}
      {more && (
        <div class="load-more">
          <button type="button" class="button" disabled={loadingMore} onClick={() => void load()}>
            {loadingMore ? 'Loading…' : 'Show more accounts'}
          </button>
        </div>
      )}
      {editing && (
        <EditUserDialog
          user={editing}
          self={editing.id === me.id}
          onCancel={() => setEditing(null)}
          onSaved={(user) => {
            replace(user);
            setEditing(null);
          }}
          onSignedOut={onSignedOut}
        />
      )}
      {disabling && (
        <ConfirmDialog
          title={`Disable ${disabling.username}?`}
          confirmLabel={busy ? 'Disabling…' : 'Disable account'}
          busy={busy}
          onCancel={() => setDisabling(null)}
          onConfirm={() => void update(disabling, { disabled: true }).finally(() => setDisabling(null))}
        >
          <p>
            <strong>{disabling.username}</strong> can no longer sign in, and their API keys and sessions are refused until you enable the
            account again. Their uploads stay online.
          </p>
        </ConfirmDialog>
      )}
      {deleting && (
        <ConfirmDialog
          title={`Delete ${deleting.username} and ${uploadsText(deleting.usage.files)}?`}
          confirmLabel={busy ? 'Deleting…' : `Delete ${deleting.username}`}
          busy={busy}
          onCancel={() => setDeleting(null)}
          onConfirm={() => void remove(deleting)}
        >
          <p>
            The account <strong>{deleting.username}</strong> goes, with its API keys and sessions, and{' '}
            {deleting.usage.files === 0 ? (
              'it has no uploads'
            ) : (
              <>
                <strong>its {uploadsText(deleting.usage.files)}</strong> ({formatBytes(deleting.usage.bytes)}) are deleted: their links
                answer “gone” from then on
              </>
            )}
            . This cannot be undone.
          </p>
        </ConfirmDialog>
      )}
    </Page>
  );
}

/** Changes an account's role and quota; the API's refusal (your own role, say) is shown in its words. */
function EditUserDialog({
  user,
  self,
  onCancel,
  onSaved,
  onSignedOut,
}: {
  user: AdminUser;
  self: boolean;
  onCancel: () => void;
  onSaved: (user: AdminUser) => void;
  onSignedOut: () => void;
}) {
  const dialog = useRef<HTMLDialogElement>(null);
  const initial = user.quota_bytes === null ? { amount: '', unit: 'GiB' as QuotaUnit } : quotaParts(user.quota_bytes);
  const [role, setRole] = useState(user.role);
  const [unlimited, setUnlimited] = useState(user.quota_bytes === null);
  const [amount, setAmount] = useState(initial.amount);
  const [unit, setUnit] = useState<QuotaUnit>(initial.unit);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    const element = dialog.current!;
    if (!element.open) element.showModal();
    return () => element.close();
  }, []);

  const save = async () => {
    const patch: AdminUserPatch = {};
    if (role !== user.role) patch.role = role;
    if (unlimited) {
      if (user.quota_bytes !== null) patch.quota_bytes = null;
    } else {
      const bytes = quotaBytes(amount, unit);
      if (bytes === null) {
        setError('Enter the quota as a number, such as 5 or 0.5, or tick “Unlimited”.');
        return;
      }
      // What the field showed, unchanged, is not a change (it may be rounded from the exact bytes).
      const shown = user.quota_bytes === null ? null : quotaParts(user.quota_bytes);
      if (user.quota_bytes === null || shown?.amount !== amount.trim() || shown.unit !== unit) patch.quota_bytes = bytes;
    }
    if (Object.keys(patch).length === 0) return onCancel();
    setBusy(true);
    setError(null);
    try {
      onSaved(await di.admin.users.update(user.id, patch));
    } catch (failure) {
      if (isSignedOut(failure)) onSignedOut();
      else setError(messageOf(failure));
    } finally {
      setBusy(false);
    }
  };

  return (
    <dialog
      ref={dialog}
      class="dialog"
      aria-labelledby="edit-user-title"
      onCancel={(event) => {
        event.preventDefault();
        onCancel();
      }}
    >
      <form
        noValidate
        onSubmit={(event) => {
          event.preventDefault();
          void save();
        }}
      >
        <h2 id="edit-user-title">Edit {user.username}</h2>
        <label class="field">
          <span>Role</span>
          <select class="input" value={role} onChange={(event) => setRole(event.currentTarget.value as AdminUser['role'])}>
            <option value="user">User</option>
            <option value="admin">Admin</option>
          </select>
        </label>
        {self && <p class="hint">This is your own account.</p>}
        <fieldset class="field quota-field">
          <legend>Quota</legend>
          <div class="quota-inputs">
            <input
              class="input"
              inputMode="decimal"
              aria-label="Quota amount"
              aria-describedby="quota-hint"
              disabled={unlimited}
              value={amount}
              onInput={(event) => setAmount(event.currentTarget.value)}
            />
            <select
              class="input unit"
              aria-label="Quota unit"
              disabled={unlimited}
              value={unit}
              onChange={(event) => setUnit(event.currentTarget.value as QuotaUnit)}
            >
              {Object.keys(QUOTA_UNITS).map((name) => (
                <option key={name} value={name}>
                  {name}
                </option>
              ))}
            </select>
          </div>
          <label class="check">
            <input type="checkbox" checked={unlimited} onChange={(event) => setUnlimited(event.currentTarget.checked)} />
            Unlimited
          </label>
          <small id="quota-hint" class="hint">
            Uses {formatBytes(user.usage.bytes)} now. A new quota applies from the next upload; what is stored stays.
          </small>
        </fieldset>
        <p class={error ? 'banner error' : 'banner-slot'} role="alert">
          {error}
        </p>
        <div class="dialog-actions">
          <button type="button" class="button" onClick={onCancel}>
            Cancel
          </button>
          <button type="submit" class="button primary" disabled={busy}>
            {busy ? 'Saving…' : 'Save'}
          </button>
        </div>
      </form>
    </dialog>
  );
}
