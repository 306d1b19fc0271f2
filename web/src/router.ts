import { useEffect, useState } from 'preact/hooks';

import { APP_PATHS, type AppPath } from './paths.js';

const listeners = new Set<() => void>();
const changed = () => listeners.forEach((listener) => listener());
addEventListener('popstate', changed);

export function navigate(to: string, { replace = false } = {}): void {
  if (to === location.pathname + location.search) return;
  history[replace ? 'replaceState' : 'pushState'](null, '', to);
  scrollTo(0, 0);
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

/** A `next` from the query string, if it is one of the app's own paths (never another site). */
export function safeNext(next: string | null): AppPath {
  return APP_PATHS.find((path) => path === next) ?? '/';
}

/** Follows a plain click on an in-app link without reloading the page. */
export function followLink(event: MouseEvent): void {
  const anchor = event.currentTarget as HTMLAnchorElement;
  if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  event.preventDefault();
  navigate(anchor.pathname + anchor.search);
}
