import { readdir } from 'node:fs/promises';
import { sql } from 'kysely';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import type { UploadView as Upload } from '../../src/services/upload-links.js';
import { createTestApp, PUBLIC_URL, type TestApp } from '../helpers/app.js';
import { uploadTempDir } from '../../src/storage/data-dir.js';
import { DIALECTS } from '../helpers/database.js';
import { jpeg, png, solidPng } from '../helpers/fixtures.js';
import { multipart } from '../helpers/multipart.js';

describe.each(DIALECTS)('uploads on %s', (dialect) => {
  let t: TestApp;
  let token: string;

  beforeAll(async () => {
    t = await createTestApp(dialect, { MAX_FILES: '5', MAX_FILE_SIZE: '300KB', MAX_PIXELS: '1000000' });
    ({ token } = await t.newUser());
  });

  const upload = async (parts: Parameters<typeof multipart>[0], key = token) => {
    const body = await multipart(parts);
    return t.app.inject({ method: 'POST', url: '/api/upload', headers: { ...body.headers, token: key }, payload: body.payload });
  };
  const list = async (key = token, query = '') => t.app.inject({ method: 'GET', url: `/api/uploads${query}`, headers: { token: key } });
  const tempFiles = () => readdir(uploadTempDir(t.container.config.dataDir));

  it('stores several files[] parts in request order and returns the upload objects', async () => {
    const first = await png(40, 30, 1);
    const second = await jpeg(20, 10, 2);
    const response = await upload([
      { filename: 'first.png', data: first, type: 'image/png' },
      { filename: 'second.jpg', data: second, type: 'image/jpeg' },
    ]);
    expect(response.statusCode).toBe(201);
    const { files } = response.json<{ files: Upload[] }>();
    expect(files.map((f) => [f.name, f.mime, f.width, f.height])).toEqual([
      ['first.png', 'image/png', 40, 30],
      ['second.jpg', 'image/jpeg', 20, 10],
    ]);
    const [file] = files;
    expect(file!.id).toMatch(/^[0-9A-Za-z]{10}$/);
    expect(file!.url).toBe(`${PUBLIC_URL}/${file!.id}`);
    expect(file!.raw_url).toBe(`${PUBLIC_URL}/i/${file!.id}.png`);
    expect(file!.thumbnail_url).toBe(`${PUBLIC_URL}/t/${file!.id}.webp`);
    expect(file!.delete_url).toMatch(new RegExp(`^${PUBLIC_URL}/d/${file!.id}/[A-Za-z0-9_-]{32}$`));
    expect(new Date(file!.created_at).toISOString()).toBe(file!.created_at);

    const raw = await t.app.inject({ method: 'GET', url: `/i/${file!.id}.png` });
    expect(raw.statusCode).toBe(200);
    expect(raw.rawPayload.equals(first)).toBe(true);
    expect(file!.size).toBe(first.length);
  });

  it('accepts `file` as an alias of files[]', async () => {
    const response = await upload([{ field: 'file', filename: 'alias.png', data: await png(8, 8, 3) }]);
    expect(response.statusCode).toBe(201);
    expect(response.json<{ files: Upload[] }>().files).toHaveLength(1);
  });

  it('lists uploads newest first with keyset pagination and a Link header', async () => {
    const { token: own } = await t.newUser();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const response = await upload([{ filename: `n${i}.png`, data: await png(8, 8, 100 + i) }], own);
      ids.push(response.json<{ files: Upload[] }>().files[0]!.id);
    }
    const newestFirst = [...ids].reverse();
    const page1 = await list(own, '?limit=2');
    expect(page1.statusCode).toBe(200);
    expect(page1.json<Upload[]>().map((u) => u.id)).toEqual(newestFirst.slice(0, 2));
    const next = /<([^>]+)>; rel="next"/.exec(page1.headers.link as string)![1]!;
    expect(next.startsWith(`${PUBLIC_URL}/api/uploads?`)).toBe(true);
    const page2 = await list(own, next.slice(`${PUBLIC_URL}/api/uploads`.length));
    expect(page2.json<Upload[]>().map((u) => u.id)).toEqual(newestFirst.slice(2, 4));
    const page3 = await list(own, `?limit=2&before=${newestFirst[3]}`);
    expect(page3.json<Upload[]>().map((u) => u.id)).toEqual(newestFirst.slice(4));
    expect(page3.headers.link).toBeUndefined();
    const all = await list(own);
    expect(all.json<Upload[]>().map((u) => u.id)).toEqual(newestFirst);
  });

  it('searches by name in any case, % and _ taken literally, and pages a search with Link keeping q', async () => {
    const { token: own } = await t.newUser();
    const { token: other } = await t.newUser();
    const names = [
      'Holiday ÄRGER 1.png',
      'holiday ärger 2.png',
      'work 100%.png',
      'work_1.png',
      'workX1.png',
      'HOLIDAY ärger 3.png',
      'notes.png',
    ];
    const ids: Record<string, string> = {};
    for (const [i, name] of names.entries()) {
      const response = await upload([{ filename: name, data: await png(8, 8, 200 + i) }], own);
      ids[name] = response.json<{ files: Upload[] }>().files[0]!.id;
    }
    await upload([{ filename: 'holiday ärger of someone else.png', data: await png(8, 8, 300) }], other);
    const search = async (query: string) => {
      const response = await list(own, query);
      expect(response.statusCode, query).toBe(200);
      return { names: response.json<Upload[]>().map((u) => u.name), link: response.headers.link as string | undefined };
    };
    expect((await search('?q=100%25')).names).toEqual(['work 100%.png']);
    expect((await search('?q=%25')).names).toEqual(['work 100%.png']);
    expect((await search('?q=_1')).names).toEqual(['work_1.png']);
    expect((await search('?q=k_')).names).toEqual(['work_1.png']);
    expect((await search('?q=NOTES')).names).toEqual(['notes.png']);
    expect((await search('?q=nothing%20like%20it')).names).toEqual([]);

    const first = await search(`?q=${encodeURIComponent('holiday ÄrGeR')}&limit=2`);
    expect(first.names).toEqual(['HOLIDAY ärger 3.png', 'holiday ärger 2.png']);
    const next = /<([^>]+)>; rel="next"/.exec(first.link!)![1]!;
    expect(new URL(next).searchParams.get('q')).toBe('holiday ÄrGeR');
    const second = await search(next.slice(`${PUBLIC_URL}/api/uploads`.length));
    expect(second.names).toEqual(['Holiday ÄRGER 1.png']);
    expect(second.link).toBeUndefined();
    expect((await search(`?q=holiday&before=${ids['holiday ärger 2.png']}`)).names).toEqual(['Holiday ÄRGER 1.png']);
  });

  it('answers bad list parameters with 400', async () => {
    for (const query of ['?limit=0', '?limit=1001', '?limit=abc', '?before=nonexistent', '?color=red', '?q=', `?q=${'x'.repeat(101)}`]) {
      const response = await list(token, query);
      expect(response.statusCode, query).toBe(400);
      expect(response.json()).toMatchObject({ statusCode: 400, code: 'VALIDATION_FAILED' });
    }
  });

  it("gets one upload, hides other users' uploads as 404, and deletes with 410 afterwards", async () => {
    const created = (await upload([{ filename: 'del.png', data: await png(12, 12, 7) }])).json<{ files: Upload[] }>().files[0]!;
    const got = await t.app.inject({ method: 'GET', url: `/api/uploads/${created.id}`, headers: { token } });
    expect(got.statusCode).toBe(200);
    expect(got.json()).toEqual(created);

    const { token: other } = await t.newUser();
    for (const method of ['GET', 'DELETE'] as const) {
      const foreign = await t.app.inject({ method, url: `/api/uploads/${created.id}`, headers: { token: other } });
      expect(foreign.statusCode).toBe(404);
      expect(foreign.json().code).toBe('UPLOAD_NOT_FOUND');
    }

    const deleted = await t.app.inject({ method: 'DELETE', url: `/api/uploads/${created.id}`, headers: { token } });
    expect(deleted.statusCode).toBe(204);
    for (const url of [`/i/${created.id}.png`, `/${created.id}`, `/api/uploads/${created.id}`]) {
      const after = await t.app.inject({ method: 'GET', url, headers: { token } });
      expect(after.statusCode, url).toBe(410);
    }
    expect((await list()).json<Upload[]>().some((u) => u.id === created.id)).toBe(false);
    const again = await t.app.inject({ method: 'DELETE', url: `/api/uploads/${created.id}`, headers: { token } });
    expect(again.statusCode).toBe(410);
  });

  it('stores identical bytes once and removes them only when no upload references them', async () => {
    const data = await png(16, 16, 42);
    const a = (await upload([{ filename: 'a.png', data }])).json<{ files: Upload[] }>().files[0]!;
    const b = (await upload([{ filename: 'b.png', data }])).json<{ files: Upload[] }>().files[0]!;
    expect(a.sha256).toBe(b.sha256);
    const key = `${a.sha256.slice(0, 2)}/${a.sha256.slice(2, 4)}/${a.sha256}`;
    expect(await t.container.storage.head(key)).toEqual({ size: data.length });
    await t.app.inject({ method: 'DELETE', url: `/api/uploads/${a.id}`, headers: { token } });
    expect(await t.container.storage.head(key)).toEqual({ size: data.length });
    const stillServed = await t.app.inject({ method: 'GET', url: `/i/${b.id}.png` });
    expect(stillServed.rawPayload.equals(data)).toBe(true);
    await t.app.inject({ method: 'DELETE', url: `/api/uploads/${b.id}`, headers: { token } });
    expect(await t.container.storage.head(key)).toBeUndefined();
  });

  it('deletes through delete_url only on POST, after a confirmation page', async () => {
    const created = (await upload([{ filename: '<img src=x onerror=alert(1)>.png', data: await png(9, 9, 9) }])).json<{ files: Upload[] }>()
      .files[0]!;
    const path = created.delete_url.slice(PUBLIC_URL.length);
    const confirm = await t.app.inject({ method: 'GET', url: path });
    expect(confirm.statusCode).toBe(200);
    expect(confirm.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(confirm.body).toContain('<form method="post">');
    expect(confirm.body).toContain('&lt;img src=x onerror=alert(1)&gt;.png');
    expect((await t.app.inject({ method: 'GET', url: `/i/${created.id}.png` })).statusCode).toBe(200);

    const wrong = await t.app.inject({ method: 'POST', url: `/d/${created.id}/${'x'.repeat(32)}` });
    expect(wrong.statusCode).toBe(404);
    expect((await t.app.inject({ method: 'GET', url: `/i/${created.id}.png` })).statusCode).toBe(200);

    const done = await t.app.inject({ method: 'POST', url: path });
    expect(done.statusCode).toBe(200);
    expect((await t.app.inject({ method: 'GET', url: `/i/${created.id}.png` })).statusCode).toBe(410);
    expect((await t.app.inject({ method: 'GET', url: path })).statusCode).toBe(410);
  });

  describe('bad input: a clear 4xx and nothing stored', () => {
    const expectNothingStored = async (before: number) => {
      expect((await list()).json<Upload[]>().length).toBe(before);
      expect(await tempFiles()).toEqual([]);
    };
    const count = async () => (await list()).json<Upload[]>().length;

    it.each([
      ['no files[] part', async () => multipart([], { title: 'hello' }), 400, 'NO_FILES'],
      ['an empty file', async () => multipart([{ filename: 'empty.png', data: Buffer.alloc(0) }]), 400, 'EMPTY_FILE'],
      [
        'a text file named .png',
        async () => multipart([{ filename: 'notes.png', data: Buffer.from('just some notes\n'.repeat(20)), type: 'image/png' }]),
        415,
        'UNSUPPORTED_MEDIA_TYPE',
      ],
      [
        'a file over MAX_FILE_SIZE',
        async () => multipart([{ filename: 'big.png', data: Buffer.alloc(301_000, 1) }]),
        413,
        'PAYLOAD_TOO_LARGE',
      ],
      [
        'more parts than MAX_FILES',
        async () => multipart(await Promise.all([1, 2, 3, 4, 5, 6].map(async (i) => ({ filename: `${i}.png`, data: await png(4, 4, i) })))),
        400,
        'TOO_MANY_FILES',
      ],
    ])('%s', async (_label, build, status, code) => {
      const before = await count();
      const body = await build();
      const response = await t.app.inject({
        method: 'POST',
        url: '/api/upload',
        headers: { ...body.headers, token },
        payload: body.payload,
      });
      expect(response.statusCode).toBe(status);
      expect(response.json()).toMatchObject({ statusCode: status, code, request_id: expect.any(String) });
      expect(response.json().message).not.toMatch(/\/tmp|\/work|at .*\.ts/);
      await expectNothingStored(before);
    });

    it('names the part that failed and keeps none of the request (all or nothing)', async () => {
      const before = await count();
      const response = await upload([
        { filename: 'good.png', data: await png(10, 10, 11) },
        { filename: 'notes.txt', data: Buffer.from('hello world, not an image at all') },
      ]);
      expect(response.statusCode).toBe(415);
      expect(response.json().message).toMatch(/^files\[1\] \(notes\.txt\) is not a supported image: /);
      await expectNothingStored(before);
    });

    it('refuses a truncated JPEG with 415', async () => {
      const before = await count();
      const whole = await jpeg(200, 150, 5);
      const response = await upload([{ filename: 'cut.jpg', data: whole.subarray(0, Math.floor(whole.length * 0.6)) }]);
      expect(response.statusCode).toBe(415);
      expect(response.json().code).toBe('CORRUPT_IMAGE');
      await expectNothingStored(before);
    });

    it('refuses an image over MAX_PIXELS with 413', async () => {
      const before = await count();
      const response = await upload([{ filename: 'wide.png', data: await solidPng(2000, 600, '#336699') }]);
      expect(response.statusCode).toBe(413);
      expect(response.json().code).toBe('IMAGE_TOO_LARGE');
      await expectNothingStored(before);
    });

    it('refuses a body that is not multipart with 400', async () => {
      const response = await t.app.inject({
        method: 'POST',
        url: '/api/upload',
        headers: { token, 'content-type': 'application/json' },
        payload: '{"files":[]}',
      });
      expect(response.statusCode).toBe(400);
      expect(response.json().code).toBe('MALFORMED_MULTIPART');
    });

    it('refuses a malformed multipart body with 400', async () => {
      const before = await count();
      const payload = Buffer.from('--XX\r\nContent-Disposition: form-data; name="files[]"; filename="a.png"\r\n\r\n\x89PNG partial');
      const response = await t.app.inject({
        method: 'POST',
        url: '/api/upload',
        headers: { token, 'content-type': 'multipart/form-data; boundary=XX' },
        payload,
      });
      expect(response.statusCode).toBe(400);
      expect(response.json().code).toBe('MALFORMED_MULTIPART');
      await expectNothingStored(before);
    });

    it.each([
      ['a boundary longer than busboy can search for', `multipart/form-data; boundary=${'b'.repeat(300)}`],
      ['another multipart type', 'multipart/mixed; boundary=b'],
    ])('refuses %s with 400', async (_, contentType) => {
      const boundary = /boundary="?([^"]*)/.exec(contentType)![1]!;
      const before = await count();
      const response = await t.app.inject({
        method: 'POST',
        url: '/api/upload',
        headers: { token, 'content-type': contentType },
        payload: `--${boundary}\r\nContent-Disposition: form-data; name="files[]"; filename="a.png"\r\n\r\nx\r\n--${boundary}--\r\n`,
      });
      expect({ status: response.statusCode, code: response.json().code }).toEqual({ status: 400, code: 'MALFORMED_MULTIPART' });
      await expectNothingStored(before);
    });

    it('keeps hostile file names readable and harmless', async () => {
      const names = ['../../etc/passwd.png', 'a\u0000b\u0007c.png', `${'x'.repeat(1000)}.png`, 'evil\u202egnp.exe'];
      const response = await upload(await Promise.all(names.map(async (filename, i) => ({ filename, data: await png(4, 4, 200 + i) }))));
      expect(response.statusCode).toBe(201);
      const stored = response.json<{ files: Upload[] }>().files.map((f) => f.name);
      expect(stored[0]).toBe('passwd.png');
      expect(stored[1]).toBe('abc.png');
      expect(Buffer.byteLength(stored[2]!)).toBeLessThanOrEqual(255);
      expect(stored[2]!.endsWith('.png')).toBe(true);
      expect(stored[3]).toBe('evilgnp.exe');
    });
  });

  it('answers 500, not a malformed-body 400, when the database refuses the row, and keeps nothing', async () => {
    // A real refusal by the real database: a trigger that rejects every new upload row.
    const { db } = t.container.database;
    const trigger =
      dialect === 'sqlite'
        ? [sql`create trigger refuse_uploads before insert on upload begin select raise(abort, 'refused by the test'); end`]
        : [
            sql`create function refuse_uploads() returns trigger language plpgsql as $$ begin raise exception 'refused by the test'; end $$`,
            sql`create trigger refuse_uploads before insert on upload for each row execute function refuse_uploads()`,
          ];
    const before = (await list()).json<Upload[]>().length;
    for (const statement of trigger) await statement.execute(db);
    try {
      const response = await upload([{ filename: 'refused.png', data: await png(6, 6, 42) }]);
      expect(response.statusCode).toBe(500);
      expect(response.json()).toMatchObject({ code: 'INTERNAL_ERROR' });
      expect(response.headers['retry-after']).toBe('30');
    } finally {
      await sql`drop trigger refuse_uploads${dialect === 'postgres' ? sql` on upload` : sql``}`.execute(db);
      if (dialect === 'postgres') await sql`drop function refuse_uploads()`.execute(db);
    }
    expect((await list()).json<Upload[]>().length).toBe(before);
    expect(await tempFiles()).toEqual([]);
  });

  it('serves raw bytes with exact headers, ETag/304, ranges and 416', async () => {
    const data = await jpeg(120, 80, 77);
    const created = (await upload([{ filename: 'r.jpg', data }])).json<{ files: Upload[] }>().files[0]!;
    const url = `/i/${created.id}.jpg`;
    const full = await t.app.inject({ method: 'GET', url });
    expect(full.statusCode).toBe(200);
    expect(full.headers).toMatchObject({
      'content-type': 'image/jpeg',
      'content-length': String(data.length),
      etag: `"${created.sha256}"`,
      'cache-control': 'public, max-age=31536000, immutable',
      'x-content-type-options': 'nosniff',
      'content-security-policy': "default-src 'none'; sandbox",
      'accept-ranges': 'bytes',
    });
    expect(full.rawPayload.equals(data)).toBe(true);

    const head = await t.app.inject({ method: 'HEAD', url });
    expect(head.statusCode).toBe(200);
    expect(head.headers['content-length']).toBe(String(data.length));
    expect(head.rawPayload.length).toBe(0);

    const notModified = await t.app.inject({ method: 'GET', url, headers: { 'if-none-match': `"${created.sha256}"` } });
    expect(notModified.statusCode).toBe(304);
    expect(notModified.rawPayload.length).toBe(0);
    expect(notModified.headers.etag).toBe(`"${created.sha256}"`);
    for (const tags of [`W/"${created.sha256}"`, `"other", "${created.sha256}"`, '*']) {
      expect((await t.app.inject({ method: 'GET', url, headers: { 'if-none-match': tags } })).statusCode, tags).toBe(304);
    }
    expect((await t.app.inject({ method: 'GET', url, headers: { 'if-none-match': '"other"' } })).statusCode).toBe(200);

    const partial = await t.app.inject({ method: 'GET', url, headers: { range: 'bytes=10-19' } });
    expect(partial.statusCode).toBe(206);
    expect(partial.headers['content-range']).toBe(`bytes 10-19/${data.length}`);
    expect(partial.rawPayload.equals(data.subarray(10, 20))).toBe(true);

    const suffix = await t.app.inject({ method: 'GET', url, headers: { range: 'bytes=-5' } });
    expect(suffix.rawPayload.equals(data.subarray(data.length - 5))).toBe(true);

    const bad = await t.app.inject({ method: 'GET', url, headers: { range: `bytes=${data.length + 10}-` } });
    expect(bad.statusCode).toBe(416);
    expect(bad.headers['content-range']).toBe(`bytes */${data.length}`);
    expect(bad.headers['cache-control']).toBe('no-store');
    expect(bad.headers.etag).toBeUndefined();

    expect((await t.app.inject({ method: 'GET', url: `/i/${created.id}.png` })).statusCode).toBe(404);
    expect((await t.app.inject({ method: 'GET', url: '/i/AAAAAAAAAA.png' })).statusCode).toBe(404);
  });

  it('answers HEAD from what it knows, without reading the file', async () => {
    const data = await png(300, 200, 78);
    const created = (await upload([{ filename: 'h.png', data }])).json<{ files: Upload[] }>().files[0]!;
    const storage = t.container.storage;
    const get = storage.get.bind(storage);
    let reads = 0;
    // Observes reads (no fault injected): the real driver still answers.
    storage.get = (...args) => {
      reads += 1;
      return get(...args);
    };
    try {
      const head = await t.app.inject({ method: 'HEAD', url: `/i/${created.id}.png` });
      expect(head.statusCode).toBe(200);
      expect(head.headers['content-length']).toBe(String(data.length));
      expect(head.headers.etag).toBe(`"${created.sha256}"`);
      expect(reads).toBe(0);
    } finally {
      storage.get = get;
    }
  });

  it('records the dominant colour and strips nothing from a clean PNG', async () => {
    const data = await solidPng(30, 20, '#ff0000');
    const created = (await upload([{ filename: 'red.png', data }])).json<{ files: Upload[] }>().files[0]!;
    const page = await t.app.inject({ method: 'GET', url: `/${created.id}` });
    expect(page.body).toContain('<meta name="theme-color" content="#ff0000">');
    const { width, height } = await sharp((await t.app.inject({ method: 'GET', url: `/i/${created.id}.png` })).rawPayload).metadata();
    expect([width, height]).toEqual([30, 20]);
  });
});
