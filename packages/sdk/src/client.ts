/**
 * The client, shared by the Node and browser builds. Each build supplies only how an upload's
 * body is made and sent (`prepareUpload`): a counted stream in Node, a Blob sent through
 * XMLHttpRequest in browsers.
 */
import { apiErrorFrom, NetworkError } from './errors.js';
import type {
  Account,
  AdminStats,
  AdminUser,
  AdminUserPatch,
  ApiKey,
  CreatedKey,
  EmbedFields,
  EmbedPatch,
  EmbedPreview,
  EmbedSettings,
  Invite,
  LoginResult,
  NewInvite,
  OEmbed,
  RegisterResult,
  Registration,
  Upload,
  UploadEmbed,
  UploadProgress,
} from './types.js';

export interface RetryOptions {
  /**
   * Tries in all for a request answered 429 (rate limited) or 503 (maintenance, shutting
   * down); 1 turns retrying off. A streamed upload (a Node stream input) is never retried:
   * its bytes cannot be read twice.
   * @default 3
   */
  attempts?: number;
  /**
   * The longest wait before one retry. An answer whose `Retry-After` asks for more is thrown
   * at once as an ApiError carrying `retryAfter`.
   * @default 60000
   */
  maxWaitMs?: number;
}

export interface DiscordImagesOptions {
  /** The server's address (its PUBLIC_URL), such as `http://localhost:3000`. */
  baseUrl: string;
  /**
   * An API key, sent in the `token` header. Leave it out in a browser page signed in with
   * {@link DiscordImages.auth | auth.login}: the session cookie is used instead.
   */
  token?: string;
  /**
   * The `fetch` to call.
   * @default globalThis.fetch
   */
  fetch?: typeof fetch;
  /** Retrying of 429 and 503 answers after their `Retry-After`. */
  retry?: RetryOptions;
  /**
   * Headers added to every request.
   * @default {}
   */
  headers?: Record<string, string>;
  /**
   * Whether a browser sends the session cookie: `'include'` when the page is on another
   * origin than the server. Ignored by Node.
   * @default undefined (fetch's own default, 'same-origin')
   */
  credentials?: 'omit' | 'same-origin' | 'include';
  /**
   * Sent as `x-csrf-token` on every change (POST, PATCH, DELETE) when signed in with a
   * session cookie. Learned by itself from `auth.login()` and `me()`.
   * @default undefined
   */
  csrfToken?: string;
}

/** One file to upload: the bytes, with an optional name, type and size. */
export interface UploadFile<Source> {
  data: Source;
  /**
   * The file name the upload keeps.
   * @default the file's own name (a path's base name, a File's name), else "image"
   */
  name?: string;
  /**
   * The declared media type. The server reads the type from the bytes whatever this says.
   * @default the Blob's type, else application/octet-stream
   */
  type?: string;
  /**
   * The size in bytes of a stream input. When every input's size is known the request has a
   * Content-Length, so the server refuses a too-large upload before it is sent.
   * @default the size of a Blob, a byte array or a file; unknown for other streams
   */
  size?: number;
}

export type UploadInput<Source> = Source | UploadFile<Source>;

export interface UploadOptions {
  /**
   * Called as the request body goes out, with the bytes sent so far for the whole request;
   * the last call has `loaded === total`. A retried upload starts again from 0.
   */
  onProgress?: (progress: UploadProgress) => void;
  /** Aborts the upload; the server keeps nothing of an upload it did not fully receive. */
  signal?: AbortSignal;
  /** Embed text for these uploads (`x-embed-*` headers); templates work. */
  embed?: UploadEmbed;
}

export interface ListOptions {
  /**
   * Items per request (1-1000); the iterator follows every page whatever this is.
   * @default the server's default, 100
   */
  limit?: number;
  /** Start after this id (upload, or account for `admin.users.list`), newest first. */
  before?: string;
  /**
   * Only uploads whose name contains this text, in any case (1-100 characters; `%` and `_`
   * are plain characters). Empty lists everything.
   * @default undefined (every upload)
   */
  q?: string;
  signal?: AbortSignal;
}

/** Options of `auth.register`. */
export interface RegisterOptions extends CallOptions {
  /** An invite code from an admin: needed when the server's registration is `invite`. */
  invite?: string;
}

/** A request's signal, accepted by every call. */
export interface CallOptions {
  signal?: AbortSignal;
}

