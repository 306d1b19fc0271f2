import { spawn } from 'node:child_process';
import { chmod, mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { png } from '../server/test/helpers/fixtures.js';
import { tempDir } from '../server/test/helpers/temp-dir.js';
import { assertCliBuilt, CLI_BIN, cli, type CliOptions } from './helpers/cli.js';
import { freePort, register, type RunningServer, startServer, until } from './helpers/server.js';
import { listUploads, upload as postFiles, type Upload } from './helpers/uploads.js';

const VERSION = (JSON.parse(await readFile(new URL('../packages/cli/package.json', import.meta.url), 'utf8')) as { version: string })
  .version;
const COMMANDS = ['login', 'upload', 'list', 'delete', 'keys', 'invites', 'sharex', 'open', 'admin'];

describe('the discord-images command against a real server', () => {
  let server: RunningServer;
  let dataDir: string;
  let work: string;

  beforeAll(async () => {
    assertCliBuilt();
    dataDir = await tempDir();
    work = await tempDir();
    // MAX_FILES above the list's page size, so one request can make more than a page of uploads.
    server = await startServer({ DATA_DIR: dataDir, MAX_FILES: '120', MAX_FILE_SIZE: '300MB', REQUEST_TIMEOUT: '120000' });
  });
  afterAll(async () => {
    await server.stop('SIGKILL');
  });

  /** A user of their own, its key in the environment (as scripts and CI pass it). */
  async function account(): Promise<{ token: string; options: CliOptions }> {
    const token = await register(server.url);
    const options = { configHome: await tempDir(), env: { DISCORD_IMAGES_URL: server.url, DISCORD_IMAGES_TOKEN: token }, cwd: work };
    return { token, options };
  }

  async function images(count: number, prefix = 'shot'): Promise<string[]> {
    const dir = await tempDir();
    return Promise.all(
      Array.from({ length: count }, async (_, i) => {
        const path = join(dir, `${prefix}-${i}.png`);
        await writeFile(path, await png(40 + i, 30, i + 1));
        return path;
      }),
    );
  }

  it('prints its version and a help for every command, exit 0', async () => {
    const configHome = await tempDir();
    const version = await cli(['--version'], { configHome });
    expect(version).toMatchObject({ code: 0, stdout: `${VERSION}\n` });
    const help = await cli(['--help'], { configHome });
    expect(help.code).toBe(0);
    for (const command of COMMANDS) {
      expect(help.stdout).toContain(`  ${command} `);
      const own = await cli([command, '--help'], { configHome });
      expect(own.code, own.stderr).toBe(0);
      expect(own.stdout).toMatch(new RegExp(`^Usage: discord-images ${command}`));
    }
    const unknown = await cli(['frobnicate'], { configHome });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toBe('discord-images: unknown command frobnicate: see discord-images --help\n');
  });

  it('login checks the key, writes a 0600 file in a 0700 directory, and later commands use it', async () => {
    const token = await register(server.url);
    const configHome = await tempDir();
    const login = await cli(['login', '--url', `${server.url}/`, '--token', token], { configHome });
    expect(login.code, login.stderr).toBe(0);
    const file = join(configHome, 'discord-images', 'config.json');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await stat(join(configHome, 'discord-images'))).mode & 0o777).toBe(0o700);
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual({ url: server.url, token });

    const [shot] = await images(1);
    const uploaded = await cli(['upload', shot!], { configHome });
    expect(uploaded.code, uploaded.stderr).toBe(0);
    expect(uploaded.stderr).toBe('');
    const [stored] = await listUploads(server.url, token);
    expect(uploaded.stdout).toBe(`${stored!.url}\n`);
  });

  it('login refuses a wrong key and writes nothing; commands without a key say how to get one', async () => {
    const configHome = await tempDir();
    const login = await cli(['login', '--url', server.url, '--token', 'di_wrong'], { configHome });
    expect(login.code).toBe(1);
    expect(login.stderr).toMatch(/^discord-images: UNAUTHORIZED \(401\): .+\n$/);
    await expect(stat(join(configHome, 'discord-images', 'config.json'))).rejects.toThrow(/ENOENT/);

    const list = await cli(['list'], { configHome });
    expect(list.code).toBe(1);
    expect(list.stderr).toBe(
      'discord-images: no server URL configured: run discord-images login, or set DISCORD_IMAGES_URL and DISCORD_IMAGES_TOKEN\n',
    );
    const wrong = await cli(['list'], { configHome, env: { DISCORD_IMAGES_URL: server.url, DISCORD_IMAGES_TOKEN: 'di_wrong' } });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/^discord-images: UNAUTHORIZED \(401\): .+\n$/);
  });

  it('the environment wins over the file, and a file others can read is used with a warning', async () => {
    const token = await register(server.url);
    const configHome = await tempDir();
    await mkdir(join(configHome, 'discord-images'));
    const file = join(configHome, 'discord-images', 'config.json');
    await writeFile(file, JSON.stringify({ url: 'http://127.0.0.1:9', token: 'di_stale' }));
    await chmod(file, 0o644);
    const overridden = await cli(['list', '--json'], { configHome, env: { DISCORD_IMAGES_URL: server.url, DISCORD_IMAGES_TOKEN: token } });
    expect(overridden).toMatchObject({ code: 0, stdout: '[]\n', stderr: '' });

    await writeFile(file, JSON.stringify({ url: server.url, token }));
    const warned = await cli(['list', '--json'], { configHome });
    expect(warned.code).toBe(0);
    expect(warned.stdout).toBe('[]\n');
    expect(warned.stderr).toBe(
      `discord-images: warning: ${file} holds your API key and others can access it (mode 644): run chmod 600 ${file}\n`,
    );
  });

  it('upload prints share URLs in the order given, --raw raw URLs, --json the upload objects', async () => {
    const { token, options } = await account();
    const shots = await images(3);
    const order = [shots[2]!, shots[0]!, shots[1]!];
    const share = await cli(['upload', ...order], options);
    expect(share.code, share.stderr).toBe(0);
    const stored = await listUploads(server.url, token);
    const byName = (path: string) => stored.find((u) => u.name === path.split('/').pop())!;
    expect(share.stdout).toBe(order.map((path) => `${byName(path).url}\n`).join(''));
    expect(share.stderr).toBe('');

    const raw = await cli(['upload', '--raw', shots[0]!], options);
    expect(raw.code, raw.stderr).toBe(0);
    expect(raw.stdout).toMatch(new RegExp(`^${server.url}/.+\\.png\\n$`));
    expect((await fetch(raw.stdout.trim())).headers.get('content-type')).toBe('image/png');

    const json = await cli(['upload', '--json', '--title', 'Release {file.name}', shots[1]!, shots[2]!], options);
    expect(json.code, json.stderr).toBe(0);
    const objects = JSON.parse(json.stdout) as Upload[];
    expect(objects.map((u) => u.name)).toEqual(['shot-1.png', 'shot-2.png']);
    const page = await (await fetch(objects[0]!.url)).text();
    expect(page).toContain('Release shot-1.png');
  });

  it('upload expands globs in sorted order and reads one image from stdin with -', async () => {
    const { token, options } = await account();
    const shots = await images(3, 'glob');
    const dir = shots[0]!.slice(0, shots[0]!.lastIndexOf('/'));
    const globbed = await cli(['upload', '--json', `${dir}/glob-*.png`], options);
    expect(globbed.code, globbed.stderr).toBe(0);
    expect((JSON.parse(globbed.stdout) as Upload[]).map((u) => u.name)).toEqual(['glob-0.png', 'glob-1.png', 'glob-2.png']);

    const piped = await cli(['upload', '-'], { ...options, input: await png(33, 22, 9) });
    expect(piped.code, piped.stderr).toBe(0);
    const newest = (await listUploads(server.url, token))[0]!;
    expect(piped.stdout).toBe(`${newest.url}\n`);
    expect(newest.width).toBe(33);
  });

  it('a non-image among images uploads nothing and names the bad file', async () => {
    const { token, options } = await account();
    const [a, b] = await images(2);
    const notes = join(work, 'notes.txt');
    await writeFile(notes, 'not an image at all\n');
    const result = await cli(['upload', a!, notes, b!], options);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(new RegExp(`^discord-images: ${notes}: UNSUPPORTED_MEDIA_TYPE \\(415\\): .+\\n$`));
    expect(await listUploads(server.url, token)).toEqual([]);
  });

  it('a directory, a missing file, a pattern matching nothing and an empty stdin are refused before anything is sent', async () => {
    const { token, options } = await account();
    const [a] = await images(1);
    const dir = await tempDir();
    const directory = await cli(['upload', a!, dir], options);
    expect(directory.code).toBe(1);
    expect(directory.stderr).toBe(`discord-images: ${dir}: is a directory, not an image (use a glob such as dir/*.png)\n`);

    const missing = await cli(['upload', join(dir, 'nope.png'), join(dir, '*.gif')], options);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe(
      `discord-images: ${join(dir, 'nope.png')}: no such file\ndiscord-images: ${join(dir, '*.gif')}: no file matches this pattern\n`,
    );

    const empty = await cli(['upload', '-'], { ...options, input: '' });
    expect(empty.code).toBe(1);
    expect(empty.stderr).toBe('discord-images: -: stdin is empty: nothing to upload\n');
    expect(await listUploads(server.url, token)).toEqual([]);
  });

  it('a file over the server limit fails with 413, naming the file', async () => {
    const small = await startServer({ DATA_DIR: await tempDir(), MAX_FILE_SIZE: '2KB' });
    try {
      const token = await register(small.url);
      const big = join(work, 'big.png');
      await writeFile(big, await png(200, 200));
      const result = await cli(['upload', big], {
        configHome: await tempDir(),
        env: { DISCORD_IMAGES_URL: small.url, DISCORD_IMAGES_TOKEN: token },
      });
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(new RegExp(`^discord-images: ${big}: PAYLOAD_TOO_LARGE \\(413\\): .+\\n$`));
      expect(await listUploads(small.url, token)).toEqual([]);
    } finally {
      await small.stop('SIGKILL');
    }
  });

  it('a server that is down is a network error, exit 1', async () => {
    const [a] = await images(1);
    const result = await cli(['upload', a!], {
      configHome: await tempDir(),
      env: { DISCORD_IMAGES_URL: `http://127.0.0.1:${await freePort()}`, DISCORD_IMAGES_TOKEN: 'di_any' },
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(new RegExp(`^discord-images: ${a}: NETWORK_ERROR: .+\\n$`));
  });

  it('list follows every page for --json, honours --limit, and prints a table', async () => {
    const { token, options } = await account();
    const bytes = await png(20, 20, 4);
    // 105 uploads: more than one page of 100 (the server's largest).
    await postFiles(
      server.url,
      token,
      Array.from({ length: 105 }, (_, i) => ({ file: `n${i}.png`, bytes })),
    );
    const all = await cli(['list', '--json'], options);
    expect(all.code, all.stderr).toBe(0);
    const listed = JSON.parse(all.stdout) as Upload[];
    expect(listed).toHaveLength(105);
    expect(new Set(listed.map((u) => u.id)).size).toBe(105);

    const limited = await cli(['list', '--json', '--limit', '3'], options);
    expect((JSON.parse(limited.stdout) as Upload[]).map((u) => u.id)).toEqual(listed.slice(0, 3).map((u) => u.id));

    const table = await cli(['list', '--limit', '2'], options);
    expect(table.code).toBe(0);
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID\s+CREATED \(UTC\)\s+SIZE\s+PIXELS\s+NAME\s+URL$/);
    expect(lines.slice(1).map((line) => line.split(/\s+/)[0])).toEqual(listed.slice(0, 2).map((u) => u.id));
    expect(lines[1]).toContain(listed[0]!.url);

    const bad = await cli(['list', '--limit', 'lots'], options);
    expect(bad.code).toBe(2);
  });

  it('list --search keeps the uploads whose name contains the text, in any case', async () => {
    const { token, options } = await account();
    const bytes = await png(20, 20, 5);
    await postFiles(
      server.url,
      token,
      ['Holiday beach.png', 'notes.png', 'holiday-2.png'].map((file) => ({ file, bytes })),
    );
    const found = await cli(['list', '--json', '--search', 'HOLIDAY'], options);
    expect(found.code, found.stderr).toBe(0);
    expect((JSON.parse(found.stdout) as Upload[]).map((u) => u.name)).toEqual(['holiday-2.png', 'Holiday beach.png']);
    const none = await cli(['list', '--search', 'zebra'], options);
    expect(none).toMatchObject({ code: 0, stdout: '', stderr: 'No upload\'s name contains "zebra".\n' });
    expect((await cli(['list', '--search', ''], options)).code).toBe(2);
  });

  it('delete removes each id given; an unknown id is named and exits 1', async () => {
    const { token, options } = await account();
    const stored = await postFiles(server.url, token, [
      { file: 'a.png', bytes: await png() },
      { file: 'b.png', bytes: await png(50, 50) },
    ]);
    const ok = await cli(['delete', stored[0]!.id, stored[1]!.id], options);
    expect(ok).toMatchObject({ code: 0, stderr: '' });
    expect(await listUploads(server.url, token)).toEqual([]);

    const again = await cli(['delete', stored[0]!.id], options);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(new RegExp(`^discord-images: ${stored[0]!.id}: UPLOAD_GONE \\(410\\): .+\\n$`));
  });

  it('keys create prints a working key, list shows it, revoke ends it', async () => {
    const { options } = await account();
    const created = await cli(['keys', 'create', 'laptop'], options);
    expect(created.code, created.stderr).toBe(0);
    const newToken = created.stdout.trim();
    expect(newToken).toMatch(/^di_/);
    expect((await fetch(`${server.url}/api/me`, { headers: { token: newToken } })).status).toBe(200);

    const listed = await cli(['keys', 'list', '--json'], options);
    const keys = JSON.parse(listed.stdout) as { id: string; name: string }[];
    const laptop = keys.find((k) => k.name === 'laptop')!;
    const table = await cli(['keys', 'list'], options);
    expect(table.stdout).toMatch(new RegExp(`^${laptop.id}\\s+laptop\\s`, 'm'));

    const revoked = await cli(['keys', 'revoke', laptop.id], options);
    expect(revoked).toMatchObject({ code: 0, stderr: '' });
    expect((await fetch(`${server.url}/api/me`, { headers: { token: newToken } })).status).toBe(401);
    expect((await cli(['keys'], options)).code).toBe(2);
  });

  it('sharex prints the .sxcu of docs/sharex.md for this server and key, or a new key with --new-key', async () => {
    const { token, options } = await account();
    const docs = await readFile(new URL('../docs/sharex.md', import.meta.url), 'utf8');
    const documented = JSON.parse(/```json\n(\{\n {2}"Version"[\s\S]+?)```/.exec(docs)![1]!) as Record<string, unknown>;
    const result = await cli(['sharex'], options);
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ ...documented, RequestURL: `${server.url}/api/upload`, Headers: { token } });

    const fresh = await cli(['sharex', '--new-key'], options);
    expect(fresh.code, fresh.stderr).toBe(0);
    const sxcu = JSON.parse(fresh.stdout) as { Headers: { token: string } };
    expect(sxcu.Headers.token).not.toBe(token);
    expect((await fetch(`${server.url}/api/me`, { headers: { token: sxcu.Headers.token } })).status).toBe(200);
  });

  it('open runs $BROWSER with the share page', async () => {
    const { token, options } = await account();
    const [stored] = await postFiles(server.url, token, [{ file: 'a.png', bytes: await png() }]);
    const opened = join(work, `opened-${stored!.id}`);
    const browser = join(work, 'fake-browser');
    await writeFile(browser, `#!/bin/sh\nprintf '%s' "$1" > ${opened}\n`, { mode: 0o755 });
    const result = await cli(['open', stored!.id], { ...options, env: { ...options.env, BROWSER: browser } });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe(`${stored!.url}\n`);
    await until(async () => (await readFile(opened, 'utf8').catch(() => '')) === stored!.url, 10_000, 'the browser to be run');

    const missing = await cli(['open', 'nonexistent1'], options);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^discord-images: UPLOAD_NOT_FOUND \(404\): /);
  });

  /** Runs the command on a pseudo-terminal (util-linux `script`), as a person at a terminal runs it. */
  function onTerminal(args: string[], options: CliOptions) {
    const line = [process.execPath, CLI_BIN, ...args].map((arg) => `'${arg.replace(/'/g, "'\\''")}'`).join(' ');
    const child = spawn('script', ['-qfec', line, '/dev/null'], {
      cwd: options.cwd,
      env: { PATH: process.env.PATH, HOME: options.configHome, XDG_CONFIG_HOME: options.configHome, TERM: 'xterm', ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const done = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    return { child, output: () => output, done };
  }

  it('login on a terminal asks for the URL and the key, without echoing the key', async () => {
    const token = await register(server.url);
    const configHome = await tempDir();
    const terminal = onTerminal(['login'], { configHome, cwd: work });
    await until(() => terminal.output().includes('Server URL [http://localhost:3000]: '), 15_000, 'the URL prompt');
    terminal.child.stdin.write(`${server.url}\r`);
    await until(() => terminal.output().includes('API key (di_...): '), 15_000, 'the key prompt');
    terminal.child.stdin.write(`${token}\r`);
    expect(await terminal.done, terminal.output()).toBe(0);
    expect(terminal.output()).toContain('Signed in to');
    expect(terminal.output()).not.toContain(token);
    const file = join(configHome, 'discord-images', 'config.json');
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual({ url: server.url, token });
    expect((await stat(file)).mode & 0o777).toBe(0o600);
  });

  it('shows a progress bar per file on a terminal, none when stderr is piped', async () => {
    const { options } = await account();
    const shots = await images(2, 'bar');
    const terminal = onTerminal(['upload', ...shots], options);
    expect(await terminal.done, terminal.output()).toBe(0);
    expect(terminal.output()).toMatch(/bar-0\.png\s+\[#{24}\] 100% /);
    expect(terminal.output()).toMatch(/bar-1\.png\s+\[#{24}\] 100% /);

    const piped = await cli(['upload', ...shots], options);
    expect(piped.code).toBe(0);
    expect(piped.stderr).toBe('');
  });

  it('Ctrl+C in the middle of an upload stops it and leaves nothing on the server', async () => {
    const { token, options } = await account();
    const big = join(work, 'big-upload.png');
    // 250 MB, so the upload is still going when the first bar is drawn.
    await writeFile(big, await png(64, 64));
    await writeFile(big, Buffer.alloc(250 * 1024 * 1024), { flag: 'a' });
    const terminal = onTerminal(['upload', big], options);
    await until(() => /big-upload\.png\s+\[[#-]+\]\s+\d+%/.test(terminal.output()), 30_000, 'a progress bar');
    terminal.child.stdin.write('\x03');
    expect(await terminal.done, terminal.output()).toBe(130);
    expect(terminal.output()).toContain('interrupted, the upload is cancelled');
    expect(await listUploads(server.url, token)).toEqual([]);
    // What the server had received is gone too.
    await until(async () => (await readdir(join(dataDir, 'tmp'))).length === 0, 30_000, 'an empty tmp/');
  });
});
