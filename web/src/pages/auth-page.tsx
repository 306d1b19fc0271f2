import type { RegisterResult, User } from '@discord-images/sdk';
import { useEffect, useState } from 'preact/hooks';
import { di, messageOf } from '../api.js';
import { SecretBox } from '../components/secret-box.js';

export interface AuthPageProps {
  firstKey: RegisterResult | null;
  onFirstKey: (result: RegisterResult) => void;
  onSignedIn: (user: User) => void;
  onDone: () => void;
}

/** Sign in and sign up on one form; a new account then sees its first key, once. */
export function AuthPage({ firstKey, onFirstKey, onSignedIn, onDone }: AuthPageProps) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState<'in' | 'up' | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);

  useEffect(() => {
    document.title = firstKey ? 'Your API key · Discord Images' : 'Sign in · Discord Images';
  }, [firstKey]);

  if (firstKey) {
    return (
      <main class="center">
        <div class="card wide">
          <Brand />
          <h1>Welcome, {firstKey.user.username}</h1>
          <p class="muted">
            Your account is ready{firstKey.user.role === 'admin' ? ', and as the first account on this server it is the admin' : ''}. This
            is your first API key: ShareX, Flameshot, the CLI and scripts upload with it.
          </p>
          <SecretBox token={firstKey.token} name={firstKey.key.name} />
          {notice && (
            <p class="banner error" role="alert">
              {notice}
            </p>
          )}
          <button type="button" class="button primary block" onClick={onDone}>
            I have copied it, continue
          </button>
        </div>
      </main>
    );
  }

  const submit = async (action: 'in' | 'up') => {
    setBusy(action);
    setError(null);
    try {
      if (action === 'up') {
        const result = await di.auth.register(username, password);
        // Registering gives a key, not a session: sign in as well, so the app opens after the key.
        // The key is shown once both are done, so that "continue" always finds the session ready.
        let user: User | undefined;
        try {
          user = (await di.auth.login(username, password)).user;
        } catch (failure) {
          setNotice(`Your account was created, but signing in failed: ${messageOf(failure)} Sign in after copying your key.`);
        }
        onFirstKey(result);
        if (user) onSignedIn(user);
      } else {
        onSignedIn((await di.auth.login(username, password)).user);
      }
    } catch (failure) {
      setError(messageOf(failure));
    } finally {
      setBusy(null);
    }
  };

  return (
    <main class="center">
      <form
        class="card"
        aria-labelledby="auth-title"
        noValidate
        onSubmit={(event) => {
          event.preventDefault();
          // Enter in a field submits with the first button, Sign in.
          const submitter = (event as SubmitEvent).submitter as HTMLButtonElement | null;
          void submit(submitter?.value === 'up' ? 'up' : 'in');
        }}
      >
        <Brand />
        <h1 id="auth-title">Welcome to Discord Images</h1>
        <p class="muted">Sign in to your gallery and API keys, or create an account.</p>
        <label class="field">
          <span>Username</span>
          <input
            class="input"
            name="username"
            autoComplete="username"
            autoCapitalize="none"
            spellcheck={false}
            required
            value={username}
            onInput={(event) => setUsername(event.currentTarget.value)}
          />
        </label>
        <div class="field">
          <label for="password">Password</label>
          <input
            id="password"
            class="input"
            type="password"
            name="password"
            autoComplete="current-password"
            required
            aria-describedby="password-hint"
            value={password}
            onInput={(event) => setPassword(event.currentTarget.value)}
          />
          <small id="password-hint" class="hint">
            At least 8 characters. A new account takes a name of 2 to 32 letters, digits, _ . or -.
          </small>
        </div>
        <p class={error ? 'banner error' : 'banner-slot'} role="alert">
          {error}
        </p>
        <button type="submit" class="button primary block" value="in" disabled={busy !== null}>
          {busy === 'in' ? 'Signing in…' : 'Sign in'}
        </button>
        <p class="or">
          <span>New here?</span>
        </p>
        <button type="submit" class="button block" value="up" disabled={busy !== null}>
          {busy === 'up' ? 'Creating your account…' : 'Sign up'}
        </button>
      </form>
    </main>
  );
}

function Brand() {
  return (
    <div class="brand center-brand">
      <img src="/favicon.svg" alt="" width="40" height="40" />
      <span>Discord Images</span>
    </div>
  );
}
