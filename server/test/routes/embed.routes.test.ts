import { beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, PUBLIC_URL, type TestApp } from '../helpers/app.js';
import { DIALECTS } from '../helpers/database.js';
import { png, solidPng } from '../helpers/fixtures.js';
import { multipart } from '../helpers/multipart.js';

interface Tag {
  attribute: string;
  key: string;
  content: string;
}

describe.each(DIALECTS)('embeds on %s', (dialect) => {
  let t: TestApp;
  let admin: { token: string; username: string };

  beforeAll(async () => {
    t = await createTestApp(dialect);
    admin = await t.newUser(); // the first user is the admin
  });

  const upload = async (
    token: string,
    data: Buffer,
    options: { filename?: string; fields?: Record<string, string>; headers?: Record<string, string> } = {},
  ) => {
    const body = await multipart([{ filename: options.filename ?? 'cat.png', data }], options.fields);
    return t.app.inject({
      method: 'POST',
      url: '/api/upload',
      headers: { ...body.headers, ...options.headers, token },
      payload: body.payload,
    });
  };
  const uploaded = async (token: string, data: Buffer, options?: Parameters<typeof upload>[2]) => {
    const response = await upload(token, data, options);
    expect(response.statusCode, response.body).toBe(201);
    return response.json().files[0] as { id: string; url: string; raw_url: string; thumbnail_url: string; width: number; height: number };
  };
  const preview = async (token: string, id: string) => {
    const response = await t.app.inject({ method: 'GET', url: `/api/me/embed/preview?upload=${id}`, headers: { token } });
    expect(response.statusCode, response.body).toBe(200);
    return response.json<{ tags: Tag[]; html: string; oembed: Record<string, unknown> }>();
  };
  const tag = (tags: Tag[], key: string) => tags.find((t) => t.key === key)?.content;
  const patch = (token: string, payload: object, url = '/api/me/embed') =>
    t.app.inject({ method: 'PATCH', url, headers: { token }, payload });

  it('renders the built-in embed: title, facts, dominant colour, image with its size, oEmbed link', async () => {
    const { token, username } = await t.newUser();
    const file = await uploaded(token, await solidPng(300, 200, '#3366cc'), { filename: 'blue sky.png' });
    const page = await t.app.inject({
      method: 'GET',
      url: `/${file.id}`,
      headers: { 'user-agent': 'Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)' },
    });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers['content-disposition']).toBeUndefined();
    expect(page.headers['cache-control']).toBe('no-cache');
    const { tags, html, oembed } = await preview(token, file.id);
    expect(page.body).toContain(html);
    expect(tags.map((t) => t.key)).toEqual([
      'og:site_name',
      'og:title',
      'og:description',
      'og:url',
      'og:type',
      'og:image',
      'og:image:type',
      'og:image:width',
      'og:image:height',
      'og:image:alt',
      'twitter:card',
      'theme-color',
      'alternate',
    ]);
    expect(tag(tags, 'og:title')).toBe('blue sky.png');
    expect(tag(tags, 'og:description')).toMatch(/^300×200 · \d+(\.\d)? (bytes|KB) · \d{4}-\d{2}-\d{2}$/);
    expect(tag(tags, 'og:image')).toBe(file.raw_url);
    expect([tag(tags, 'og:image:width'), tag(tags, 'og:image:height')]).toEqual(['300', '200']);
    expect(tag(tags, 'theme-color')).toBe('#3366cc');
    expect(tag(tags, 'alternate')).toBe(`${PUBLIC_URL}/api/oembed?url=${encodeURIComponent(file.url)}`);
    expect(oembed).toEqual({
      version: '1.0',
      type: 'link',
      title: 'blue sky.png',
      author_name: username,
      author_url: PUBLIC_URL,
      provider_name: 'Discord Images',
      provider_url: PUBLIC_URL,
      thumbnail_url: file.thumbnail_url,
      thumbnail_width: 300,
      thumbnail_height: 200,
    });
    const browser = await t.app.inject({
      method: 'GET',
      url: `/${file.id}`,
      headers: { 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) Chrome/126.0 Safari/537.36' },
    });
    expect(browser.body).toBe(page.body);
  });

  it('answers oEmbed from the database, 404 for unknown or foreign URLs, 410 once deleted', async () => {
    const { token } = await t.newUser();
    const file = await uploaded(token, await png(800, 400, 5));
    const oembed = await t.app.inject({ method: 'GET', url: `/api/oembed?url=${encodeURIComponent(file.url)}&format=json` });
    expect(oembed.statusCode).toBe(200);
    const xml = await t.app.inject({ method: 'GET', url: `/api/oembed?url=${encodeURIComponent(file.url)}&format=xml` });
    expect(xml.statusCode).toBe(501);
    expect(oembed.json()).toMatchObject({ thumbnail_width: 400, thumbnail_height: 200 });
    for (const url of [`${PUBLIC_URL}/AAAAAAAAAA`, `https://evil.example/${file.id}`, `${PUBLIC_URL}/${file.id}<script>`, 'not a url']) {
      const response = await t.app.inject({ method: 'GET', url: `/api/oembed?url=${encodeURIComponent(url)}` });
      expect(response.statusCode, url).toBe(404);
      expect(response.body).not.toContain('<script>');
      expect(response.body).not.toContain('evil.example');
    }
    await t.app.inject({ method: 'DELETE', url: `/api/uploads/${file.id}`, headers: { token } });
    expect((await t.app.inject({ method: 'GET', url: `/api/oembed?url=${encodeURIComponent(file.url)}` })).statusCode).toBe(410);
    const gone = await t.app.inject({ method: 'GET', url: `/${file.id}` });
    expect(gone.statusCode).toBe(410);
    expect(gone.headers['cache-control']).toBe('no-store');
    expect(gone.headers['content-type']).toBe('text/html; charset=utf-8');
    const unknown = await t.app.inject({ method: 'GET', url: '/AAAAAAAAAA' });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.headers['content-type']).toBe('text/html; charset=utf-8');
  });

  it('matches the share link of oEmbed by origin: scheme and host in any case, default port, query and fragment', async () => {
    const { token } = await t.newUser();
    const file = await uploaded(token, await png(20, 20, 17));
    const ask = (url: string) => t.app.inject({ method: 'GET', url: `/api/oembed?url=${encodeURIComponent(url)}` });
    const expected = (await ask(file.url)).json();
    const host = new URL(PUBLIC_URL).host;
    for (const url of [
      `HTTP://${host.toUpperCase()}/${file.id}`,
      `http://${host.replace(/^./, (c) => c.toUpperCase())}/${file.id}`,
      `http://${host}:80/${file.id}`,
      `${PUBLIC_URL}/${file.id}?utm=1#top`,
    ]) {
      const response = await ask(url);
      expect(response.statusCode, url).toBe(200);
      expect(response.json(), url).toEqual(expected);
    }
    for (const url of [
      `${PUBLIC_URL}/${file.id.toUpperCase() === file.id ? file.id.toLowerCase() : file.id.toUpperCase()}`, // ids are case-sensitive
      `https://${host}/${file.id}`,
      `http://${host}:8080/${file.id}`,
      `http://${host}.evil.example/${file.id}`,
      `http://${host}@evil.example/${file.id}`,
      `${PUBLIC_URL}/i/${file.id}`,
    ]) {
      expect((await ask(url)).statusCode, url).toBe(404);
    }
  });

  it('lets a user shape their embeds with templates, a fixed colour, and turn them off', async () => {
    const { token, username } = await t.newUser();
    const file = await uploaded(token, await png(64, 64, 8), { filename: 'shot.png' });
    const changed = await patch(token, {
      title: '{file.name} by {user.name}',
      description: '{file.width}px wide — {nope.x} {file.unknown}',
      color: '#5865F2',
      site_name: 'My Gallery',
      author: '',
    });
    expect(changed.statusCode, changed.body).toBe(200);
    expect(changed.json().settings).toMatchObject({ title: '{file.name} by {user.name}', color: '#5865F2', enabled: null });
    expect(changed.json().effective).toMatchObject({ title: '{file.name} by {user.name}', enabled: true });

    const first = await preview(token, file.id);
    let { tags } = first;
    const { oembed } = first;
    expect(tag(tags, 'og:title')).toBe(`shot.png by ${username}`);
    expect(tag(tags, 'og:description')).toBe('64px wide — {nope.x} {file.unknown}');
    expect(tag(tags, 'og:site_name')).toBe('My Gallery');
    expect(tag(tags, 'theme-color')).toBe('#5865f2');
    expect(oembed.provider_name).toBe('My Gallery');
    expect(oembed.author_name).toBeUndefined();

    expect((await patch(token, { enabled: false })).statusCode).toBe(200);
    const off = await preview(token, file.id);
    ({ tags } = off);
    expect(off.oembed).toBeNull();
    expect((await t.app.inject({ method: 'GET', url: `/api/oembed?url=${encodeURIComponent(file.url)}` })).statusCode).toBe(404);
    expect(tags.map((t) => t.key)).toEqual([
      'og:image',
      'og:image:type',
      'og:image:width',
      'og:image:height',
      'og:image:alt',
      'twitter:card',
    ]);
    const page = await t.app.inject({ method: 'GET', url: `/${file.id}` });
    expect(page.body).not.toContain('og:title');
    expect(page.body).not.toContain('application/json+oembed');

    const reset = await patch(token, { enabled: null, title: null, description: null, color: null, site_name: null, author: null });
    expect(reset.json().settings).toEqual({
      enabled: null,
      site_name: null,
      title: null,
      description: null,
      author: null,
      author_url: null,
      color: null,
    });
    ({ tags } = await preview(token, file.id));
    expect(tag(tags, 'og:title')).toBe('shot.png');
  });

  it('previews unsaved changes over the saved templates, as the page would be after saving them, and saves nothing', async () => {
    const { token, username } = await t.newUser();
    const file = await uploaded(token, await png(64, 48, 9), { filename: 'draft.png' });
    expect((await patch(token, { title: 'saved {file.name}', site_name: 'Saved site' })).statusCode).toBe(200);
    const before = (await t.app.inject({ method: 'GET', url: '/api/me/embed', headers: { token } })).json();
    const draft = async (embed?: object) => {
      const response = await t.app.inject({
        method: 'POST',
        url: '/api/me/embed/preview',
        headers: { token },
        payload: { upload: file.id, ...(embed ? { embed } : {}) },
      });
      expect(response.statusCode, response.body).toBe(200);
      return response.json<{ tags: Tag[]; html: string; oembed: Record<string, unknown> | null }>();
    };

    // Nothing unsaved: exactly the saved preview.
    expect(await draft()).toEqual(await preview(token, file.id));
    expect(await draft({})).toEqual(await preview(token, file.id));
    // A changed field is drawn, the others stay as saved; a null goes back to the server default.
    const changed = await draft({
      title: '{user.name}: {file.width}×{file.height}\u202e',
      site_name: null,
      color: '#ABCDEF',
      author: 'Me',
    });
    expect(tag(changed.tags, 'og:title')).toBe(`${username}: 64×48`);
    expect(tag(changed.tags, 'og:site_name')).toBe('Discord Images');
    expect(tag(changed.tags, 'theme-color')).toBe('#abcdef');
    expect(changed.oembed).toMatchObject({ author_name: 'Me', title: `${username}: 64×48` });
    // The same as the share page once those changes are saved.
    expect(
      (await patch(token, { title: '{user.name}: {file.width}×{file.height}\u202e', site_name: null, color: '#ABCDEF', author: 'Me' }))
        .statusCode,
    ).toBe(200);
    expect(await preview(token, file.id)).toEqual(changed);
    expect((await patch(token, before.settings)).statusCode).toBe(200);
    // Turned off in the draft: the bare image, no oEmbed.
    const off = await draft({ enabled: false });
    expect(off.oembed).toBeNull();
    expect(tag(off.tags, 'og:title')).toBeUndefined();
    // Nothing was saved by any of it.
    expect((await t.app.inject({ method: 'GET', url: '/api/me/embed', headers: { token } })).json()).toEqual(before);
    expect(tag((await preview(token, file.id)).tags, 'og:title')).toBe('saved draft.png');

    // A draft is checked like a PATCH; a missing or unknown upload is 404.
    for (const payload of [
      { upload: file.id, embed: { color: 'red' } },
      { upload: file.id, embed: { theme: 'dark' } },
      { upload: file.id, embed: { title: 'x'.repeat(1001) } },
      { embed: { title: 't' } },
      { upload: file.id, extra: 1 },
    ]) {
      const response = await t.app.inject({ method: 'POST', url: '/api/me/embed/preview', headers: { token }, payload });
      expect(response.statusCode, JSON.stringify(payload)).toBe(400);
      expect(response.json().code).toBe('VALIDATION_FAILED');
    }
    const unknown = await t.app.inject({
      method: 'POST',
      url: '/api/me/embed/preview',
      headers: { token },
      payload: { upload: 'AAAAAAAAAA' },
    });
    expect(unknown.statusCode).toBe(404);
  });

  it('refuses invalid settings with 400 and changes nothing', async () => {
    const { token } = await t.newUser();
    for (const body of [
      {},
      { color: 'red' },
      { color: '#12345' },
      { title: 'x'.repeat(1001) },
      { author_url: 'javascript:alert(1)' },
      { enabled: 'yes' },
      { theme: 'dark' },
    ]) {
      const response = await patch(token, body);
      expect(response.statusCode, JSON.stringify(body)).toBe(400);
      expect(response.json().code).toBe('VALIDATION_FAILED');
    }
    const settings = (await t.app.inject({ method: 'GET', url: '/api/me/embed', headers: { token } })).json();
    expect(Object.values(settings.settings).every((v) => v === null)).toBe(true);
  });

  it('puts the admin defaults under every user, and only the admin may change them', async () => {
    const { token } = await t.newUser();
    expect((await patch(token, { site_name: 'Hacked' }, '/api/admin/embed')).statusCode).toBe(403);
    expect((await t.app.inject({ method: 'GET', url: '/api/admin/embed', headers: { token } })).statusCode).toBe(403);

    const changed = await patch(admin.token, { site_name: 'Community Images', description: '' }, '/api/admin/embed');
    expect(changed.statusCode).toBe(200);
    expect(changed.json()).toMatchObject({ site_name: 'Community Images', description: '', title: '{file.name}' });
    const file = await uploaded(token, await png(10, 10, 9));
    const { tags } = await preview(token, file.id);
    expect(tag(tags, 'og:site_name')).toBe('Community Images');
    expect(tags.some((t) => t.key === 'og:description')).toBe(false);
    expect((await t.app.inject({ method: 'GET', url: '/api/me/embed', headers: { token } })).json().defaults.site_name).toBe(
      'Community Images',
    );
    await patch(admin.token, { site_name: null, description: null }, '/api/admin/embed');
  });

  it('takes per-upload overrides from form fields and x-embed-* headers', async () => {
    const { token } = await t.newUser();
    const file = await uploaded(token, await png(10, 10, 10), {
      fields: { embed_title: 'Field title 🎉', embed_color: '#00ff00' },
      headers: { 'x-embed-description': Buffer.from('Héader description', 'utf8').toString('latin1') },
    });
    const { tags } = await preview(token, file.id);
    expect(tag(tags, 'og:title')).toBe('Field title 🎉');
    expect(tag(tags, 'og:description')).toBe('Héader description');
    expect(tag(tags, 'theme-color')).toBe('#00ff00');

    const blank = await uploaded(token, await png(10, 10, 14), { fields: { embed_title: '' } });
    expect(tag((await preview(token, blank.id)).tags, 'og:title')).toBe('cat.png');

    const listedBefore = (await t.app.inject({ method: 'GET', url: '/api/uploads', headers: { token } })).json().length;
    const bad: Parameters<typeof upload>[2][] = [
      { fields: { embed_color: 'blue' } },
      { headers: { 'x-embed-colour': '#000000' } },
      { fields: { embed_title: 'x'.repeat(1001) } },
    ];
    for (const options of bad) {
      const response = await upload(token, await png(10, 10, 11), options);
      expect(response.statusCode, JSON.stringify(options)).toBe(400);
      expect(response.json().message).toMatch(/^Invalid embed override: (embed_(color|title)|x-embed-colour) /);
    }
    expect((await t.app.inject({ method: 'GET', url: '/api/uploads', headers: { token } })).json().length).toBe(listedBefore);
  });

  it('keeps hostile names and templates escaped and within Discord limits', async () => {
    const { token } = await t.newUser();
    const hostile = `"><img src=x onerror=alert(1)>'&${'😀'.repeat(40)}`;
    const file = await uploaded(token, await png(12, 12, 12), { filename: `${hostile}.png` });
    await patch(token, {
      title: '"{file.name}"{file.name}{file.name}',
      description: `${'{file.name} '.repeat(60)}`,
      site_name: 'é'.repeat(900),
    });
    const { tags } = await preview(token, file.id);
    expect(Buffer.byteLength(tag(tags, 'og:title')!)).toBeLessThanOrEqual(70);
    expect(Buffer.byteLength(tag(tags, 'og:description')!)).toBeLessThanOrEqual(350);
    expect([...tag(tags, 'og:site_name')!].length).toBeLessThanOrEqual(256);
    expect(tag(tags, 'og:title')!.endsWith('…')).toBe(true);
    expect(tag(tags, 'og:title')).not.toMatch(/\uFFFD/);
    const page = (await t.app.inject({ method: 'GET', url: `/${file.id}` })).body;
    expect(page).not.toContain('<img src=x');
    expect(page).toContain('&gt;&lt;img src=x onerror=alert(1)&gt;&#39;&amp;');
    expect(page).toContain('<meta property="og:title" content="&quot;');
    expect(page.match(/<script>/g)).toHaveLength(1);
  });

  it('strips control and bidi-override characters from templates and per-upload overrides, in the page and in oEmbed', async () => {
    // U+202E (right-to-left override) shows "evil.exe" as "exe.live"; NUL cuts strings short elsewhere.
    const nasty = '\u202e\u0000\u0007\u0085\u2066\u2069\u202a';
    // eslint-disable-next-line no-control-regex -- looking for control characters is the point
    const unsafe = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;
    const { token, username } = await t.newUser();
    const templates = await patch(token, {
      title: `T${nasty}itle`,
      description: `one${nasty}\r\ntwo`,
      author: `{user.name}${nasty} gpj.exe`,
      site_name: `S${nasty}ite`,
    });
    expect(templates.statusCode, templates.body).toBe(200);
    const fromTemplates = await uploaded(token, await png(10, 10, 15));
    const fromOverrides = await uploaded(token, await png(10, 10, 16), {
      fields: { embed_description: `over${nasty}ride\nnext`, embed_title: `O${nasty}T` },
      headers: { 'x-embed-author': Buffer.from(`a\u202eb\u2067c`, 'utf8').toString('latin1') },
    });
    const expected = [
      { file: fromTemplates, title: 'Title', description: 'one\ntwo', author: `${username} gpj.exe`, site: 'Site' },
      { file: fromOverrides, title: 'OT', description: 'override\nnext', author: 'abc', site: 'Site' },
    ];
    for (const { file, title, description, author, site } of expected) {
      const page = await t.app.inject({ method: 'GET', url: `/${file.id}` });
      expect(page.statusCode).toBe(200);
      expect(page.body).not.toMatch(unsafe);
      expect(page.body).toContain(`<meta property="og:description" content="${description}">`);
      expect(page.body).toContain(`<meta property="og:title" content="${title}">`);
      expect(page.body).toContain(`<meta property="og:site_name" content="${site}">`);
      const oembed = await t.app.inject({ method: 'GET', url: `/api/oembed?url=${encodeURIComponent(file.url)}` });
      expect(oembed.statusCode, oembed.body).toBe(200);
      expect(oembed.json()).toMatchObject({ title, author_name: author, provider_name: site });
      expect(oembed.body).not.toMatch(/\\u(00[01][0-9a-f]|007f|008[0-9a-f]|009[0-9a-f]|202[a-e]|206[6-9])/i);
    }
  });

  it("hides other users' uploads from the preview, deleted or not", async () => {
    const owner = await t.newUser();
    const stranger = await t.newUser();
    const file = await uploaded(owner.token, await png(10, 10, 13));
    const ask = (token: string, id = file.id) =>
      t.app.inject({ method: 'GET', url: `/api/me/embed/preview?upload=${id}`, headers: { token } });
    expect((await ask(stranger.token)).json()).toMatchObject({ statusCode: 404, code: 'UPLOAD_NOT_FOUND' });
    expect((await ask(owner.token, 'AAAAAAAAAA')).json()).toMatchObject({ statusCode: 404, code: 'UPLOAD_NOT_FOUND' });
    await t.app.inject({ method: 'DELETE', url: `/api/uploads/${file.id}`, headers: { token: owner.token } });
    expect((await ask(stranger.token)).statusCode).toBe(404);
    expect((await ask(owner.token)).statusCode).toBe(410);
  });
});
