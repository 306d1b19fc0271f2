/**
 * The browser build: inputs are Blobs, Files and byte arrays; the body is one Blob, so the
 * browser knows its length. Upload progress comes from XMLHttpRequest, because fetch cannot
 * report how much of a request body went out (over HTTP/1.1 it cannot stream one at all).
 */
import { Client, type PreparedUpload, type UploadFile } from './client.js';
import { closing, contentTypeFor, DEFAULT_NAME, DEFAULT_TYPE, newBoundary, PART_END, partHead } from './multipart.js';
import type { UploadProgress } from './types.js';

export type BrowserSource = Blob | Uint8Array;

function viaXhr(
  url: string,
  init: Parameters<PreparedUpload['send']>[2],
  body: Blob,
  onProgress: (progress: UploadProgress) => void,
): Promise<Response> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    const total = body.size;
    let last = -1;
    const report = (loaded: number) => {
      if (loaded === last) return;
      last = loaded;
      onProgress({ loaded, total });
    };
    const abort = () => xhr.abort();
    init.signal?.addEventListener('abort', abort, { once: true });
    const settle = () => init.signal?.removeEventListener('abort', abort);
    xhr.open(init.method, url);
    for (const [name, value] of Object.entries(init.headers)) xhr.setRequestHeader(name, value);
    xhr.withCredentials = init.credentials === 'include';
    xhr.upload.onprogress = (event) => report(event.loaded);
    xhr.upload.onload = () => report(total);
    xhr.onload = () => {
      settle();
      const headers = new Headers();
      for (const line of xhr
        .getAllResponseHeaders()
        .trim()
        .split(/[\r\n]+/)) {
        const at = line.indexOf(':');
        if (at > 0) headers.append(line.slice(0, at).trim(), line.slice(at + 1).trim());
      }
      report(total);
      resolve(new Response(xhr.status === 204 ? null : xhr.responseText, { status: xhr.status, statusText: xhr.statusText, headers }));
    };
    // Same as fetch: a TypeError when no answer came, the signal's reason when aborted.
    xhr.onerror = xhr.ontimeout = () => {
      settle();
      reject(new TypeError('Network request failed'));
    };
    xhr.onabort = () => {
      settle();
      reject((init.signal?.reason as Error | undefined) ?? new DOMException('The upload was aborted', 'AbortError'));
    };
    xhr.send(body);
  });
}

/** A Blob of the whole multipart body; sent with XMLHttpRequest when progress is asked for. */
export function blobUpload(files: UploadFile<Blob | Uint8Array>[]): PreparedUpload {
  const boundary = newBoundary();
  const parts: BlobPart[] = [];
  for (const { data, name, type } of files) {
    const blob = data instanceof Blob ? data : undefined;
    const fileName = name ?? (blob && 'name' in blob && typeof blob.name === 'string' && blob.name ? blob.name : DEFAULT_NAME);
    parts.push(partHead(boundary, { name: fileName, type: type ?? (blob?.type || DEFAULT_TYPE) }), data as BlobPart, PART_END);
  }
  parts.push(closing(boundary));
  const body = new Blob(parts);
  return {
    replayable: true,
    async send(fetchImpl, url, init, onProgress) {
      const headers = { ...init.headers, 'content-type': contentTypeFor(boundary) };
      if (onProgress && typeof XMLHttpRequest === 'function') return viaXhr(url, { ...init, headers }, body, onProgress);
      onProgress?.({ loaded: 0, total: body.size });
      const response = await fetchImpl(url, { ...init, headers, body });
      onProgress?.({ loaded: body.size, total: body.size });
      return response;
    },
  };
}

/**
 * A client of a Discord Images server, for browsers.
 * @example
 * const di = new DiscordImages({ baseUrl: location.origin });
 * await di.auth.login(username, password);
 * const [upload] = await di.upload(fileInput.files[0], { onProgress: ({ loaded, total }) => bar.value = loaded / total });
 */
export class DiscordImages extends Client<BrowserSource> {
  protected override async prepareUpload(files: UploadFile<BrowserSource>[]): Promise<PreparedUpload> {
    return blobUpload(files);
  }
}

export * from './shared.js';
