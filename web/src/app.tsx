import type { RegisterResult, User } from '@discord-images/sdk';
import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { di, isSignedOut, messageOf } from './api.js';
import { Page } from './components/page.js';
import { ADMIN_HOME, isAdminPath } from './pages/admin/admin-paths.js';
import { LazyAdminPages } from './pages/admin/lazy-admin-pages.js';
import { AuthPage } from './pages/auth-page.js';
import { GalleryPage } from './pages/gallery-page.js';
import { KeysPage } from './pages/keys-page.js';
import { SettingsPage } from './pages/settings-page.js';
import { SetupPage } from './pages/setup-page.js';
import { followLink, navigate, safeNext, useLocation } from './router.js';

/** Signed in (the user), signed out (null), or not known yet (undefined, while the first `me()` runs). */
type Session = User | null | undefined;

export function App() {
  const { path, search } = useLocation();
  const [session, setSession] = useState<Session>(undefined);
  const [bootError, setBootError] = useState<string | null>(null);
  // A new account's first key, shown once on /auth before going on.
  const [firstKey, setFirstKey] = useState<RegisterResult | null>(null);

  useEffect(() => {
    di.me().then(setSession, (error: unknown) => {
      if (isSignedOut(error)) setSession(null);
      else setBootError(messageOf(error));
    });
  }, []);

  useEffect(() => {
    if (session === null && path !== '/auth') navigate(`/auth?next=${encodeURIComponent(path + location.search)}`, { replace: true });
    if (session && path === '/auth' && !firstKey) navigate(safeNext(search.get('next')), { replace: true });
  });

  if (bootError) {
    return (
      <main class="center">
        <div class="card">
          <h1>Something went wrong</h1>
          <p role="alert">{bootError}</p>
          <button type="button" class="button primary" onClick={() => location.reload()}>
            Try again
          </button>
        </div>
      </main>
    );
  }
  if (session === undefined) return <main class="center" aria-busy="true" />;

  if (path === '/auth' || !session) {
    return (
      <AuthPage
        firstKey={firstKey}
        onFirstKey={setFirstKey}
        onSignedIn={setSession}
        onDone={() => {
          setFirstKey(null);
          navigate(session ? safeNext(search.get('next')) : '/auth');
        }}
      />
    );
  }

  const signedOut = () => setSession(null);
  return (
    <Shell user={session} path={path} onSignOut={signedOut}>
      {path === '/' ? (
        <GalleryPage onSignedOut={signedOut} />
      ) : path === '/keys' ? (
        <KeysPage onSignedOut={signedOut} />
      ) : path === '/setup' ? (
        <SetupPage username={session.username} onSignedOut={signedOut} />
      ) : path === '/settings' ? (
        <SettingsPage onSignedOut={signedOut} />
      ) : isAdminPath(path) ? (
        <LazyAdminPages user={session} path={path} onSignedOut={signedOut} />
      ) : (
        <Page title="Not found">
          <p>
            There is no page here.{' '}
            <a href="/" onClick={followLink}>
              Go to your gallery
            </a>
            .
          </p>
        </Page>
      )}
    </Shell>
  );
}

function Shell({ user, path, onSignOut, children }: { user: User; path: string; onSignOut: () => void; children: ComponentChildren }) {
  const [error, setError] = useState<string | null>(null);
  const link = (href: string, label: string) => (
    <a href={href} class="nav-link" aria-current={path === href ? 'page' : undefined} onClick={followLink}>
      {label}
    </a>
  );
  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="topbar">
        <a href="/" class="brand" onClick={followLink}>
          <img src="/favicon.svg" alt="" width="28" height="28" />
          <span>Discord Images</span>
        </a>
        <nav aria-label="Main" class="nav">
          {link('/', 'Gallery')}
          {link('/keys', 'API keys')}
          {link('/setup', 'Setup')}
          {link('/settings', 'Settings')}
          {user.role === 'admin' && (
            <a href={ADMIN_HOME} class="nav-link" aria-current={isAdminPath(path) ? 'true' : undefined} onClick={followLink}>
              Admin
            </a>
          )}
        </nav>
        <div class="account">
          <span class="username" title={`Signed in as ${user.username}`}>
            {user.username}
          </span>
          <button
            type="button"
            class="button small"
            onClick={() =>
              void di.auth
                .logout()
                .then(onSignOut, (failure: unknown) => (isSignedOut(failure) ? onSignOut() : setError(messageOf(failure))))
            }
          >
            Sign out
          </button>
        </div>
      </header>
      {error && (
        <p class="banner error" role="alert">
          {error}
        </p>
      )}
      <main id="main" class="content">
        {children}
      </main>
    </>
  );
}