/** What a build makes of the inputs: a body that can be sent, perhaps more than once. */
export interface PreparedUpload {
  /** False when an input is a stream, which can be read only once: never retried. */
  replayable: boolean;
  send(
    fetchImpl: typeof fetch,
    url: string,
    init: { method: string; headers: Record<string, string>; signal?: AbortSignal; credentials?: RequestCredentials },
    onProgress?: (progress: UploadProgress) => void,
  ): Promise<Response>;
}

interface RequestOptions {
  query?: Record<string, string | number | undefined>;
  json?: unknown;
  signal?: AbortSignal | undefined;
}

const isUploadFile = <Source>(input: UploadInput<Source>): input is UploadFile<Source> =>
  typeof input === 'object' && input !== null && 'data' in input && !(input instanceof Uint8Array);

/** HTTP header values are bytes: UTF-8 text travels as its bytes, which the server reads back as UTF-8. */
const headerValue = (text: string): string => String.fromCharCode(...new TextEncoder().encode(text.replace(/[\r\n]+/g, ' ')));

/** `Link: <...?limit=100&before=abc>; rel="next"` → its query string. */
const nextQuery = (link: string | null): string | undefined => {
  const match = link && /<([^>]*)>\s*;\s*rel="?next"?/.exec(link);
  return match ? new URL(match[1]!, 'http://x').search : undefined;
};

const sleep = (ms: number, signal: AbortSignal | undefined): Promise<void> =>
  new Promise((resolve, reject) => {
    const done = () => {
      clearTimeout(timer);
      reject(signal!.reason as Error);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', done);
      resolve();
    }, ms);
    signal?.addEventListener('abort', done, { once: true });
  });

export abstract class Client<Source> {
  readonly #baseUrl: string;
  readonly #options: DiscordImagesOptions;
  #csrfToken: string | undefined;

  constructor(options: DiscordImagesOptions) {
    this.#options = options;
    this.#baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.#csrfToken = options.csrfToken;
  }

  /** Makes the request body of an upload (one build per platform). */
  protected abstract prepareUpload(files: UploadFile<Source>[]): Promise<PreparedUpload>;

