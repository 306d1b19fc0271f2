import type { RegisterResult, Registration, User } from '@discord-images/sdk';
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
  // An invite link (/auth?invite=CODE) fills the code in; the mode says whether one is needed.
  const [invited] = useState(() => new URLSearchParams(location.search).get('invite')?.trim() ?? '');
  const [invite, setInvite] = useState(invited);
  const [registration, setRegistration] = useState<Registration | undefined>(undefined);

  useEffect(() => {
    document.title = firstKey ? 'Your API key · Discord Images' : 'Sign in · Discord Images';
  }, [firstKey]);

  useEffect(() => {
    const controller = new AbortController();
    // Unknown (the call failed) leaves the form as it was: signing up still says what the server wants.
    di.auth.registration({ signal: controller.signal }).then(setRegistration, () => undefined);
    return () => controller.abort();
  }, []);

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
        const code = invite.trim();
        const result = await di.auth.register(username, password, askInvite && code !== '' ? { invite: code } : {});
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

  const askInvite = registration === 'invite' || (registration === undefined && invited !== '');
  // Someone who came with an invite link is here to sign up: that button comes first, and Enter presses it.
  const signUpFirst = askInvite && invited !== '';
  const signUpButton = (
    <button type="submit" class={`button block${signUpFirst ? ' primary' : ''}`} value="up" disabled={busy !== null}>
      {busy === 'up' ? 'Creating your account…' : 'Sign up'}
    </button>
  );
  const signInButton = (
    <button type="submit" class={`button block${signUpFirst ? '' : ' primary'}`} value="in" disabled={busy !== null}>
      {busy === 'in' ? 'Signing in…' : 'Sign in'}
    </button>
  );

  return (
    <main class="center">
      <form
        class="card"
        aria-labelledby="auth-title"
        noValidate
        onSubmit={(event) => {
          event.preventDefault();
          // Enter in a field submits with the first button: Sign in, or Sign up after an invite link.
          const submitter = (event as SubmitEvent).submitter as HTMLButtonElement | null;
          void submit(submitter?.value === 'up' ? 'up' : 'in');
        }}
      >
        <Brand />
        <h1 id="auth-title">{signUpFirst ? 'You are invited to Discord Images' : 'Welcome to Discord Images'}</h1>
        <p class="muted">
          {signUpFirst
            ? 'Choose a username and a password to create your account.'
            : 'Sign in to your gallery and API keys, or create an account.'}
        </p>
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
        {askInvite && (
          <div class="field">
            <label for="invite">Invite code</label>
            <input
              id="invite"
              class="input mono"
              name="invite"
              autoComplete="off"
              autoCapitalize="none"
              spellcheck={false}
              aria-describedby="invite-hint"
              value={invite}
              onInput={(event) => setInvite(event.currentTarget.value)}
            />
            <small id="invite-hint" class="hint">
              Sign-ups on this server are by invite: enter the code an admin gave you. Signing in needs none.
            </small>
          </div>
        )}
        <p class={error ? 'banner error' : 'banner-slot'} role="alert">
          {error}
        </p>
        {signUpFirst ? signUpButton : signInButton}
        <p class="or">
          <span>{signUpFirst ? 'Have an account already?' : 'New here?'}</span>
        </p>
        {signUpFirst ? signInButton : signUpButton}
        {registration === 'closed' && <p class="hint closed-note">Sign-ups are closed on this server: ask its admin for an account.</p>}
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
