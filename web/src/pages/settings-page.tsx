import type { EmbedPatch, EmbedPreview, EmbedSettings } from '@discord-images/sdk';
import { useEffect, useState } from 'preact/hooks';
import { di, isSignedOut, messageOf } from '../api.js';
import { ConfirmDialog } from '../components/confirm-dialog.js';
import { EmbedCard } from '../components/embed-card.js';
import { Page } from '../components/page.js';

type TextField = 'site_name' | 'title' | 'description' | 'author' | 'author_url';

/** The form: each text box as typed ('' = the server default), the colour ('' default, 'auto', '#rrggbb'), on/off. */
interface Draft {
  site_name: string;
  title: string;
  description: string;
  author: string;
  author_url: string;
  color: string;
  enabled: boolean;
}

const TEXT_FIELDS: { key: TextField; label: string; hint: string; multiline?: boolean }[] = [
  { key: 'site_name', label: 'Site name', hint: 'The small line at the top.' },
  { key: 'author', label: 'Author', hint: 'The bold line under the site name.' },
  { key: 'author_url', label: 'Author link', hint: 'Where the author line leads: an http(s) address.' },
  { key: 'title', label: 'Title', hint: 'The link line; Discord shows 70 bytes of it.' },
  { key: 'description', label: 'Description', hint: 'The text under the title; Discord shows 350 bytes of it.', multiline: true },
];

const PLACEHOLDERS: [string, string][] = [
  ['{file.name}', 'the file’s name'],
  ['{file.size}', 'its size, such as 13.8 KB'],
  ['{file.width}', 'its width in pixels'],
  ['{file.height}', 'its height in pixels'],
  ['{file.date}', 'the upload’s date, such as 2026-11-27'],
  ['{file.mime}', 'its type, such as image/png'],
  ['{file.id}', 'the upload’s id'],
  ['{user.name}', 'your username'],
];

const HEX = /^#[0-9a-f]{6}$/i;

const draftOf = ({ settings, effective }: EmbedSettings): Draft => ({
  site_name: settings.site_name ?? '',
  title: settings.title ?? '',
  description: settings.description ?? '',
  author: settings.author ?? '',
  author_url: settings.author_url ?? '',
  color: settings.color ?? '',
  enabled: effective.enabled,
});

/**
 * What to send: only the fields changed since the last load, so that a value set elsewhere
 * (an empty template made through the API) is kept unless the person changes it here. An
 * emptied box goes back to the server default.
 */
function patchOf(draft: Draft, saved: Draft): EmbedPatch {
  const patch: EmbedPatch = {};
  for (const { key } of TEXT_FIELDS) if (draft[key] !== saved[key]) patch[key] = draft[key] === '' ? null : draft[key];
  if (draft.color !== saved.color) patch.color = draft.color === '' ? null : draft.color;
  if (draft.enabled !== saved.enabled) patch.enabled = draft.enabled;
  return patch;
}

/** Settings: how share links look in Discord (with the server's own preview), the password, and signing out everywhere. */
export function SettingsPage({ onSignedOut }: { onSignedOut: () => void }) {
  return (
    <Page title="Settings">
      <EmbedSection onSignedOut={onSignedOut} />
      <PasswordSection onSignedOut={onSignedOut} />
      <SessionsSection onSignedOut={onSignedOut} />
    </Page>
  );
}