  /**
   * Uploads one or several files in one request (all or nothing: if the server refuses one,
   * none is kept). Answers the uploads in the order given.
   */
  async upload(inputs: UploadInput<Source> | UploadInput<Source>[], options: UploadOptions = {}): Promise<Upload[]> {
    const list = Array.isArray(inputs) ? inputs : [inputs];
    const files = list.map((input) => (isUploadFile(input) ? input : { data: input }));
    options.signal?.throwIfAborted();
    const prepared = await this.prepareUpload(files);
    const headers = this.#headers('POST');
    for (const [key, value] of Object.entries(options.embed ?? {})) {
      if (value !== undefined) headers[`x-embed-${key.replace(/_/g, '-')}`] = headerValue(value);
    }
    const init = { method: 'POST', headers, signal: options.signal, ...this.#credentials() };
    const response = await this.#exchange(
      () => prepared.send(this.#fetch, `${this.#baseUrl}/api/upload`, init, options.onProgress),
      prepared.replayable,
      options.signal,
    );
    return ((await response.json()) as { files: Upload[] }).files;
  }

  readonly uploads = {
    /** Every upload of the account, newest first, fetched page by page as it is iterated (follows `Link: rel="next"`). */
    list: (options: ListOptions = {}): AsyncIterableIterator<Upload> => this.#list<Upload>('/api/uploads', options),
    /** One upload; someone else's answers 404. */
    get: (id: string, options?: CallOptions): Promise<Upload> => this.#json('GET', `/api/uploads/${encodeURIComponent(id)}`, options),
    /** Deletes an upload; its URLs then answer 410 Gone. */
    delete: async (id: string, options?: CallOptions): Promise<void> => {
      await this.#request('DELETE', `/api/uploads/${encodeURIComponent(id)}`, options);
    },
  };

  /**
   * Changes the account's password. Its other sessions end (this client's own session, if it
   * uses one, stays); API keys stay valid. A wrong `current` throws ApiError 403 `WRONG_PASSWORD`.
   */
  async changePassword(current: string, next: string, options?: CallOptions): Promise<void> {
    await this.#request('POST', '/api/me/password', { ...options, json: { current_password: current, new_password: next } });
  }

  /** The account: username, role, usage and quota. */
  async me(options?: CallOptions): Promise<Account> {
    const account = await this.#json<Account>('GET', '/api/me', options);
    if (account.csrf_token) this.#csrfToken = account.csrf_token;
    return account;
  }

  readonly keys = {
    /** The account's API keys (never their secrets). */
    list: (options?: CallOptions): Promise<ApiKey[]> => this.#json('GET', '/api/keys', options),
    /** A new API key; its secret (`token`) is shown only in this answer. */
    create: (name: string, options?: CallOptions): Promise<CreatedKey> => this.#json('POST', '/api/keys', { ...options, json: { name } }),
    /** Revokes a key: requests with it then answer 401. */
    revoke: async (id: string, options?: CallOptions): Promise<void> => {
      await this.#request('DELETE', `/api/keys/${encodeURIComponent(id)}`, options);
    },
  };

  readonly embed = {
    /** The account's embed templates, the server defaults under them, and the result. */
    get: (options?: CallOptions): Promise<EmbedSettings> => this.#json('GET', '/api/me/embed', options),
    /** Changes some templates; `null` puts one back to the server default. */
    update: (patch: EmbedPatch, options?: CallOptions): Promise<EmbedSettings> =>
      this.#json('PATCH', '/api/me/embed', { ...options, json: patch }),
    /** Exactly the tags (and oEmbed) the share page of one of the account's uploads emits. */
    preview: (uploadId?: string, options?: CallOptions): Promise<EmbedPreview> =>
      this.#json('GET', '/api/me/embed/preview', { ...options, query: { upload: uploadId } }),
    /** The same with unsaved changes (shaped like `update`'s) over the saved templates: nothing is saved. */
    previewDraft: (uploadId: string, draft: EmbedPatch, options?: CallOptions): Promise<EmbedPreview> =>
      this.#json('POST', '/api/me/embed/preview', { ...options, json: { upload: uploadId, embed: draft } }),
  };

  /** For admins only: anyone else gets ApiError 403 `FORBIDDEN`. */
  readonly admin = {
    users: {
      /** Every account with its usage, newest first, fetched page by page as it is iterated. */
      list: (options: ListOptions = {}): AsyncIterableIterator<AdminUser> => this.#list<AdminUser>('/api/admin/users', options),
      /**
       * Changes an account's role, quota (`null` = unlimited) or access (`disabled`); what the
       * patch leaves out is kept. Your own role and access: ApiError 409 `SELF_CHANGE_REFUSED`.
       */
      update: (id: string, patch: AdminUserPatch, options?: CallOptions): Promise<AdminUser> =>
        this.#json('PATCH', `/api/admin/users/${encodeURIComponent(id)}`, { ...options, json: patch }),
      /** Deletes an account with its keys, sessions and uploads (their URLs then answer 410 Gone); never your own. */
      delete: async (id: string, options?: CallOptions): Promise<void> => {
        await this.#request('DELETE', `/api/admin/users/${encodeURIComponent(id)}`, options);
      },
    },
    /** Accounts, live uploads and their bytes, and uploads per day for the last 30 UTC days. */
    stats: (options?: CallOptions): Promise<AdminStats> => this.#json('GET', '/api/admin/stats', options),
    embed: {
      /** The server-wide embed defaults (admin only). */
      get: (options?: CallOptions): Promise<EmbedFields> => this.#json('GET', '/api/admin/embed', options),
      /** Changes the server-wide defaults (admin only); `null` puts one back to the built-in value. */
      update: (patch: EmbedPatch, options?: CallOptions): Promise<EmbedFields> =>
        this.#json('PATCH', '/api/admin/embed', { ...options, json: patch }),
    },
    invites: {
      /** Every invite, newest first, used-up and expired ones too (admin only). */
      list: (options?: CallOptions): Promise<Invite[]> => this.#json('GET', '/api/admin/invites', options),
      /**
       * A new invite code (admin only): single-use and valid for 7 days unless `max_uses`
       * (1-10000) and `expires_in_days` (1-365, or `null` for never) say otherwise.
       */
      create: (invite: NewInvite = {}, options?: CallOptions): Promise<Invite> =>
        this.#json('POST', '/api/admin/invites', { ...options, json: invite }),
      /** Revokes an invite: its code stops working at once; accounts made with it stay. */
      revoke: async (id: string, options?: CallOptions): Promise<void> => {
        await this.#request('DELETE', `/api/admin/invites/${encodeURIComponent(id)}`, options);
      },
    },
  };

  /** oEmbed for a share link of this server. */
  oembed(url: string, options?: CallOptions): Promise<OEmbed> {
    return this.#json('GET', '/api/oembed', { ...options, query: { url } });
  }

  readonly auth = {
    /**
     * Creates an account (the first one becomes admin) and its first API key, in `token`. A
     * server whose registration is `invite` needs `options.invite`.
     */
    register: (username: string, password: string, { invite, ...options }: RegisterOptions = {}): Promise<RegisterResult> =>
      this.#json('POST', '/api/auth/register', {
        ...options,
        json: invite === undefined ? { username, password } : { username, password, invite },
      }),
    /** Whether a new account can be made now: `open`, `invite` (with a code) or `closed`. */
    registration: async (options?: CallOptions): Promise<Registration> =>
      (await this.#json<{ registration: Registration }>('GET', '/api/auth/registration', options)).registration,
    /** Signs in with a session cookie (browsers); the CSRF token it answers is kept for later changes. */
    login: async (username: string, password: string, options?: CallOptions): Promise<LoginResult> => {
      const result = await this.#json<LoginResult>('POST', '/api/auth/login', { ...options, json: { username, password } });
      this.#csrfToken = result.csrf_token;
      return result;
    },
    /** Ends the session. */
    logout: async (options?: CallOptions): Promise<void> => {
      await this.#request('POST', '/api/auth/logout', options);
      this.#csrfToken = undefined;
    },
    /** Ends every session of the account, this client's included; API keys stay valid. */
    logoutEverywhere: async (options?: CallOptions): Promise<void> => {
      await this.#request('DELETE', '/api/me/sessions', options);
      this.#csrfToken = undefined;
    },
  };

