import type { Upload } from '@discord-images/sdk';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { di, isSignedOut, messageOf } from '../api.js';
import { ConfirmDialog } from '../components/confirm-dialog.js';
import { Page } from '../components/page.js';
import { UploadDetail } from '../components/upload-detail.js';
import { useUploader } from '../components/uploader.js';
import { followLink, navigate, useLocation } from '../router.js';

/** Uploads fetched per batch as the end of the grid comes into view. */
const BATCH = 60;
/** Typing pauses this long before the search runs. */
const SEARCH_DELAY_MS = 250;

/** The gallery's address: the search (`q`) and the open upload (`u`) live in it, so both survive a reload and Back closes the detail. */
function galleryUrl(q: string, u?: string | null): string {
  const params = new URLSearchParams();
  if (q) params.set('q', q);
  if (u) params.set('u', u);
  const query = params.toString();
  return query ? `/?${query}` : '/';
}

interface Listing {
  pages: AsyncIterableIterator<Upload>;
  controller: AbortController;
  busy: boolean;
}

/** After a delete the focused tile or button is gone: the focus goes to the page's heading rather than to nowhere. */
const focusHeading = () => requestAnimationFrame(() => document.querySelector<HTMLElement>('main h1')?.focus());

const matches = (upload: Upload, q: string) => !q || upload.name.toLowerCase().includes(q.toLowerCase());

/**
 * The account's uploads, newest first, as thumbnails; more load as the page scrolls. Search by
 * name, a detail view over the grid, multi-select delete, and the uploader (button, drop, paste).
 */
