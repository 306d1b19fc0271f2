import type { Upload } from '@discord-images/sdk';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { di, isSignedOut, messageOf } from '../api.js';
import { Page } from '../components/page.js';
import { followLink } from '../router.js';

/** Uploads fetched per batch as the end of the grid comes into view. */
const BATCH = 60;

/** The account's uploads, newest first, as thumbnails; more load as the page scrolls. */
export function GalleryPage({ onSignedOut }: { onSignedOut: () => void }) {
  const [uploads, setUploads] = useState<Upload[]>([]);
  const [done, setDone] = useState(false);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const pages = useRef<AsyncIterableIterator<Upload> | null>(null);
  const busy = useRef(false);
  const sentinel = useRef<HTMLDivElement>(null);

  const more = useCallback(async () => {
    if (busy.current) return;
    busy.current = true;
    setLoading(true);
    pages.current ??= di.uploads.list({ limit: BATCH });
    try {
      const batch: Upload[] = [];
      while (batch.length < BATCH) {
        const next = await pages.current.next();
        if (next.done) {
          setDone(true);
          break;
        }
        batch.push(next.value);
      }
      setUploads((list) => [...list, ...batch]);
    } catch (failure) {
      if (isSignedOut(failure)) onSignedOut();
      else setError(messageOf(failure));
    } finally {
      busy.current = false;
      setLoading(false);
    }
  }, [onSignedOut]);

  useEffect(() => {
    if (done || error) return;
    const element = sentinel.current!;
    // Loads while the end is still a screen away, so scrolling rarely meets an empty row.
    const observer = new IntersectionObserver((entries) => entries.some((entry) => entry.isIntersecting) && void more(), {
      rootMargin: '100% 0px',
    });
    observer.observe(element);
    return () => observer.disconnect();
  }, [done, error, more, uploads.length]);

  return (
    <Page title="Gallery">
      {uploads.length === 0 && done ? (
        <div class="empty">
          <p>No uploads yet.</p>
          <p class="muted">
            Upload with ShareX, Flameshot, the CLI or curl, using a key from{' '}
            <a href="/keys" onClick={followLink}>
              API keys
            </a>
            .
          </p>
        </div>
      ) : (
        <ul class="grid" aria-label="Your uploads, newest first">
          {uploads.map((upload) => (
            <li key={upload.id} class="tile">
              <a href={upload.url} title={upload.name}>
                <img src={upload.thumbnail_url} alt={upload.name} loading="lazy" decoding="async" />
              </a>
            </li>
          ))}
        </ul>
      )}
      {error && (
        <p class="banner error" role="alert">
          {error}{' '}
          <button
            type="button"
            class="button small"
            onClick={() => {
              setError(null);
              void more();
            }}
          >
            Try again
          </button>
        </p>
      )}
      <div ref={sentinel} class="sentinel" aria-hidden="true" />
      {loading && <p class="muted loading">Loading…</p>}
    </Page>
  );
}
