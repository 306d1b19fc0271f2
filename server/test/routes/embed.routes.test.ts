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

  const upload = async (token: string, data: Buffer, options: { filename?: string; fields?: Record<string, string>; headers?: Record<string, string> } = {}) => {
    const body = await multipart([{ filename: options.filename ?? 'cat.png', data }], options.fields);
    return t.app.inject({ method: 'POST', url: '/api/upload', headers: { ...body.headers, ...options.headers, token }, payload: body.payload });
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
  const patch = (token: string, payload: object, url = '/api/me/embed') => t.app.inject({ method: 'PATCH', url, headers: { token }, payload });

  it('renders the built-in embed: title, facts, dominant colour, image with its size, oEmbed link', async () => {
    const { token, username } = await t.newUser();
    const file = await uploaded(token, await solidPng(300, 200, '#3366cc'), { filename: 'blue sky.png' });
    const page = await t.app.inject({ method: 'GET', url: `/${file.id}`, headers: { 'user-agent': 'Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)' } });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers['content-disposition']).toBeUndefined();
    expect(page.headers['cache-control']).toBe('no-cache');
    const { tags, html, oembed } = await preview(token, file.id);
    expect(page.body).toContain(html);
    expect(tags.map((t) => t.key)).toEqual([
      'og:site_name', 'og:title', 'og:description', 'og:url', 'og:type',
      'og:image', 'og:image:type', 'og:image:width', 'og:image:height', 'og:image:alt',
      'twitter:card', 'theme-color', 'alternate',
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
    const browser = await t.app.inject({ method: 'GET', url: `/${file.id}`, headers: { 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) Chrome/126.0 Safari/537.36' } });
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

  it('lets a user shape their embeds with templates, a fixed colour, and turn them off', async () => {
    const { token, username } = await t.newUser();
    const file = await uploaded(token, await png(64, 64, 8), { filename: 'shot.png' });
    const changed = await patch(token, { title: '{file.name} by {user.name}', description: '{file.width}px wide — {nope.x} {file.unknown}', color: '#5865F2', site_name: 'My Gallery', author: '' });
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
    expect(tags.map((t) => t.key)).toEqual(['og:image', 'og:image:type', 'og:image:width', 'og:image:height', 'og:image:alt', 'twitter:card']);
    const page = await t.app.inject({ method: 'GET', url: `/${file.id}` });
    expect(page.body).not.toContain('og:title');
    expect(page.body).not.toContain('application/json+oembed');

    const reset = await patch(token, { enabled: null, title: null, description: null, color: null, site_name: null, author: null });
    expect(reset.json().settings).toEqual({ enabled: null, site_name: null, title: null, description: null, author: null, author_url: null, color: null });
    ({ tags } = await preview(token, file.id));
    expect(tag(tags, 'og:title')).toBe('shot.png');
  });

  it('refuses invalid settings with 400 and changes nothing', async () => {
    const { token } = await t.newUser();
    for (const body of [{}, { color: 'red' }, { color: '#12345' }, { title: 'x'.repeat(1001) }, { author_url: 'javascript:alert(1)' }, { enabled: 'yes' }, { theme: 'dark' }]) {
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
    expect((await t.app.inject({ method: 'GET', url: '/api/me/embed', headers: { token } })).json().defaults.site_name).toBe('Community Images');
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
    const bad: Parameters<typeof upload>[2][] = [{ fields: { embed_color: 'blue' } }, { headers: { 'x-embed-colour': '#000000' } }, { fields: { embed_title: 'x'.repeat(1001) } }];
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
    await patch(token, { title: '"{file.name}"{file.name}{file.name}', description: `${'{file.name} '.repeat(60)}`, site_name: 'é'.repeat(900) });
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

  it("hides other users' uploads from the preview, deleted or not", async () => {
    const owner = await t.newUser();
    const stranger = await t.newUser();
    const file = await uploaded(owner.token, await png(10, 10, 13));
    const ask = (token: string, id = file.id) => t.app.inject({ method: 'GET', url: `/api/me/embed/preview?upload=${id}`, headers: { token } });
    expect((await ask(stranger.token)).json()).toMatchObject({ statusCode: 404, code: 'UPLOAD_NOT_FOUND' });
    expect((await ask(owner.token, 'AAAAAAAAAA')).json()).toMatchObject({ statusCode: 404, code: 'UPLOAD_NOT_FOUND' });
    await t.app.inject({ method: 'DELETE', url: `/api/uploads/${file.id}`, headers: { token: owner.token } });
    expect((await ask(stranger.token)).statusCode).toBe(404);
    expect((await ask(owner.token)).statusCode).toBe(410);
  });
});