export function GalleryPage({ onSignedOut }: { onSignedOut: () => void }) {
  const { search } = useLocation();
  const q = (search.get('q') ?? '').trim().slice(0, 100);
  const openId = search.get('u');
  // Set when the open upload is deleted: the heading takes the focus once the detail has
  // closed, which history.back() does later (after a popstate), not at once.
  const focusAfterClose = useRef(false);
  useEffect(() => {
    if (openId || !focusAfterClose.current) return;
    focusAfterClose.current = false;
    focusHeading();
  }, [openId]);

  const [uploads, setUploads] = useState<Upload[]>([]);
  const [done, setDone] = useState(false);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [typed, setTyped] = useState(q);
  const [selected, setSelected] = useState<ReadonlySet<string>>(new Set());
  const [confirmBulk, setConfirmBulk] = useState(false);
  const [bulkBusy, setBulkBusy] = useState(false);
  // A failed delete of the selection: told apart from a failed load, which offers to try again.
  const [deleteError, setDeleteError] = useState<string | null>(null);
  const listing = useRef<Listing | null>(null);
  const sentinel = useRef<HTMLDivElement>(null);
  // Whether the open detail was opened from the grid (then closing it goes Back) or by its address.
  const openedHere = useRef(false);
  const signedOut = useRef(onSignedOut);
  signedOut.current = onSignedOut;

  const fail = (failure: unknown) => (isSignedOut(failure) ? signedOut.current() : setError(messageOf(failure)));

  const more = useCallback(async () => {
    const current = listing.current;
    if (!current || current.busy) return;
    current.busy = true;
    setLoading(true);
    try {
      const batch: Upload[] = [];
      while (batch.length < BATCH) {
        const next = await current.pages.next();
        if (listing.current !== current) return;
        if (next.done) {
          setDone(true);
          break;
        }
        batch.push(next.value);
      }
      // An upload made on this page may already be at the top.
      setUploads((list) => {
        const seen = new Set(list.map((upload) => upload.id));
        return [...list, ...batch.filter((upload) => !seen.has(upload.id))];
      });
    } catch (failure) {
      if (listing.current === current) fail(failure);
    } finally {
      current.busy = false;
      if (listing.current === current) setLoading(false);
    }
  }, []);

  // A new search starts a new listing; the old one's requests are abandoned.
  useEffect(() => {
    const controller = new AbortController();
    listing.current = { pages: di.uploads.list({ limit: BATCH, q: q || undefined, signal: controller.signal }), controller, busy: false };
    setUploads([]);
    setDone(false);
    setError(null);
    setSelected(new Set());
    void more();
    return () => {
      controller.abort();
      listing.current = null;
    };
  }, [q]);

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

  // The search box follows the address when it changes by Back/Forward.
  useEffect(() => setTyped((current) => (current.trim() === q ? current : q)), [q]);
  useEffect(() => {
    const wanted = typed.trim().slice(0, 100);
    if (wanted === q) return;
    const timer = setTimeout(() => navigate(galleryUrl(wanted), { replace: true }), SEARCH_DELAY_MS);
    return () => clearTimeout(timer);
  }, [typed]);

  const { button: uploadButton, panel: uploadPanel } = useUploader({
    onUploaded: (upload) => {
      if (!matches(upload, q)) return;
      // At the top: the uploader sends one file at a time, so the last to finish is the newest.
      setUploads((list) => (list.some((item) => item.id === upload.id) ? list : [upload, ...list]));
    },
    onSignedOut: () => signedOut.current(),
  });

  const open = (id: string) => {
    openedHere.current = true;
    navigate(galleryUrl(q, id), { keepScroll: true });
  };
  const close = () => {
    if (openedHere.current) {
      openedHere.current = false;
      history.back();
    } else navigate(galleryUrl(q), { replace: true, keepScroll: true });
  };
  const forget = (ids: Iterable<string>) => {
    const gone = new Set(ids);
    setUploads((list) => list.filter((upload) => !gone.has(upload.id)));
    setSelected((current) => new Set([...current].filter((id) => !gone.has(id))));
  };
  const toggle = (id: string) =>
    setSelected((current) => {
      const next = new Set(current);
      if (!next.delete(id)) next.add(id);
      return next;
    });

  const deleteSelected = async () => {
    setBulkBusy(true);
    setDeleteError(null);
    const ids = [...selected];
    const results = await Promise.allSettled(ids.map((id) => di.uploads.delete(id)));
    forget(ids.filter((_, index) => results[index]!.status === 'fulfilled'));
    const failure = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
    if (failure) {
      if (isSignedOut(failure.reason)) signedOut.current();
      else setDeleteError(messageOf(failure.reason));
    }
    setBulkBusy(false);
    setConfirmBulk(false);
    focusHeading();
  };

  return (
    <Page
      title="Gallery"
      actions={
        <div class="gallery-actions">
          <input
            type="search"
            class="input search"
            aria-label="Search by name"
            placeholder="Search by name"
            maxLength={100}
            value={typed}
            onInput={(event) => setTyped(event.currentTarget.value)}
          />
          {uploadButton}
        </div>
      }
    >
      {uploadPanel}
      {deleteError && (
        <p class="banner error" role="alert">
          {deleteError}
        </p>
      )}
      {selected.size > 0 && (
        <div class="selection-bar" role="region" aria-label="Selection">
          <span aria-live="polite">{selected.size === 1 ? '1 upload selected' : `${selected.size} uploads selected`}</span>
          <button type="button" class="button small" onClick={() => setSelected(new Set())}>
            Clear selection
          </button>
          <button type="button" class="button small danger" onClick={() => setConfirmBulk(true)}>
            Delete selected
          </button>
        </div>
      )}
      {uploads.length === 0 && done ? (
        q ? (
          <div class="empty">
            <p>No uploads have “{q}” in their name.</p>
          </div>
        ) : (
          <div class="empty">
            <p>No uploads yet.</p>
            <p class="muted">
              Drop images anywhere on this page, paste a screenshot, or press Upload. Or upload with ShareX, Flameshot, the CLI or curl,
              using a key from{' '}
              <a href="/keys" onClick={followLink}>
                API keys
              </a>
              .
            </p>
          </div>
        )
      ) : (
        <ul class="grid" aria-label={q ? `Your uploads named like “${q}”, newest first` : 'Your uploads, newest first'}>
          {uploads.map((upload) => (
            <li key={upload.id} class={selected.has(upload.id) ? 'tile selected' : 'tile'}>
              <a
                href={upload.url}
                title={upload.name}
                onClick={(event) => {
                  // A plain click (or Enter) opens the detail over the grid; Ctrl/middle click opens the share page.
                  if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
                  event.preventDefault();
                  open(upload.id);
                }}
              >
                <img src={upload.thumbnail_url} alt={upload.name} loading="lazy" decoding="async" />
              </a>
              <input
                type="checkbox"
                class="tile-check"
                aria-label={`Select ${upload.name}`}
                checked={selected.has(upload.id)}
                onChange={() => toggle(upload.id)}
              />
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
      {openId && (
        <UploadDetail
          key={openId}
          id={openId}
          known={uploads.find((upload) => upload.id === openId)}
          onClose={close}
          onDeleted={(id) => {
            forget([id]);
            focusAfterClose.current = true;
            close();
          }}
          onSignedOut={() => signedOut.current()}
        />
      )}
      {confirmBulk && (
        <ConfirmDialog
          title={selected.size === 1 ? 'Delete 1 upload?' : `Delete ${selected.size} uploads?`}
          confirmLabel="Delete"
          busy={bulkBusy}
          onConfirm={() => void deleteSelected()}
          onCancel={() => setConfirmBulk(false)}
        >
          <p>They will be gone for good: their links will answer “410 Gone”, also where they were already shared.</p>
        </ConfirmDialog>
      )}
    </Page>
  );
}
