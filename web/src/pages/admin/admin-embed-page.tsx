import type { EmbedFields, EmbedPatch } from '@discord-images/sdk';
import { useEffect, useState } from 'preact/hooks';
import { di, isSignedOut, messageOf } from '../../api.js';
import { Page } from '../../components/page.js';

type TextField = Exclude<keyof EmbedFields, 'enabled'>;

const TEXT_FIELDS: { key: TextField; label: string; hint: string; multiline?: boolean }[] = [
  { key: 'site_name', label: 'Site name', hint: 'The small line above the title.' },
  { key: 'author', label: 'Author', hint: 'The line under the site name.' },
  { key: 'author_url', label: 'Author link', hint: 'Where the author line links to; empty = this server.' },
  { key: 'title', label: 'Title', hint: 'Cut at 70 bytes.' },
  { key: 'description', label: 'Description', hint: 'Cut at 350 bytes.', multiline: true },
  { key: 'color', label: 'Colour', hint: '“auto” (the image’s dominant colour) or #rrggbb, for the bar down the embed’s side.' },
];

const LABELS: Record<keyof EmbedFields, string> = {
  enabled: 'Embeds',
  ...(Object.fromEntries(TEXT_FIELDS.map((field) => [field.key, field.label])) as Record<TextField, string>),
};

const PLACEHOLDERS = [
  '{file.name}',
  '{file.size}',
  '{file.width}',
  '{file.height}',
  '{file.date}',
  '{file.mime}',
  '{file.id}',
  '{user.name}',
];

/**
 * The server-wide embed defaults, under every user's own templates. Saving sends only what
 * changed; "Reset" sends `null`, which puts that field back to the built-in value.
 */
export function AdminEmbedPage({ onSignedOut }: { onSignedOut: () => void }) {
  const [saved, setSaved] = useState<EmbedFields | undefined>(undefined);
  const [draft, setDraft] = useState<EmbedFields | undefined>(undefined);
  const [error, setError] = useState<string | null>(null);
  const [status, setStatus] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const fail = (failure: unknown) => (isSignedOut(failure) ? onSignedOut() : setError(messageOf(failure)));

  useEffect(() => {
    const controller = new AbortController();
    di.admin.embed.get({ signal: controller.signal }).then(
      (fields) => {
        setSaved(fields);
        setDraft(fields);
      },
      (failure: unknown) => {
        if (!controller.signal.aborted) fail(failure);
      },
    );
    return () => controller.abort();
  }, []);

  const send = async (patch: EmbedPatch, done: string) => {
    setBusy(true);
    setError(null);
    setStatus(null);
    try {
      const fields = await di.admin.embed.update(patch);
      setSaved(fields);
      // Fields the patch did not touch keep what is being typed in them.
      setDraft((current) => ({ ...fields, ...(current && pick(current, unchangedKeys(patch))) }));
      setStatus(done);
    } catch (failure) {
      fail(failure);
    } finally {
      setBusy(false);
    }
  };

  if (!saved || !draft) {
    return (
      <Page title="Embed defaults">
        {error ? (
          <p class="banner error" role="alert">
            {error}
          </p>
        ) : (
          <p class="muted">Loading the embed defaults…</p>
        )}
      </Page>
    );
  }

  const changes = (Object.keys(draft) as (keyof EmbedFields)[]).filter((key) => draft[key] !== saved[key]);
  const set = <K extends keyof EmbedFields>(key: K, value: EmbedFields[K]) => {
    setStatus(null);
    setDraft({ ...draft, [key]: value });
  };

  return (
    <Page title="Embed defaults">
      <p class="muted lead">
        What a share link shows in Discord when its owner has not set their own template. Templates may use{' '}
        <span class="placeholders">
          {PLACEHOLDERS.map((placeholder) => (
            <code key={placeholder}>{placeholder}</code>
          ))}
        </span>
        .
      </p>
      <form
        class="panel embed-form"
        noValidate
        onSubmit={(event) => {
          event.preventDefault();
          const patch: EmbedPatch = Object.fromEntries(changes.map((key) => [key, draft[key]]));
          void send(patch, 'Saved: new share pages use these defaults now.');
        }}
      >
        <div class="embed-field">
          <label class="check">
            <input type="checkbox" checked={draft.enabled} onChange={(event) => set('enabled', event.currentTarget.checked)} />
            Rich embeds
          </label>
          <small class="hint">Off: a pasted link shows the bare image, without text or colour.</small>
          <ResetButton
            label={LABELS.enabled}
            busy={busy}
            onReset={() => void send({ enabled: null }, 'Embeds: back to the built-in value.')}
          />
        </div>
        {TEXT_FIELDS.map(({ key, label, hint, multiline }) => {
          const id = `embed-${key}`;
          const common = {
            id,
            class: 'input',
            value: draft[key],
            'aria-describedby': `${id}-hint`,
            onInput: (event: { currentTarget: HTMLInputElement | HTMLTextAreaElement }) => set(key, event.currentTarget.value),
          };
          return (
            <div key={key} class="embed-field">
              <label for={id}>{label}</label>
              <div class="embed-input">
                {multiline ? <textarea rows={3} maxLength={1000} {...common} /> : <input maxLength={1000} spellcheck={false} {...common} />}
                {key === 'color' && (
                  <input
                    type="color"
                    class="swatch"
                    aria-label="Pick the colour"
                    value={/^#[0-9a-f]{6}$/i.test(draft.color) ? draft.color : '#5865f2'}
                    onInput={(event) => set('color', event.currentTarget.value)}
                  />
                )}
                <ResetButton
                  label={label}
                  busy={busy}
                  onReset={() => void send({ [key]: null }, `${label}: back to the built-in value.`)}
                />
              </div>
              <small id={`${id}-hint`} class="hint">
                {hint}
              </small>
            </div>
          );
        })}
        <p class={error ? 'banner error' : 'banner-slot'} role="alert">
          {error}
        </p>
        <p class="status" role="status">
          {status}
        </p>
        <div class="form-actions">
          <button type="button" class="button" disabled={busy || changes.length === 0} onClick={() => setDraft(saved)}>
            Undo changes
          </button>
          <button type="submit" class="button primary" disabled={busy || changes.length === 0}>
            {busy ? 'Saving…' : 'Save defaults'}
          </button>
        </div>
      </form>
    </Page>
  );
}

function ResetButton({ label, busy, onReset }: { label: string; busy: boolean; onReset: () => void }) {
  return (
    <button type="button" class="button small" aria-label={`Reset ${label} to the built-in value`} disabled={busy} onClick={onReset}>
      Reset
    </button>
  );
}

const unchangedKeys = (patch: EmbedPatch): (keyof EmbedFields)[] =>
  (['enabled', 'site_name', 'title', 'description', 'author', 'author_url', 'color'] as const).filter((key) => !(key in patch));

const pick = (fields: EmbedFields, keys: (keyof EmbedFields)[]): Partial<EmbedFields> =>
  Object.fromEntries(keys.map((key) => [key, fields[key]]));
