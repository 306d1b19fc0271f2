import type { ComponentChildren } from 'preact';
import { type ApiKey, type CreatedKey, DiscordImages } from '@discord-images/sdk';
import { useEffect, useState } from 'preact/hooks';
import { di, isSignedOut, messageOf } from '../api.js';
import { CopyButton } from '../components/copy-button.js';
import { Page } from '../components/page.js';
import { SecretBox } from '../components/secret-box.js';
import { downloadText } from '../download.js';
import { curlOneLiner, shellScript, sxcuFile, type ToolFile } from '../tool-files.js';

/** The key the files are made with: its secret, and which key it is. */
interface ChosenKey {
  token: string;
  name: string;
  hint: string;
}

const TOKEN_SHAPE = /^di_[0-9A-Za-z]{40}$/;

/**
 * Tool setup: a key (made here, or one the person already has and pastes, since a key's secret
 * is never shown twice), then the files for ShareX, a capture script and curl, made from it.
 */
export function SetupPage({ username, onSignedOut }: { username: string; onSignedOut: () => void }) {
  const [keys, setKeys] = useState<ApiKey[] | undefined>(undefined);
  const [mode, setMode] = useState<'new' | 'existing'>('new');
  const [name, setName] = useState('Screenshot tools');
  const [existingId, setExistingId] = useState('');
  const [secret, setSecret] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [created, setCreated] = useState<CreatedKey | null>(null);
  const [chosen, setChosen] = useState<ChosenKey | null>(null);

  const fail = (failure: unknown) => (isSignedOut(failure) ? onSignedOut() : setError(messageOf(failure)));

  useEffect(() => {
    const controller = new AbortController();
    di.keys.list({ signal: controller.signal }).then(
      (list) => {
        setKeys(list);
        setExistingId(list[0]?.id ?? '');
      },
      (failure: unknown) => {
        if (!controller.signal.aborted) fail(failure);
      },
    );
    return () => controller.abort();
  }, []);

  const createKey = async () => {
    setBusy(true);
    setError(null);
    try {
      const result = await di.keys.create(name.trim());
      setCreated(result);
      setKeys((list) => [result.key, ...(list ?? [])]);
      setChosen({ token: result.token, name: result.key.name, hint: result.key.hint });
    } catch (failure) {
      fail(failure);
    } finally {
      setBusy(false);
    }
  };

  const useExisting = async () => {
    const key = keys?.find((item) => item.id === existingId);
    const token = secret.trim();
    setError(null);
    if (!key) return setError('Choose one of your keys.');
    if (!TOKEN_SHAPE.test(token)) return setError('A key’s secret is “di_” and 40 letters and digits: paste the whole of it.');
    if (!token.startsWith(key.hint)) return setError(`This secret is not the one of “${key.name}”, which starts ${key.hint}…`);
    setBusy(true);
    try {
      // The secret itself, alone (no session cookie): proves that it works and is this account's.
      const account = await new DiscordImages({ baseUrl: location.origin, token, credentials: 'omit' }).me();
      if (account.username !== username) throw new Error('This secret belongs to another account.');
      setCreated(null);
      setChosen({ token, name: key.name, hint: key.hint });
      setSecret('');
    } catch (failure) {
      setError(
        isSignedOut(failure) ? 'The server does not accept this secret: it is mistyped, or the key was revoked.' : messageOf(failure),
      );
    } finally {
      setBusy(false);
    }
  };

  const origin = location.origin;
  return (
    <Page title="Tool setup">
      <p class="muted lead">
        Send screenshots here straight from ShareX, Flameshot or a script. Each tool signs its uploads with an API key: make one for it, so
        that you can revoke it alone.
      </p>

      <section class="panel" aria-labelledby="setup-key-title">
        <h2 id="setup-key-title">1. Choose a key</h2>
        {chosen ? (
          <>
            {created && created.token === chosen.token && <SecretBox token={created.token} name={created.key.name} />}
            <p class="setup-chosen">
              The files below use <strong>{chosen.name}</strong> (<code>{chosen.hint}…</code>).{' '}
              <button
                type="button"
                class="button small"
                onClick={() => {
                  setChosen(null);
                  setCreated(null);
                  setError(null);
                }}
              >
                Choose another key
              </button>
            </p>
          </>
        ) : (
          <form
            class="setup-key-form"
            onSubmit={(event) => {
              event.preventDefault();
              void (mode === 'new' ? createKey() : useExisting());
            }}
          >
            <fieldset class="choice">
              <legend class="offscreen">Key for the files</legend>
              <label class="choice-option">
                <input type="radio" name="key-mode" value="new" checked={mode === 'new'} onChange={() => setMode('new')} />
                <span>Create a new key</span>
              </label>
              <label class="choice-option">
                <input
                  type="radio"
                  name="key-mode"
                  value="existing"
                  checked={mode === 'existing'}
                  disabled={keys !== undefined && keys.length === 0}
                  onChange={() => setMode('existing')}
                />
                <span>Use a key I have</span>
              </label>
            </fieldset>
            {mode === 'new' ? (
              <label class="field">
                <span>Key name</span>
                <input
                  class="input"
                  name="name"
                  maxLength={100}
                  required
                  value={name}
                  onInput={(event) => setName(event.currentTarget.value)}
                />
              </label>
            ) : (
              <>
                <div class="field">
                  <label for="setup-existing-key">Key</label>
                  <select
                    id="setup-existing-key"
                    class="input"
                    value={existingId}
                    onChange={(event) => setExistingId(event.currentTarget.value)}
                  >
                    {keys?.map((key) => (
                      <option key={key.id} value={key.id}>
                        {key.name} ({key.hint}…)
                      </option>
                    ))}
                  </select>
                </div>
                <div class="field">
                  <label for="setup-secret">Its secret</label>
                  <input
                    id="setup-secret"
                    class="input mono"
                    name="secret"
                    autoComplete="off"
                    spellcheck={false}
                    placeholder="di_…"
                    required
                    aria-describedby="setup-secret-hint"
                    value={secret}
                    onInput={(event) => setSecret(event.currentTarget.value)}
                  />
                  <span class="hint" id="setup-secret-hint">
                    A key’s secret is shown only once, when it is made, so paste the one you saved. Lost it? Create a new key instead.
                  </span>
                </div>
              </>
            )}
            <button type="submit" class="button primary" disabled={busy || (mode === 'new' ? name.trim() === '' : secret.trim() === '')}>
              {mode === 'new' ? (busy ? 'Creating…' : 'Create key') : busy ? 'Checking…' : 'Use this key'}
            </button>
          </form>
        )}
        {error && (
          <p class="banner error setup-error" role="alert">
            {error}
          </p>
        )}
      </section>

      {chosen ? (
        <>
          <ToolSection
            id="sharex"
            title="2. ShareX (Windows)"
            file={sxcuFile(origin, chosen.token)}
            what=".sxcu"
            steps={
              <>
                Download the uploader and double-click it: ShareX imports it and makes it your image uploader. Or copy it and, in ShareX,
                choose <strong>Destinations → Custom uploader settings → Import → From clipboard</strong>. ShareX then copies each
                screenshot’s share link.
              </>
            }
          />
          <ToolSection
            id="script"
            title="3. Flameshot, grim or macOS (script)"
            file={shellScript(origin, chosen.token)}
            what="script"
            steps={
              <>
                Download the script, make it runnable (<code>chmod 700 {shellScript(origin, chosen.token).filename}</code>) and bind it to a
                key in your desktop’s keyboard settings. It captures a region with Flameshot, grim + slurp (Wayland) or{' '}
                <code>screencapture</code> (macOS), uploads it with curl and copies the link. Given file names, it uploads those instead.
              </>
            }
          />
          <ToolSection
            id="curl"
            title="4. curl"
            file={curlOneLiner(origin, chosen.token)}
            what="command"
            steps={
              <>
                Uploads <code>screenshot.png</code> from the current folder and prints the answer, whose <code>files[0].url</code> is the
                share link.
              </>
            }
          />
        </>
      ) : (
        <p class="empty">Choose a key above, and the files for ShareX, Flameshot and curl appear here, ready to download or copy.</p>
      )}
    </Page>
  );
}

function ToolSection({
  id,
  title,
  file,
  what,
  steps,
}: {
  id: string;
  title: string;
  file: ToolFile;
  what: string;
  steps: ComponentChildren;
}) {
  return (
    <section class="panel tool" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>{title}</h2>
      <p class="tool-steps">{steps}</p>
      <pre class="code" tabIndex={0} aria-label={`${title}: ${file.filename}`}>
        <code>{file.text}</code>
      </pre>
      <div class="tool-actions">
        <button type="button" class="button primary" onClick={() => downloadText(file.filename, file.text, file.type)}>
          Download {file.filename}
        </button>
        <CopyButton text={file.text} label={`Copy ${what}`} />
      </div>
    </section>
  );
}