  get #fetch(): typeof fetch {
    return this.#options.fetch ?? globalThis.fetch.bind(globalThis);
  }

  #credentials(): { credentials?: RequestCredentials } {
    return this.#options.credentials ? { credentials: this.#options.credentials } : {};
  }

  #headers(method: string): Record<string, string> {
    const headers: Record<string, string> = { accept: 'application/json', ...this.#options.headers };
    if (this.#options.token) headers.token = this.#options.token;
    if (this.#csrfToken && method !== 'GET') headers['x-csrf-token'] = this.#csrfToken;
    return headers;
  }

  async #request(method: string, path: string, { query, json, signal }: RequestOptions = {}): Promise<Response> {
    const url = new URL(`${this.#baseUrl}${path}`);
    for (const [key, value] of Object.entries(query ?? {})) if (value !== undefined) url.searchParams.set(key, String(value));
    const headers = this.#headers(method);
    if (json !== undefined) headers['content-type'] = 'application/json';
    const init: RequestInit = { method, headers, signal: signal ?? null, ...this.#credentials() };
    if (json !== undefined) init.body = JSON.stringify(json);
    return this.#exchange(() => this.#fetch(url, init), true, signal);
  }

  async #json<T>(method: string, path: string, options?: RequestOptions): Promise<T> {
    return (await (await this.#request(method, path, options)).json()) as T;
  }

  /** Sends, retrying 429 and 503 after their Retry-After when the body can be sent again. */
  async #exchange(send: () => Promise<Response>, replayable: boolean, signal: AbortSignal | undefined): Promise<Response> {
    const attempts = replayable ? Math.max(1, this.#options.retry?.attempts ?? 3) : 1;
    const maxWaitMs = this.#options.retry?.maxWaitMs ?? 60_000;
    for (let attempt = 1; ; attempt++) {
      let response: Response;
      try {
        response = await send();
      } catch (error) {
        if (signal?.aborted) throw signal.reason;
        // fetch fails with a TypeError when no answer came; anything else is the caller's
        // (an unreadable input file, for one) and goes up as it is.
        if (error instanceof TypeError) {
          const cause = (error as { cause?: { message?: string } }).cause;
          throw new NetworkError(`Could not reach ${this.#baseUrl}: ${cause?.message ?? error.message}`, { cause: error });
        }
        throw error;
      }
      if (response.ok) return response;
      const error = await apiErrorFrom(response);
      const waitMs = (error.retryAfter ?? 1) * 1000;
      if ((error.status !== 429 && error.status !== 503) || attempt >= attempts || waitMs > maxWaitMs) throw error;
      await sleep(waitMs, signal);
    }
  }

  /** The items of a keyset-paged list, newest first, following its `Link: rel="next"` pages. */
  async *#list<T>(path: string, { limit, before, q, signal }: ListOptions): AsyncGenerator<T, void, undefined> {
    let query: Record<string, string | number | undefined> | undefined = { limit, before, q: q || undefined };
    while (query) {
      const response = await this.#request('GET', path, { query, signal });
      const page = (await response.json()) as T[];
      // Only the cursor is taken from the link: the request stays on baseUrl, which may
      // differ from the server's PUBLIC_URL (a proxy), and the key goes nowhere else.
      const next = nextQuery(response.headers.get('link'));
      query = next === undefined ? undefined : Object.fromEntries(new URLSearchParams(next));
      yield* page;
    }
  }
}
