import type { User } from '@discord-images/sdk';
import type { FunctionComponent } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { messageOf } from '../../api.js';
import type { AdminPages } from './admin-pages.js';

type AdminPagesProps = Parameters<typeof AdminPages>[0];
let loaded: FunctionComponent<AdminPagesProps> | undefined;

/**
 * The admin pages, fetched the first time someone opens one: only admins need them, so the
 * gallery's first load does not carry them.
 */
export function LazyAdminPages(props: { user: User; path: string; onSignedOut: () => void }) {
  const [Pages, setPages] = useState(() => loaded);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    if (Pages) return;
    import('./admin-pages.js').then(
      (module) => {
        loaded = module.AdminPages;
        setPages(() => module.AdminPages);
      },
      (failure: unknown) => setError(`The admin pages could not be loaded: ${messageOf(failure)} Reload the page to try again.`),
    );
  }, []);
  if (error)
    return (
      <p class="banner error" role="alert">
        {error}
      </p>
    );
  return Pages ? <Pages {...props} /> : <p class="muted">Loading…</p>;
}
