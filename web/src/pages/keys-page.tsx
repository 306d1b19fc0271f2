import type { ApiKey, CreatedKey } from '@discord-images/sdk';
import { useEffect, useState } from 'preact/hooks';
import { di, isSignedOut, messageOf } from '../api.js';
import { Page } from '../components/page.js';
import { ConfirmDialog } from '../components/confirm-dialog.js';
import { DateText } from '../components/date-text.js';
import { SecretBox } from '../components/secret-box.js';

/** The account's API keys: create one (its secret shown once), see when each was last used, revoke. */
export function KeysPage({ onSignedOut }: { onSignedOut: () => void }) {
  const [keys, setKeys] = useState<ApiKey[] | undefined>(undefined);
  const [error, setError] = useState<string | null>(null);
  const [name, setName] = useState('');
  const [creating, setCreating] = useState(false);
  const [created, setCreated] = useState<CreatedKey | null>(null);
  const [revoking, setRevoking] = useState<ApiKey | null>(null);
  const [revokeBusy, setRevokeBusy] = useState(false);

  const fail = (failure: unknown) => (isSignedOut(failure) ? onSignedOut() : setError(messageOf(failure)));

  useEffect(() => {
    const controller = new AbortController();
    di.keys.list({ signal: controller.signal }).then(setKeys, (failure: unknown) => {
      if (!controller.signal.aborted) fail(failure);
    });
    return () => controller.abort();
  }, []);

  const create = async () => {
    setCreating(true);
    setError(null);
    try {
      const result = await di.keys.create(name.trim());
      setCreated(result);
      setKeys((list) => [result.key, ...(list ?? [])]);
      setName('');
    } catch (failure) {
      fail(failure);
    } finally {
      setCreating(false);
    }
  };

  const revoke = async (key: ApiKey) => {
    setRevokeBusy(true);
    setError(null);
    try {
      await di.keys.revoke(key.id);
      setKeys((list) => list?.filter((item) => item.id !== key.id));
      if (created?.key.id === key.id) setCreated(null);
    } catch (failure) {
      fail(failure);
    } finally {
      setRevokeBusy(false);
      setRevoking(null);
    }
  };

  return (
    <Page title="API keys">
      <p class="muted lead">
        Programs upload with a key: ShareX, Flameshot, the <code>discord-images</code> CLI, your scripts. Give each its own key, so that you
        can revoke one without touching the others.
      </p>
      <form
        class="panel create-key"
        onSubmit={(event) => {
          event.preventDefault();
          void create();
        }}
      >
        <label class="field grow">
          <span>Key name</span>
          <input
            class="input"
            name="name"
            placeholder="ShareX on my laptop"
            maxLength={100}
            required
            value={name}
            onInput={(event) => setName(event.currentTarget.value)}
          />
        </label>
        <button type="submit" class="button primary" disabled={creating || name.trim() === ''}>
          {creating ? 'Creating…' : 'Create key'}
        </button>
      </form>
      {created && (
        <div class="panel">
          <SecretBox token={created.token} name={created.key.name} />
          <button type="button" class="button small" onClick={() => setCreated(null)}>
            Done
          </button>
        </div>
      )}
      {error && (
        <p class="banner error" role="alert">
          {error}
        </p>
      )}
      {keys === undefined ? (
        !error && <p class="muted">Loading your keys…</p>
      ) : keys.length === 0 ? (
        <p class="empty">No keys yet: create one above.</p>
      ) : (
        <ul class="key-list" aria-label="Your API keys">
          {keys.map((key) => (
            <li key={key.id} class="key-row">
              <div class="key-name">
                <strong>{key.name}</strong>
                <code class="muted">{key.hint}…</code>
              </div>
              <dl class="key-dates">
                <div>
                  <dt>Created</dt>
                  <dd>
                    <DateText iso={key.created_at} />
                  </dd>
                </div>
                <div>
                  <dt>Last used</dt>
                  <dd>{key.last_used_at ? <DateText iso={key.last_used_at} /> : 'Never'}</dd>
                </div>
              </dl>
              <button type="button" class="button danger-outline small" aria-label={`Revoke ${key.name}`} onClick={() => setRevoking(key)}>
                Revoke
              </button>
            </li>
          ))}
        </ul>
      )}
      {revoking && (
        <ConfirmDialog
          title="Revoke this key?"
          confirmLabel={revokeBusy ? 'Revoking…' : 'Revoke key'}
          busy={revokeBusy}
          onCancel={() => setRevoking(null)}
          onConfirm={() => void revoke(revoking)}
        >
          <p>
            <strong>{revoking.name}</strong> (<code>{revoking.hint}…</code>) stops working at once: every program using it gets “not valid
            or has been revoked”. This cannot be undone.
          </p>
        </ConfirmDialog>
      )}
    </Page>
  );
}
