/**
 * The SDK (@discord-images/sdk, its Node build as published in packages/sdk/dist) against the
 * real server on a real port: uploads of every input kind with progress, listing across
 * pages, deleting, the typed errors, retries after 429, a server that is down, and an abort
 * that leaves nothing behind. The `fetch` option is used only to watch the real requests
 * (their headers, how many) or to add a second real client; every answer is the server's.
 */
import { createReadStream } from 'node:fs';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { type AdminUser, ApiError, DiscordImages, NetworkError, type Upload, type UploadProgress } from '@discord-images/sdk';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../server/test/helpers/temp-dir.js';
import { freePort, register, type RunningServer, startServer, until } from './helpers/server.js';
import { pngImage } from './helpers/uploads.js';

const MAX_FILE_SIZE = 1024 * 1024;

/** A PNG of noise, which does not compress: about 3 bytes per pixel. */
const noisePng = (width: number, height: number): Promise<Buffer> =>
  sharp({ create: { width, height, channels: 3, background: '#808080', noise: { type: 'gaussian', mean: 128, sigma: 60 } } })
    .png()
    .toBuffer();

interface Seen {
  method: string;
  url: string;
  status: number;
  at: number;
  headers: Record<string, string>;
  retryAfter: string | null;
}

/** The global fetch, recording each request the SDK makes and its answer's status. */
function watchedFetch(before?: () => Promise<void>): { fetch: typeof fetch; seen: Seen[] } {
  const seen: Seen[] = [];
  const watched: typeof fetch = async (input, init) => {
    await before?.();
    const response = await fetch(input, init);
    seen.push({
      method: init?.method ?? 'GET',
      url: input instanceof Request ? input.url : input.toString(),
      status: response.status,
      at: performance.now(),
      headers: { ...(init?.headers as Record<string, string>) },
      retryAfter: response.headers.get('retry-after'),
    });
    return response;
  };
  return { fetch: watched, seen };
}

async function expectApiError(promise: Promise<unknown>, status: number, code: string): Promise<ApiError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(ApiError);
  const apiError = error as ApiError;
  expect({ status: apiError.status, code: apiError.code }).toEqual({ status, code });
  expect(apiError.message.length).toBeGreaterThan(10);
  expect(apiError.requestId).toMatch(/\S+/);
  return apiError;
}

