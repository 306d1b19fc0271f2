import type { Upload } from '@discord-images/sdk';
import type { JSX } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { di, isSignedOut, messageOf } from '../api.js';

/**
 * Files sent at once. One: a file's bandwidth is not shared, so each finishes as early as it
 * can, and they finish in the order the server lists them (its order is the order it stored
 * them in), so the grid, which puts each at the top as it finishes, matches the API's order.
 */
const IN_FLIGHT = 1;

interface Item {
  key: number;
  name: string;
  loaded: number;
  total: number;
  state: 'waiting' | 'sending' | 'done' | 'failed';
  message?: string;
  upload?: Upload;
}

export interface UploaderProps {
  onUploaded: (upload: Upload) => void;
  onSignedOut: () => void;
}

let nextKey = 0;

/**
 * Uploads from the "Upload" button (a file picker), a drop anywhere on the page, or a paste
 * (Ctrl+V of a screenshot). Each file goes in its own request, so that one refused file (too
 * large, not an image, over quota) shows the API's message on that file and the others go on;
 * the server's multi-file request is all or nothing.
 */
export function useUploader({ onUploaded, onSignedOut }: UploaderProps): { button: JSX.Element; panel: JSX.Element | null } {
  const [items, setItems] = useState<Item[]>([]);
  const [dragging, setDragging] = useState(false);
  const picker = useRef<HTMLInputElement>(null);
  const queue = useRef<{ key: number; file: File }[]>([]);
  const active = useRef(0);
  // The latest callbacks, for the window listeners and requests that outlive a render.
  const callbacks = useRef({ onUploaded, onSignedOut });
  callbacks.current = { onUploaded, onSignedOut };

  const update = (key: number, patch: Partial<Item>) =>
    setItems((list) => list.map((item) => (item.key === key ? { ...item, ...patch } : item)));

  const pump = () => {
    while (active.current < IN_FLIGHT && queue.current.length > 0) {
      const { key, file } = queue.current.shift()!;
      active.current += 1;
      update(key, { state: 'sending' });
      di.upload(file, { onProgress: ({ loaded, total }) => update(key, { loaded, total }) })
        .then(
          ([upload]) => {
            update(key, { state: 'done', upload });
            callbacks.current.onUploaded(upload!);
          },
          (failure: unknown) => {
            if (isSignedOut(failure)) callbacks.current.onSignedOut();
            update(key, { state: 'failed', message: messageOf(failure) });
          },
        )
        .finally(() => {
          active.current -= 1;
          pump();
        });
    }
  };

  const add = (files: Iterable<File>) => {
    const added = [...files].map((file) => ({ key: nextKey++, file }));
    if (added.length === 0) return;
    setItems((list) => [
      ...added.map(({ key, file }) => ({ key, name: file.name || 'image', loaded: 0, total: file.size, state: 'waiting' as const })),
      ...list,
    ]);
    queue.current.push(...added);
    pump();
  };
  const adding = useRef(add);
  adding.current = add;

  useEffect(() => {
    // Drag and drop anywhere on the page. dragenter/dragleave fire for every element crossed:
    // a counter tells when the pointer really left the window.
    let depth = 0;
    const carriesFiles = (event: DragEvent) => event.dataTransfer?.types.includes('Files') ?? false;
    const enter = (event: DragEvent) => {
      if (!carriesFiles(event)) return;
      event.preventDefault();
      depth += 1;
      setDragging(true);
    };
    const over = (event: DragEvent) => {
      if (!carriesFiles(event)) return;
      event.preventDefault();
      event.dataTransfer!.dropEffect = 'copy';
    };
    const leave = (event: DragEvent) => {
      if (!carriesFiles(event)) return;
      depth = Math.max(0, depth - 1);
      if (depth === 0) setDragging(false);
    };
    const drop = (event: DragEvent) => {
      if (!carriesFiles(event)) return;
      event.preventDefault();
      depth = 0;
      setDragging(false);
      adding.current(event.dataTransfer!.files);
    };
    // A paste that carries files (a screenshot copied to the clipboard); text pastes into the
    // search box are left alone.
    const paste = (event: ClipboardEvent) => {
      const files = event.clipboardData?.files;
      if (!files || files.length === 0) return;
      event.preventDefault();
      adding.current(files);
    };
    addEventListener('dragenter', enter);
    addEventListener('dragover', over);
    addEventListener('dragleave', leave);
    addEventListener('drop', drop);
    addEventListener('paste', paste);
    return () => {
      removeEventListener('dragenter', enter);
      removeEventListener('dragover', over);
      removeEventListener('dragleave', leave);
      removeEventListener('drop', drop);
      removeEventListener('paste', paste);
    };
  }, []);

  const running = items.some((item) => item.state === 'waiting' || item.state === 'sending');
  const failed = items.filter((item) => item.state === 'failed').length;

  const button = (
    <>
      <input
        ref={picker}
        type="file"
        multiple
        hidden
        onChange={(event) => {
          const input = event.currentTarget;
          add(input.files ?? []);
          // The same file can be chosen again.
          input.value = '';
        }}
      />
      <button type="button" class="button primary" onClick={() => picker.current!.click()}>
        Upload
      </button>
      {dragging && (
        <div class="drop-overlay" aria-hidden="true">
          <p>Drop images to upload</p>
        </div>
      )}
    </>
  );
  const panel =
    items.length === 0 ? null : (
      <section class="panel uploads" aria-labelledby="uploads-title">
        <div class="uploads-head">
          <h2 id="uploads-title">Uploads</h2>
          <span class="muted" aria-live="polite">
            {running ? 'Uploading…' : failed > 0 ? `${items.length - failed} uploaded, ${failed} failed` : `${items.length} uploaded`}
          </span>
          {!running && (
            <button type="button" class="button small" onClick={() => setItems([])}>
              Clear
            </button>
          )}
        </div>
        <ul class="upload-list">
          {items.map((item) => (
            <li key={item.key} class={`upload-item ${item.state}`}>
              <span class="upload-name" title={item.name}>
                {item.name}
              </span>
              <progress value={item.loaded} max={item.total || 1} aria-label={`Upload of ${item.name}`} />
              <span class="upload-state">
                {item.state === 'failed' ? (
                  <span class="upload-error" role="alert">
                    {item.message}
                  </span>
                ) : item.state === 'done' ? (
                  'Uploaded'
                ) : item.state === 'sending' ? (
                  `${Math.floor((100 * item.loaded) / (item.total || 1))}%`
                ) : (
                  'Waiting'
                )}
              </span>
            </li>
          ))}
        </ul>
      </section>
    );
  return { button, panel };
}