function EmbedSection({ onSignedOut }: { onSignedOut: () => void }) {
  const [loaded, setLoaded] = useState<EmbedSettings | null>(null);
  const [draft, setDraft] = useState<Draft | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);
  const [savedNote, setSavedNote] = useState(false);
  // The newest upload, whose share page the preview shows; null when there is none yet.
  const [sample, setSample] = useState<string | null | undefined>(undefined);
  const [preview, setPreview] = useState<EmbedPreview | null>(null);
  const [previewError, setPreviewError] = useState<string | null>(null);

  const fail = (failure: unknown) => (isSignedOut(failure) ? onSignedOut() : setError(messageOf(failure)));

  useEffect(() => {
    const controller = new AbortController();
    const { signal } = controller;
    di.embed.get({ signal }).then(
      (settings) => {
        setLoaded(settings);
        setDraft(draftOf(settings));
      },
      (failure: unknown) => !signal.aborted && fail(failure),
    );
    di.uploads
      .list({ limit: 1, signal })
      .next()
      .then(
        (first) => setSample(first.done ? null : first.value.id),
        (failure: unknown) => !signal.aborted && fail(failure),
      );
    return () => controller.abort();
  }, []);

  // The preview follows the form as typed: the server draws the unsaved changes over the saved
  // templates (nothing is saved), debounced so that a burst of keystrokes asks once.
  const pending = loaded && draft ? patchOf(draft, draftOf(loaded)) : {};
  const pendingKey = JSON.stringify(pending);
  useEffect(() => {
    if (!sample || !loaded) return;
    const controller = new AbortController();
    const timer = setTimeout(() => {
      di.embed.previewDraft(sample, pending, { signal: controller.signal }).then(
        (answer) => {
          setPreview(answer);
          setPreviewError(null);
        },
        (failure: unknown) => {
          if (controller.signal.aborted) return;
          if (isSignedOut(failure)) onSignedOut();
          else setPreviewError(messageOf(failure));
        },
      );
    }, 300);
    return () => {
      clearTimeout(timer);
      controller.abort();
    };
  }, [sample, loaded, pendingKey]);

  if (!loaded || !draft) {
    return (
      <section class="panel" aria-labelledby="embed-title">
        <h2 id="embed-title">Embeds in Discord</h2>
        {error ? (
          <p class="banner error" role="alert">
            {error}
          </p>
        ) : (
          <p class="muted">Loading your templates…</p>
        )}
      </section>
    );
  }

  const saved = draftOf(loaded);
  const patch = patchOf(draft, saved);
  const dirty = Object.keys(patch).length > 0;
  const { defaults } = loaded;
  const set = (change: Partial<Draft>) => {
    setDraft({ ...draft, ...change });
    setSavedNote(false);
  };
  const colorMode = draft.color === '' ? 'default' : draft.color === 'auto' ? 'auto' : 'fixed';
  const fixedColor = HEX.test(draft.color) ? draft.color.toLowerCase() : HEX.test(defaults.color) ? defaults.color : '#5865f2';

  const save = async () => {
    setSaving(true);
    setError(null);
    try {
      const settings = await di.embed.update(patch);
      setLoaded(settings);
      setDraft(draftOf(settings));
      setSavedNote(true);
    } catch (failure) {
      fail(failure);
    } finally {
      setSaving(false);
    }
  };

  return (
    <section class="panel" aria-labelledby="embed-title">
      <h2 id="embed-title">Embeds in Discord</h2>
      <p class="muted lead">
        What your share links show when pasted into Discord, for all your uploads, old and new. An empty box uses the server’s default,
        shown in grey.
      </p>
      <div class="embed-layout">
        <form
          class="embed-form"
          onSubmit={(event) => {
            event.preventDefault();
            void save();
          }}
        >
          <label class="switch">
            <input type="checkbox" checked={draft.enabled} onChange={(event) => set({ enabled: event.currentTarget.checked })} />
            <span>Show text and colour (off: Discord shows the bare image)</span>
          </label>
          {TEXT_FIELDS.map(({ key, label, hint, multiline }) => {
            const common = {
              id: `embed-field-${key}`,
              class: 'input',
              name: key,
              maxLength: key === 'author_url' ? 2048 : 1000,
              placeholder: defaults[key] || (key === 'author_url' ? location.origin : '(empty)'),
              value: draft[key],
              'aria-describedby': `embed-field-${key}-hint`,
              onInput: (event: Event) => set({ [key]: (event.currentTarget as HTMLInputElement).value }),
            };
            return (
              <div class="field" key={key}>
                <label for={`embed-field-${key}`}>{label}</label>
                {multiline ? <textarea rows={3} {...common} /> : <input type={key === 'author_url' ? 'url' : 'text'} {...common} />}
                <span class="hint" id={`embed-field-${key}-hint`}>
                  {hint} Default: <code>{defaults[key] || (key === 'author_url' ? 'this server' : 'empty')}</code>
                </span>
              </div>
            );
          })}
          <fieldset class="choice colour-choice">
            <legend>Colour</legend>
            <label class="choice-option">
              <input type="radio" name="color-mode" checked={colorMode === 'default'} onChange={() => set({ color: '' })} />
              <span>
                Server default (<code>{defaults.color}</code>)
              </span>
            </label>
            <label class="choice-option">
              <input type="radio" name="color-mode" checked={colorMode === 'auto'} onChange={() => set({ color: 'auto' })} />
              <span>Each image’s own colour</span>
            </label>
            <label class="choice-option">
              <input type="radio" name="color-mode" checked={colorMode === 'fixed'} onChange={() => set({ color: fixedColor })} />
              <span>Always this colour</span>
            </label>
            {colorMode === 'fixed' && (
              <div class="colour-row">
                <input
                  type="color"
                  class="colour-swatch"
                  aria-label="Colour picker"
                  value={fixedColor}
                  onInput={(event) => set({ color: event.currentTarget.value })}
                />
                <input
                  class="input mono colour-hex"
                  aria-label="Colour as hex"
                  pattern="#[0-9a-fA-F]{6}"
                  maxLength={7}
                  value={draft.color}
                  onInput={(event) => set({ color: event.currentTarget.value.trim() })}
                />
              </div>
            )}
          </fieldset>
          <details class="placeholders">
            <summary>Placeholders you can use</summary>
            <p class="hint">Filled in for each upload. Other text in braces stays as typed.</p>
            <dl>
              {PLACEHOLDERS.map(([placeholder, meaning]) => (
                <div key={placeholder}>
                  <dt>
                    <code>{placeholder}</code>
                  </dt>
                  <dd>{meaning}</dd>
                </div>
              ))}
            </dl>
          </details>
          {error && (
            <p class="banner error" role="alert">
              {error}
            </p>
          )}
          <div class="form-actions">
            <button type="submit" class="button primary" disabled={!dirty || saving}>
              {saving ? 'Saving…' : 'Save embed'}
            </button>
            <button type="button" class="button" disabled={!dirty || saving} onClick={() => setDraft(saved)}>
              Undo changes
            </button>
            <span class="hint" role="status">
              {savedNote ? 'Saved.' : dirty ? 'Unsaved changes.' : ''}
            </span>
          </div>
        </form>
        <div class="embed-preview-column">
          <h3 class="preview-title">Preview</h3>
          {sample === null ? (
            <p class="hint">Upload an image, and this shows how its link looks in Discord.</p>
          ) : previewError ? (
            <p class="banner error" role="alert">
              {previewError}
            </p>
          ) : preview ? (
            <>
              <EmbedCard preview={preview} />
              <p class="hint" role="status">
                {dirty
                  ? 'Your newest upload with your unsaved changes: save to use them.'
                  : 'Your newest upload, as the server will show it.'}
              </p>
            </>
          ) : (
            <p class="hint">Loading the preview…</p>
          )}
        </div>
      </div>
    </section>
  );
}

