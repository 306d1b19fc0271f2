import type { Upload } from '@discord-images/sdk';
import { useEffect, useRef, useState } from 'preact/hooks';
import { di, isSignedOut, messageOf } from '../api.js';
import { ConfirmDialog } from './confirm-dialog.js';
import { CopyButton } from './copy-button.js';
import { DateText } from './date-text.js';

const number = new Intl.NumberFormat();
const decimal = new Intl.NumberFormat(undefined, { maximumFractionDigits: 1 });

/** 48213 → "48.2 KB": in 1000s, as file managers show sizes (the exact count goes in a title). */
export function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${number.format(bytes)} bytes`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let value = bytes / 1000;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return `${decimal.format(value)} ${units[unit]}`;
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
const escapeMarkdown = (text: string) => text.replace(/[[\]\\]/g, (char) => `\\${char}`);

/** The forms people paste a link in: chat, forums, Markdown, web pages. */
export function linkFormats(upload: Upload): { label: string; copy: string; text: string }[] {
  return [
    { label: 'Share link', copy: 'Copy share link', text: upload.url },
    { label: 'Raw link', copy: 'Copy raw link', text: upload.raw_url },
    { label: 'Markdown', copy: 'Copy Markdown', text: `![${escapeMarkdown(upload.name)}](${upload.raw_url})` },
    { label: 'BBCode', copy: 'Copy BBCode', text: `[img]${upload.raw_url}[/img]` },
    { label: 'HTML', copy: 'Copy HTML', text: `<img src="${escapeHtml(upload.raw_url)}" alt="${escapeHtml(upload.name)}">` },
  ];
}

export interface UploadDetailProps {
  id: string;
  /** The upload when the gallery has it already; otherwise it is fetched by id. */
  known: Upload | undefined;
  onClose: () => void;
  onDeleted: (id: string) => void;
  onSignedOut: () => void;
}

/**
 * One upload over the gallery, in a modal <dialog> (focus stays inside, Escape closes it and
 * the focus goes back to the tile): the image, its facts, its links with copy buttons, delete.
 */
export function UploadDetail({ id, known, onClose, onDeleted, onSignedOut }: UploadDetailProps) {
  const dialog = useRef<HTMLDialogElement>(null);
  const [fetched, setFetched] = useState<Upload | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [confirming, setConfirming] = useState(false);
  const [deleting, setDeleting] = useState(false);
  // Kept after the gallery forgets it (deleted), while the dialog closes.
  const last = useRef(known);
  if (known) last.current = known;
  const upload = known ?? last.current ?? (fetched?.id === id ? fetched : undefined);

  useEffect(() => {
    const element = dialog.current!;
    if (!element.open) element.showModal();
    return () => element.close();
  }, []);

  const missing = upload === undefined;
  useEffect(() => {
    if (!missing) return;
    const controller = new AbortController();
    setError(null);
    di.uploads.get(id, { signal: controller.signal }).then(setFetched, (failure: unknown) => {
      if (controller.signal.aborted) return;
      if (isSignedOut(failure)) onSignedOut();
      else setError(messageOf(failure));
    });
    return () => controller.abort();
  }, [id, missing]);

  const remove = async () => {
    setDeleting(true);
    setError(null);
    try {
      await di.uploads.delete(id);
      setConfirming(false);
      onDeleted(id);
    } catch (failure) {
      setConfirming(false);
      if (isSignedOut(failure)) onSignedOut();
      else setError(messageOf(failure));
    } finally {
      setDeleting(false);
    }
  };

  return (
    <dialog
      ref={dialog}
      class="dialog detail"
      aria-labelledby="detail-title"
      onCancel={(event) => {
        event.preventDefault();
        onClose();
      }}
      onClick={(event) => {
        // A click on the backdrop (outside the box) closes, as in most galleries.
        if (event.target === dialog.current) onClose();
      }}
    >
      <div class="detail-head">
        <h2 id="detail-title" class="detail-title">
          {upload?.name ?? 'Upload'}
        </h2>
        <button type="button" class="button small" onClick={onClose}>
          Close
        </button>
      </div>
      {error && (
        <p class="banner error" role="alert">
          {error}
        </p>
      )}
      {upload ? (
        <div class="detail-body">
          <a class="detail-image" href={upload.raw_url} target="_blank" rel="noopener">
            <img src={upload.raw_url} alt={upload.name} width={upload.width} height={upload.height} />
          </a>
          <div class="detail-side">
            <dl class="facts">
              <div>
                <dt>Size</dt>
                <dd title={`${number.format(upload.size)} bytes`}>{formatBytes(upload.size)}</dd>
              </div>
              <div>
                <dt>Dimensions</dt>
                <dd>
                  {upload.width} × {upload.height}
                </dd>
              </div>
              <div>
                <dt>Type</dt>
                <dd>{upload.mime}</dd>
              </div>
              <div>
                <dt>Uploaded</dt>
                <dd>
                  <DateText iso={upload.created_at} />
                </dd>
              </div>
            </dl>
            <ul class="link-formats">
              {linkFormats(upload).map(({ label, copy, text }, index) => (
                <li key={label} class="field">
                  <label for={`detail-link-${index}`}>{label}</label>
                  <div class="secret-row">
                    <input
                      id={`detail-link-${index}`}
                      class="input mono"
                      readOnly
                      value={text}
                      onFocus={(event) => event.currentTarget.select()}
                    />
                    <CopyButton text={text} label={copy} className="button small" />
                  </div>
                </li>
              ))}
            </ul>
            <div class="detail-actions">
              <a class="button" href={upload.url} target="_blank" rel="noopener">
                Open share page
              </a>
              <button type="button" class="button danger-outline" onClick={() => setConfirming(true)}>
                Delete
              </button>
            </div>
          </div>
        </div>
      ) : (
        !error && <p class="muted loading">Loading…</p>
      )}
      {confirming && upload && (
        <ConfirmDialog
          title="Delete this upload?"
          confirmLabel="Delete upload"
          busy={deleting}
          onConfirm={() => void remove()}
          onCancel={() => setConfirming(false)}
        >
          <p>
            <strong>{upload.name}</strong> will be gone for good: its links will answer “410 Gone”, also where they were already shared.
          </p>
        </ConfirmDialog>
      )}
    </dialog>
  );
}