describe('the SDK against a real server', () => {
  let server: RunningServer;
  let dataDir: string;
  let files: string;
  let png: Buffer;
  /** The key of the server's first account, its admin. */
  let adminToken: string;

  beforeAll(async () => {
    dataDir = await tempDir();
    files = await tempDir('di-sdk-files-');
    [server, png] = await Promise.all([
      startServer({ DATA_DIR: dataDir, MAX_FILE_SIZE: String(MAX_FILE_SIZE) }),
      pngImage(64, 48, [30, 60, 90], [200, 30, 30]),
    ]);
    adminToken = await register(server.url);
  }, 120_000);
  afterAll(async () => {
    await server?.stop('SIGKILL');
  });

  const client = async (options: { fetch?: typeof fetch } = {}) =>
    new DiscordImages({ baseUrl: server.url, token: await register(server.url), ...options });

  it('uploads several files in one request, with progress from 0 to the Content-Length it sent', async () => {
    const images = await Promise.all([noisePng(200, 150), noisePng(300, 200), noisePng(120, 90)]);
    const { fetch, seen } = watchedFetch();
    const di = await client({ fetch });
    const events: UploadProgress[] = [];
    const uploads = await di.upload(
      images.map((bytes, i) => ({ data: bytes, name: `shot-${i}.png` })),
      { onProgress: (progress) => events.push(progress) },
    );

    expect(uploads.map((upload) => [upload.name, upload.size, upload.width])).toEqual([
      ['shot-0.png', images[0].length, 200],
      ['shot-1.png', images[1].length, 300],
      ['shot-2.png', images[2].length, 120],
    ]);
    expect(seen).toHaveLength(1);
    const contentLength = Number(seen[0]!.headers['content-length']);
    const imageBytes = images.reduce((sum, bytes) => sum + bytes.length, 0);
    expect(contentLength).toBeGreaterThan(imageBytes);
    expect(contentLength).toBeLessThan(imageBytes + 1000);
    // Several steps for ~400 KB, rising, all against the same total, the last at the total.
    expect(events.length).toBeGreaterThan(5);
    expect(events.every((event) => event.total === contentLength)).toBe(true);
    expect(events.every((event, i) => i === 0 || event.loaded > events[i - 1]!.loaded)).toBe(true);
    expect(events.at(-1)!.loaded).toBe(contentLength);
  });

  it('takes every input kind: path, Buffer, Uint8Array, Blob, File, Readable, a file stream, and { data, name, type, size }', async () => {
    const path = join(files, 'from-disk.png');
    await writeFile(path, png);
    const di = await client();
    const events: UploadProgress[] = [];
    const uploads = await di.upload(
      [
        path,
        png,
        new Uint8Array(png),
        new Blob([new Uint8Array(png)], { type: 'image/png' }),
        new File([new Uint8Array(png)], 'a "quoted" café.png', { type: 'image/png' }),
        Readable.from([png.subarray(0, 100), png.subarray(100)]),
        createReadStream(path),
        { data: Readable.from([png]), name: 'stream.png', type: 'image/png', size: png.length },
        { data: png, name: 'bytes.png' },
      ],
      { onProgress: (progress) => events.push(progress) },
    );
    expect(uploads.map((upload) => upload.name)).toEqual([
      'from-disk.png',
      'image',
      'image',
      'image',
      'a "quoted" café.png',
      'image',
      'from-disk.png',
      'stream.png',
      'bytes.png',
    ]);
    expect(new Set(uploads.map((upload) => upload.sha256)).size).toBe(1);
    expect(uploads.every((upload) => upload.mime === 'image/png' && upload.width === 64 && upload.height === 48)).toBe(true);
    // One Readable has no size: the total is unknown until the last byte, then exact.
    expect(events.slice(0, -1).every((event) => event.total === undefined)).toBe(true);
    expect(events.at(-1)!.total).toBe(events.at(-1)!.loaded);

    await expect(di.upload(files)).rejects.toThrow(`${files} is not a file`);
  });

  it('iterates 250 uploads across pages by following Link: rel="next"', async () => {
    const { fetch, seen } = watchedFetch();
    const di = await client({ fetch });
    const uploaded: Upload[] = [];
    for (let left = 250; left > 0; left -= 20) uploaded.push(...(await di.upload(Array.from({ length: Math.min(20, left) }, () => png))));
    expect(uploaded).toHaveLength(250);

    const listed: Upload[] = [];
    for await (const upload of di.uploads.list({ limit: 100 })) listed.push(upload);
    expect(listed.map((upload) => upload.id).sort()).toEqual(uploaded.map((upload) => upload.id).sort());
    expect(new Set(listed.map((upload) => upload.id)).size).toBe(250);
    const pages = seen.filter((request) => request.url.includes('/api/uploads?'));
    expect(pages.map((request) => new URL(request.url).searchParams.get('limit'))).toEqual(['100', '100', '100']);
    expect(pages.slice(1).every((request) => new URL(request.url).searchParams.get('before'))).toBe(true);
  }, 120_000);

  it('gets and deletes an upload, whose id then answers 410 UPLOAD_GONE', async () => {
    const di = await client();
    const [upload] = await di.upload(png);
    expect(await di.uploads.get(upload!.id)).toEqual(upload);
    await di.uploads.delete(upload!.id);
    await expectApiError(di.uploads.get(upload!.id), 410, 'UPLOAD_GONE');
    await expectApiError(di.uploads.delete(upload!.id), 410, 'UPLOAD_GONE');
    expect((await fetch(upload!.raw_url)).status).toBe(410);
  });

  it('administers accounts: lists them across pages, changes quota and access, deletes one with its uploads, counts usage', async () => {
    const { fetch, seen } = watchedFetch();
    const admin = new DiscordImages({ baseUrl: server.url, token: adminToken, fetch });
    const self = await admin.me();
    const di = await client();
    const account = await di.me();
    const [upload] = await di.upload(png);

    const listed: AdminUser[] = [];
    for await (const user of admin.admin.users.list({ limit: 2 })) listed.push(user);
    expect(listed.find((user) => user.id === account.id)).toEqual({
      id: account.id,
      username: account.username,
      role: 'user',
      quota_bytes: null,
      disabled: false,
      created_at: account.created_at,
      usage: { bytes: upload!.size, files: 1 },
    });
    expect(listed.at(-1)).toMatchObject({ id: self.id, role: 'admin' });
    expect(new Set(listed.map((user) => user.id)).size).toBe(listed.length);
    const pages = seen.filter((request) => request.url.includes('/api/admin/users?'));
    expect(pages.length).toBe(Math.ceil(listed.length / 2));
    expect(pages.slice(1).every((request) => new URL(request.url).searchParams.get('before'))).toBe(true);

    expect(await admin.admin.users.update(account.id, { disabled: true, quota_bytes: upload!.size })).toMatchObject({
      disabled: true,
      quota_bytes: upload!.size,
    });
    await expectApiError(di.me(), 403, 'ACCOUNT_DISABLED');
    await admin.admin.users.update(account.id, { disabled: false });
    await expectApiError(di.upload(await noisePng(8, 8)), 413, 'QUOTA_EXCEEDED');
    await expectApiError(di.admin.stats(), 403, 'FORBIDDEN');
    await expectApiError(admin.admin.users.update(self.id, { role: 'user' }), 409, 'SELF_CHANGE_REFUSED');
    await expectApiError(admin.admin.users.delete(self.id), 409, 'SELF_CHANGE_REFUSED');

    const before = await admin.admin.stats();
    expect(before.days).toHaveLength(30);
    expect(before.days.at(-1)!.date).toBe(new Date().toISOString().slice(0, 10));
    await admin.admin.users.delete(account.id);
    const after = await admin.admin.stats();
    expect(after.users).toBe(before.users - 1);
    expect(after.uploads).toBe(before.uploads - 1);
    expect((await globalThis.fetch(upload!.raw_url)).status).toBe(410);
    await expectApiError(di.me(), 401, 'UNAUTHORIZED');
    await expectApiError(admin.admin.users.delete(account.id), 404, 'NOT_FOUND');
  });

  it('throws 401, 413 and 415 as a typed ApiError with the code, message and request id', async () => {
    const bad = new DiscordImages({ baseUrl: server.url, token: 'di_wrong' });
    await expectApiError(bad.me(), 401, 'UNAUTHORIZED');
    await expectApiError(bad.upload(png), 401, 'UNAUTHORIZED');

    const di = await client();
    const big = Buffer.concat([png.subarray(0, 33), Buffer.alloc(MAX_FILE_SIZE + 1)]);
    const tooLarge = await expectApiError(di.upload([png, { data: big, name: 'huge.png' }]), 413, 'PAYLOAD_TOO_LARGE');
    expect(tooLarge.message).toContain('huge.png');
    const notImage = await expectApiError(
      di.upload([png, { data: Buffer.from('hello'), name: 'notes.txt' }]),
      415,
      'UNSUPPORTED_MEDIA_TYPE',
    );
    expect(notImage.message).toContain('notes.txt');
    // All or nothing: the good image of each refused request was not kept.
    const left: Upload[] = [];
    for await (const upload of di.uploads.list()) left.push(upload);
    expect(left).toEqual([]);
  });

  it('sends the embed fields as UTF-8 x-embed-* headers', async () => {
    const di = await client();
    const [upload] = await di.upload(png, { embed: { title: 'Café ☕ {file.name}', color: '#ff0000' } });
    const preview = await di.embed.preview(upload!.id);
    expect(preview.tags).toContainEqual({ attribute: 'property', key: 'og:title', content: 'Café ☕ image' });
    expect(preview.tags).toContainEqual({ attribute: 'name', key: 'theme-color', content: '#ff0000' });
  });

  it('covers the account calls: me, keys, embed settings, oEmbed', async () => {
    const di = await client();
    const me = await di.me();
    expect(me.usage).toEqual({ bytes: 0, files: 0 });
    const { key, token } = await di.keys.create('laptop');
    expect((await new DiscordImages({ baseUrl: server.url, token }).me()).id).toBe(me.id);
    expect((await di.keys.list()).map((listed) => listed.id)).toContain(key.id);
    await di.keys.revoke(key.id);
    await expectApiError(new DiscordImages({ baseUrl: server.url, token }).me(), 401, 'UNAUTHORIZED');

    const settings = await di.embed.update({ title: 'My {file.name}' });
    expect(settings.settings.title).toBe('My {file.name}');
    expect((await di.embed.get()).effective.title).toBe('My {file.name}');
    const [upload] = await di.upload({ data: png, name: 'x.png' });
    expect((await di.oembed(upload!.url)).title).toBe('My x.png');
  });

  it('signs in with a session and sends the CSRF token it learned on changes', async () => {
    const username = `s${Math.random().toString(36).slice(2, 10)}`;
    const anonymous = new DiscordImages({ baseUrl: server.url });
    await anonymous.auth.register(username, 'correct horse battery');
    // Node's fetch keeps no cookies: carry the session cookie by hand, as a browser would.
    const login = await fetch(`${server.url}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username, password: 'correct horse battery' }),
    });
    const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
    const withoutCsrf = new DiscordImages({ baseUrl: server.url, headers: { cookie } });
    await expectApiError(withoutCsrf.keys.create('x'), 403, 'CSRF_INVALID');
    expect((await withoutCsrf.me()).csrf_token).toBeTruthy();
    expect((await withoutCsrf.keys.create('learned from me()')).key.name).toBe('learned from me()');
  });

  it('throws NetworkError, not ApiError, when nothing answers', async () => {
    const down = new DiscordImages({ baseUrl: `http://127.0.0.1:${await freePort()}`, token: 'di_x' });
    for (const call of [down.me(), down.upload(png), down.upload(Readable.from([png]))]) {
      const error = await call.then(
        () => undefined,
        (reason: unknown) => reason,
      );
      expect(error).toBeInstanceOf(NetworkError);
      expect((error as NetworkError).message).toContain('ECONNREFUSED');
      expect((error as NetworkError).cause).toBeDefined();
    }
  });

  it('aborts mid-upload: the call rejects with the abort, and the server keeps nothing', async () => {
    const di = await client();
    const controller = new AbortController();
    const tmp = join(dataDir, 'tmp');
    await mkdir(tmp, { recursive: true });
    let sent = 0;
    // A stream that sends 256 KiB of a "PNG" and then waits for more that never comes.
    async function* slowBody() {
      yield Buffer.concat([png.subarray(0, 33), Buffer.alloc(256 * 1024)]);
      await new Promise(() => {});
    }
    const upload = di.upload([png, { data: Readable.from(slowBody()), name: 'partial.png' }], {
      signal: controller.signal,
      onProgress: ({ loaded }) => (sent = loaded),
    });
    const outcome = upload.then(
      () => 'resolved',
      (reason: unknown) => reason,
    );
    await until(async () => sent > 256 * 1024 && (await readdir(tmp)).length > 0, 15_000, 'the partial upload to reach the server');
    controller.abort();
    const error = await outcome;
    expect(error).toBeInstanceOf(DOMException);
    expect((error as DOMException).name).toBe('AbortError');
    await until(async () => (await readdir(tmp)).length === 0, 15_000, 'the temp files to go');
    const left: Upload[] = [];
    for await (const listed of di.uploads.list()) left.push(listed);
    expect(left).toEqual([]);
  });
});

describe('the SDK and accounts on a server with REGISTRATION=invite', () => {
  const PASSWORD = 'correct horse battery';
  let server: RunningServer;
  let admin: DiscordImages;

  beforeAll(async () => {
    server = await startServer({ DATA_DIR: await tempDir(), REGISTRATION: 'invite' });
    // The first account needs no invite, and is the admin.
    const { token, user } = await new DiscordImages({ baseUrl: server.url }).auth.register('root', PASSWORD);
    expect(user.role).toBe('admin');
    admin = new DiscordImages({ baseUrl: server.url, token });
  }, 120_000);
  afterAll(async () => {
    await server?.stop('SIGKILL');
  });

  const username = () => `u${Math.random().toString(36).slice(2, 10)}`;
  /** A new account made with an invite of its own; its client uses the first key. */
  const invited = async () => {
    const name = username();
    const { code } = await admin.admin.invites.create();
    const { token } = await new DiscordImages({ baseUrl: server.url }).auth.register(name, PASSWORD, { invite: code });
    return { name, di: new DiscordImages({ baseUrl: server.url, token }) };
  };
  /** A signed-in session of `name`: Node's fetch keeps no cookies, so the cookie is carried by hand. */
  const session = async (name: string, password = PASSWORD) => {
    const login = await fetch(`${server.url}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: name, password }),
    });
    expect(login.status).toBe(200);
    return new DiscordImages({ baseUrl: server.url, headers: { cookie: login.headers.get('set-cookie')!.split(';')[0]! } });
  };

  it('creates, lists and revokes invites; sign-up takes the code, and says when one is missing or spent', async () => {
    const anonymous = new DiscordImages({ baseUrl: server.url });
    expect(await anonymous.auth.registration()).toBe('invite');
    const invite = await admin.admin.invites.create({ max_uses: 2, expires_in_days: null });
    expect(invite).toMatchObject({ max_uses: 2, uses: 0, expires_at: null, created_by: 'root' });
    expect((await admin.admin.invites.list())[0]).toEqual(invite);

    await expectApiError(anonymous.auth.register(username(), PASSWORD), 403, 'INVITE_REQUIRED');
    await expectApiError(anonymous.auth.register(username(), PASSWORD, { invite: 'no-such-code' }), 403, 'INVITE_INVALID');
    const { user } = await anonymous.auth.register(username(), PASSWORD, { invite: invite.code });
    expect(user.role).toBe('user');
    expect((await admin.admin.invites.list()).find((listed) => listed.id === invite.id)?.uses).toBe(1);

    await admin.admin.invites.revoke(invite.id);
    await expectApiError(anonymous.auth.register(username(), PASSWORD, { invite: invite.code }), 403, 'INVITE_INVALID');
    await expectApiError(admin.admin.invites.revoke(invite.id), 404, 'INVITE_NOT_FOUND');
    const { di } = await invited();
    await expectApiError(di.admin.invites.list(), 403, 'FORBIDDEN');
    await expectApiError(di.admin.invites.create(), 403, 'FORBIDDEN');
  });

  it('changes the password from a session, which stays while the others end; then signs out everywhere', async () => {
    const { name, di: withKey } = await invited();
    const mine = await session(name);
    const other = await session(name);
    await mine.me(); // learns the CSRF token the change needs
    await expectApiError(mine.changePassword('not my password', 'a much newer password'), 403, 'WRONG_PASSWORD');
    await mine.changePassword(PASSWORD, 'a much newer password');
    expect((await mine.me()).username).toBe(name);
    await expectApiError(other.me(), 401, 'UNAUTHORIZED');
    await expectApiError(new DiscordImages({ baseUrl: server.url }).auth.login(name, PASSWORD), 401, 'INVALID_CREDENTIALS');

    const third = await session(name, 'a much newer password');
    await mine.auth.logoutEverywhere();
    await expectApiError(mine.me(), 401, 'UNAUTHORIZED');
    await expectApiError(third.me(), 401, 'UNAUTHORIZED');
    expect((await withKey.me()).username).toBe(name);
  });

  it('searches uploads by name across pages, the Link keeping q', async () => {
    const { di } = await invited();
    const png = await pngImage(8, 8, [10, 20, 30]);
    const names = ['Holiday 1.png', 'work.png', 'holiday 2.png', 'HOLIDAY 3.png', 'other.png'];
    for (const name of names) await di.upload({ data: png, name });
    const { fetch, seen } = watchedFetch();
    const search = new DiscordImages({ baseUrl: server.url, token: (await di.keys.create('search')).token, fetch });
    const found: string[] = [];
    for await (const upload of search.uploads.list({ q: 'holiday', limit: 2 })) found.push(upload.name);
    expect(found).toEqual(['HOLIDAY 3.png', 'holiday 2.png', 'Holiday 1.png']);
    expect(seen.map((request) => new URL(request.url).searchParams.get('q'))).toEqual(['holiday', 'holiday']);
    const all: string[] = [];
    for await (const upload of search.uploads.list({ q: '' })) all.push(upload.name);
    expect(all).toHaveLength(names.length);
  });
});

describe('the SDK and rate limits (429)', () => {
  let server: RunningServer;

  beforeAll(async () => {
    // One request per account every 2 s: the next one is refused with a Retry-After of 1-2 s.
    server = await startServer({ DATA_DIR: await tempDir(), RATE_LIMIT: 'on', RATE_LIMIT_ACCOUNT: '1/2s' });
  }, 120_000);
  afterAll(async () => {
    await server?.stop('SIGKILL');
  });

  it('waits the Retry-After of a 429 and tries again', async () => {
    const token = await register(server.url);
    const { fetch, seen } = watchedFetch();
    const di = new DiscordImages({ baseUrl: server.url, token, fetch });
    await di.me();
    const png = await pngImage(8, 8, [0, 0, 0]);
    const [upload] = await di.upload(png);
    expect(upload!.size).toBe(png.length);
    const [, refused, accepted] = seen;
    expect([refused!.status, accepted!.status]).toEqual([429, 201]);
    expect(accepted!.at - refused!.at).toBeGreaterThanOrEqual(Number(refused!.retryAfter) * 1000 - 50);
  });

  it('gives up after `attempts` refusals, with the last 429 as an ApiError carrying retryAfter', async () => {
    const token = await register(server.url);
    // A second real client of the same account spends the one request of each window first.
    const { fetch, seen } = watchedFetch(async () => {
      await globalThis.fetch(`${server.url}/api/me`, { headers: { token } });
    });
    const di = new DiscordImages({ baseUrl: server.url, token, fetch, retry: { attempts: 3 } });
    const began = performance.now();
    const error = await expectApiError(di.me(), 429, 'RATE_LIMITED');
    expect(error.retryAfter).toBeGreaterThanOrEqual(1);
    expect(seen.map((request) => request.status)).toEqual([429, 429, 429]);
    const waited = seen[1]!.at - seen[0]!.at + (seen[2]!.at - seen[1]!.at);
    expect(waited).toBeGreaterThanOrEqual((Number(seen[0]!.retryAfter) + Number(seen[1]!.retryAfter)) * 1000 - 100);
    expect(performance.now() - began).toBeLessThan(10_000);
  });

  it('does not wait longer than maxWaitMs, and never sends a stream twice', async () => {
    const token = await register(server.url);
    const { fetch, seen } = watchedFetch();
    const di = new DiscordImages({ baseUrl: server.url, token, fetch, retry: { maxWaitMs: 500 } });
    await di.me();
    const began = performance.now();
    await expectApiError(di.me(), 429, 'RATE_LIMITED');
    expect(performance.now() - began).toBeLessThan(500);

    const streaming = new DiscordImages({ baseUrl: server.url, token, fetch });
    const png = await pngImage(8, 8, [0, 0, 0]);
    await expectApiError(streaming.upload(Readable.from([png])), 429, 'RATE_LIMITED');
    expect(seen.map((request) => request.status)).toEqual([200, 429, 429]);
  });
});