function PasswordSection({ onSignedOut }: { onSignedOut: () => void }) {
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [confirm, setConfirm] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState(false);

  const change = async () => {
    setError(null);
    setDone(false);
    if (next !== confirm) return setError('The new password and its confirmation differ: type the same password twice.');
    setBusy(true);
    try {
      await di.changePassword(current, next);
      setCurrent('');
      setNext('');
      setConfirm('');
      setDone(true);
    } catch (failure) {
      // A wrong current password is 403, not 401: the session is still good.
      if (isSignedOut(failure)) onSignedOut();
      else setError(messageOf(failure));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="panel" aria-labelledby="password-title">
      <h2 id="password-title">Password</h2>
      <form
        class="password-form"
        onSubmit={(event) => {
          event.preventDefault();
          void change();
        }}
      >
        <label class="field">
          <span>Current password</span>
          <input
            class="input"
            type="password"
            autoComplete="current-password"
            required
            value={current}
            onInput={(event) => setCurrent(event.currentTarget.value)}
          />
        </label>
        <label class="field">
          <span>New password</span>
          <input
            class="input"
            type="password"
            autoComplete="new-password"
            required
            value={next}
            onInput={(event) => setNext(event.currentTarget.value)}
          />
        </label>
        <label class="field">
          <span>Confirm new password</span>
          <input
            class="input"
            type="password"
            autoComplete="new-password"
            required
            value={confirm}
            onInput={(event) => setConfirm(event.currentTarget.value)}
          />
        </label>
        {error && (
          <p class="banner error" role="alert">
            {error}
          </p>
        )}
        {done && (
          <p class="banner success" role="status">
            Password changed. Your other sessions were signed out; your API keys still work.
          </p>
        )}
        <button type="submit" class="button primary" disabled={busy}>
          {busy ? 'Changing…' : 'Change password'}
        </button>
      </form>
    </section>
  );
}

function SessionsSection({ onSignedOut }: { onSignedOut: () => void }) {
  const [asking, setAsking] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const signOutEverywhere = async () => {
    setBusy(true);
    setError(null);
    try {
      await di.auth.logoutEverywhere();
      onSignedOut();
    } catch (failure) {
      if (isSignedOut(failure)) onSignedOut();
      else setError(messageOf(failure));
      setBusy(false);
      setAsking(false);
    }
  };

  return (
    <section class="panel" aria-labelledby="sessions-title">
      <h2 id="sessions-title">Sessions</h2>
      <p class="muted">
        Signed in on a computer you no longer use? Sign out everywhere ends every session of your account, this one included. API keys keep
        working: revoke them on the API keys page.
      </p>
      {error && (
        <p class="banner error" role="alert">
          {error}
        </p>
      )}
      <button type="button" class="button danger-outline" onClick={() => setAsking(true)}>
        Sign out everywhere
      </button>
      {asking && (
        <ConfirmDialog
          title="Sign out everywhere?"
          confirmLabel={busy ? 'Signing out…' : 'Sign out everywhere'}
          busy={busy}
          onCancel={() => setAsking(false)}
          onConfirm={() => void signOutEverywhere()}
        >
          <p>Every browser signed in to your account, this one included, must sign in again. Your API keys keep working.</p>
        </ConfirmDialog>
      )}
    </section>
  );
}
