import { useEffect, useState } from 'preact/hooks';

import { APP_PATHS } from './paths.js';

const listeners = new Set<() => void>();
const changed = () => listeners.forEach((listener) => listener());
addEventListener('popstate', changed);

/** Goes to `to` in the app; `keepScroll` for a change within one page (a dialog over it, a search). */
export function navigate(to: string, { replace = false, keepScroll = false } = {}): void {
  if (to === location.pathname + location.search) return;
  history[replace ? 'replaceState' : 'pushState'](null, '', to);
  if (!keepScroll) scrollTo(0, 0);
  changed();
}

/** Where the app is: re-renders the caller on every navigation. */
export function useLocation(): { path: string; search: URLSearchParams } {
  const [, setVersion] = useState(0);
  useEffect(() => {
    const listener = () => setVersion((version) => version + 1);
    listeners.add(listener);
    return () => void listeners.delete(listener);
  }, []);
  return { path: location.pathname.replace(/(.)\/+$/, '$1'), search: new URLSearchParams(location.search) };
}

/**
 * A `next` from the query string if it is one of the app's own pages (never another site, never
 * a share page), with its query kept: a search or an open upload survives signing in again.
 */
export function safeNext(next: string | null): string {
  const url = new URL(next ?? '/', location.origin);
  const path = APP_PATHS.find((known) => known === url.pathname);
  return url.origin === location.origin && path ? path + url.search : '/';
}

/** Follows a plain click on an in-app link without reloading the page. */
export function followLink(event: MouseEvent): void {
  const anchor = event.currentTarget as HTMLAnchorElement;
  if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  event.preventDefault();
  navigate(anchor.pathname + anchor.search);
}
