import { execFile } from 'node:child_process';
import { openAsBlob } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { Agent, request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jpeg, png } from '../server/test/helpers/fixtures.js';
import { tempDir } from '../server/test/helpers/temp-dir.js';
import { register, type RunningServer, startServer, until } from './helpers/server.js';

const run = promisify(execFile);
/** `npm start` compiles the server before it starts: minutes on a loaded machine, not the 30 s default. */
const NPM_START_TIMEOUT_MS = 180_000;

interface Upload {
  id: string;
  raw_url: string;
  sha256: string;
  name: string;
}

describe('the real server on a real port', () => {
  let dataDir: string;
  let server: RunningServer;
  let token: string;

  beforeAll(async () => {
    dataDir = await tempDir();
    server = await startServer({ DATA_DIR: dataDir, MAX_FILE_SIZE: '20MB' });
    token = await register(server.url);
  });
  afterAll(async () => {
    await server.stop('SIGKILL');
  });

  const listUploads = async (): Promise<Upload[]> =>
    (await (await fetch(`${server.url}/api/uploads`, { headers: { token } })).json()) as Upload[];

  it("runs the seed's curl example: GET /api/uploads with the token header", async () => {
    // The seed: curl "http://discordimages.com/api/uploads" -H "token: images_api"
    const { stdout } = await run('curl', ['-sS', `${server.url}/api/uploads`, '-H', `token: ${token}`]);
    expect(Array.isArray(JSON.parse(stdout))).toBe(true);
    const { stdout: denied } = await run('curl', ['-sS', `${server.url}/api/uploads`, '-H', 'token: images_api']);
    expect(JSON.parse(denied)).toMatchObject({ statusCode: 401, code: 'UNAUTHORIZED' });
  });

  it("runs the seed's JavaScript example: a files[] upload streamed from a file", async () => {
    // The seed uses `request` with formData: { "files[]": fs.createReadStream('./image.jpg') }.
    // The faithful Node 20 equivalent: fetch + FormData with a file-backed Blob (streamed, not read whole).
    const imagePath = join(dataDir, 'image.jpg');
    const bytes = await jpeg(320, 200, 9);
    await writeFile(imagePath, bytes);
    const formData = new FormData();
    formData.append('files[]', await openAsBlob(imagePath), 'image.jpg');
    const response = await fetch(`${server.url}/api/upload`, { method: 'POST', headers: { token }, body: formData });
    expect(response.status).toBe(201);
    const { files } = (await response.json()) as { files: Upload[] };
    expect(files[0]!.name).toBe('image.jpg');
    const raw = await fetch(files[0]!.raw_url);
    expect(raw.headers.get('content-type')).toBe('image/jpeg');
    expect(Buffer.from(await raw.arrayBuffer()).equals(bytes)).toBe(true);

    // And the same upload the way the shell docs show it: curl -F "files[]=@image.jpg".
    const { stdout } = await run('curl', ['-sS', '-H', `token: ${token}`, '-F', `files[]=@${imagePath}`, `${server.url}/api/upload`]);
    expect((JSON.parse(stdout) as { files: Upload[] }).files[0]!.sha256).toBe(files[0]!.sha256);
  });

  it('keeps nothing when the client disconnects mid-upload', async () => {
    const before = (await listUploads()).length;
    const image = await png(800, 600, 5);
    const boundary = 'xBOUNDARYx';
    const head = `--${boundary}\r\nContent-Disposition: form-data; name="files[]"; filename="half.png"\r\nContent-Type: image/png\r\n\r\n`;
    const socket = connect(server.port, '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write(
      `POST /api/upload HTTP/1.1\r\nHost: 127.0.0.1\r\ntoken: ${token}\r\n` +
        `Content-Type: multipart/form-data; boundary=${boundary}\r\nContent-Length: ${head.length + image.length + 100}\r\n\r\n`,
    );
    socket.write(head);
    socket.write(image.subarray(0, Math.floor(image.length / 2)));
    const tmp = join(dataDir, 'tmp');
    await until(async () => (await readdir(tmp)).length > 0, 10_000, 'the temp file to appear');
    socket.destroy();
    await until(async () => (await readdir(tmp)).length === 0, 10_000, 'temp to be cleaned');
    expect((await listUploads()).length).toBe(before);
  });

  it('loses nothing under concurrent uploads', async () => {
    const images = await Promise.all(Array.from({ length: 16 }, (_, i) => png(200, 150, 1000 + i)));
    const responses = await Promise.all(
      images.map(async (bytes, i) => {
        const form = new FormData();
        form.append('files[]', new Blob([new Uint8Array(bytes)]), `c${i}.png`);
        const response = await fetch(`${server.url}/api/upload`, { method: 'POST', headers: { token }, body: form });
        expect(response.status).toBe(201);
        return ((await response.json()) as { files: Upload[] }).files[0]!;
      }),
    );
    const listed = new Set((await listUploads()).map((u) => u.id));
    for (const [i, upload] of responses.entries()) {
      expect(listed.has(upload.id)).toBe(true);
      const raw = Buffer.from(await (await fetch(upload.raw_url)).arrayBuffer());
      expect(raw.equals(images[i]!)).toBe(true);
    }
  });

  it('answers Range requests over a real socket', async () => {
    const bytes = await jpeg(64, 64, 3);
    const form = new FormData();
    form.append('files[]', new Blob([new Uint8Array(bytes)]), 'r.jpg');
    const { files } = (await (await fetch(`${server.url}/api/upload`, { method: 'POST', headers: { token }, body: form })).json()) as {
      files: Upload[];
    };
    const partial = await fetch(files[0]!.raw_url, { headers: { range: 'bytes=0-99' } });
    expect(partial.status).toBe(206);
    expect(Buffer.from(await partial.arrayBuffer()).equals(bytes.subarray(0, 100))).toBe(true);
  });
});

describe('several workers (WORKERS=2)', () => {
  /** A new connection per request, so node:cluster spreads them over the workers. */
  const statusOf = (url: string) =>
    new Promise<number>((resolve, reject) => {
      httpRequest(url, { agent: false }, (res) => {
        res.resume();
        resolve(res.statusCode!);
      })
        .on('error', reject)
        .end();
    });

  it.each(['256MB', '0'])('stops serving a deleted upload from every worker at once (CACHE_SIZE=%s)', async (cacheSize) => {
    const server = await startServer({ DATA_DIR: await tempDir(), WORKERS: '2', CACHE_SIZE: cacheSize });
    try {
      const token = await register(server.url);
      const form = new FormData();
      form.append('files[]', new Blob([new Uint8Array(await png(30, 30, 31))]), 'w.png');
      const { files } = (await (await fetch(`${server.url}/api/upload`, { method: 'POST', headers: { token }, body: form })).json()) as {
        files: Upload[];
      };
      const raw = files[0]!.raw_url;
      // Warm both workers' memory with the file and its metadata.
      const warm = await Promise.all(Array.from({ length: 20 }, () => statusOf(raw)));
      expect(new Set(warm)).toEqual(new Set([200]));

      expect((await fetch(`${server.url}/api/uploads/${files[0]!.id}`, { method: 'DELETE', headers: { token } })).status).toBe(204);
      // The other worker hears of it over IPC within moments: wait for that, then every answer is 410.
      await until(
        async () => (await Promise.all(Array.from({ length: 10 }, () => statusOf(raw)))).every((s) => s === 410),
        5_000,
        'every worker to answer 410',
      );
      const after = await Promise.all(Array.from({ length: 40 }, () => statusOf(raw)));
      expect(new Set(after)).toEqual(new Set([410]));
    } finally {
      await server.stop('SIGKILL');
    }
  });
});

describe('process lifecycle', () => {
  it('keeps every upload across a restart on the same DATA_DIR', async () => {
    const dataDir = await tempDir();
    const first = await startServer({ DATA_DIR: dataDir });
    const token = await register(first.url);
    const bytes = await png(50, 40, 77);
    const form = new FormData();
    form.append('files[]', new Blob([new Uint8Array(bytes)]), 'keep.png');
    const { files } = (await (await fetch(`${first.url}/api/upload`, { method: 'POST', headers: { token }, body: form })).json()) as {
      files: Upload[];
    };
    expect(await first.stop('SIGTERM')).toBe(0);

    const second = await startServer({ DATA_DIR: dataDir });
    try {
      const listed = (await (await fetch(`${second.url}/api/uploads`, { headers: { token } })).json()) as Upload[];
      expect(listed.map((u) => u.id)).toEqual([files[0]!.id]);
      const raw = await fetch(`${second.url}/i/${files[0]!.id}.png`);
      expect(Buffer.from(await raw.arrayBuffer()).equals(bytes)).toBe(true);
    } finally {
      await second.stop('SIGKILL');
    }
  });

  it('on SIGTERM finishes the in-flight upload, refuses new requests with 503, then exits 0', async () => {
    const dataDir = await tempDir();
    const server = await startServer({ DATA_DIR: dataDir });
    const token = await register(server.url);
    const image = await png(400, 300, 8);
    const boundary = 'zzBOUNDARYzz';
    const head = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="files[]"; filename="slow.png"\r\n\r\n`);
    const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const get = (path: string) =>
      new Promise<number>((resolve, reject) => {
        httpRequest(`${server.url}${path}`, { agent, headers: { token } }, (res) => {
          res.resume();
          resolve(res.statusCode!);
        })
          .on('error', reject)
          .end();
      });

    const upload = httpRequest(`${server.url}/api/upload`, {
      method: 'POST',
      headers: {
        token,
        'content-type': `multipart/form-data; boundary=${boundary}`,
        'content-length': head.length + image.length + tail.length,
      },
    });
    const response = new Promise<{ status: number; body: string }>((resolve, reject) => {
      upload.on('response', (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode!, body }));
      });
      upload.on('error', reject);
    });
    upload.write(head);
    upload.write(image.subarray(0, 1000));
    await until(async () => (await readdir(join(dataDir, 'tmp'))).length > 0, 10_000, 'the upload to start');

    const exited = server.stop('SIGTERM');
    await until(async () => (await get('/healthz')) === 503, 10_000, 'new requests to be refused with 503');
    upload.end(Buffer.concat([image.subarray(1000), tail]));
    const { status, body } = await response;
    expect(status, body).toBe(201);
    expect(await exited).toBe(0);
    agent.destroy();
  });

  it(
    'starts with `npm start` on its embedded defaults (SQLite + files in DATA_DIR), with glibc held to 2 arenas',
    async () => {
      const dataDir = await tempDir();
      // npm start builds first (a second or so, more on a loaded machine).
      const server = await startServer({ DATA_DIR: dataDir }, ['npm', 'start', '--silent'], NPM_START_TIMEOUT_MS);
      try {
        expect(await (await fetch(`${server.url}/readyz`)).json()).toEqual({ status: 'ready', storage: 'local' });
        expect((await readdir(dataDir)).sort()).toEqual(expect.arrayContaining(['discord-images.db', 'files', 'tmp']));
        // npm runs a shell that runs node: find the server among the descendants.
        const environ = async (pid: number): Promise<string[]> => (await readFile(`/proc/${pid}/environ`, 'latin1')).split('\0');
        const descendants = async (pid: number): Promise<number[]> => {
          const children = (await readFile(`/proc/${pid}/task/${pid}/children`, 'latin1')).trim().split(/\s+/).filter(Boolean).map(Number);
          return [...children, ...(await Promise.all(children.map(descendants))).flat()];
        };
        const servers = [];
        for (const pid of await descendants(server.process.pid!)) {
          if ((await readFile(`/proc/${pid}/cmdline`, 'latin1')).includes('server/dist/main.js')) servers.push(pid);
        }
        const envs = await Promise.all(servers.map(environ));
        expect(envs.some((env) => env.includes('MALLOC_ARENA_MAX=2'))).toBe(true);
      } finally {
        await server.stop('SIGKILL');
      }
    },
    NPM_START_TIMEOUT_MS + 30_000,
  );

  it('answers 507 and keeps nothing when the disk fills up in the middle of an upload', async () => {
    // A real write failure, not a mock: the server may make no file as large as the upload
    // (RLIMIT_FSIZE), so it fails part-way into its temp file, as on a full disk. The limit
    // falls inside the last write, which the kernel then carries out only in part.
    const big = await jpeg(2000, 1500, 91);
    expect(big.length).toBeGreaterThan(2 * 1024 ** 2);
    const dataDir = await tempDir();
    const limited = ['prlimit', `--fsize=${big.length - 50_000}`, 'node', '--import', 'tsx', 'server/src/main.ts'];
    const server = await startServer({ DATA_DIR: dataDir }, limited);
    try {
      const token = await register(server.url);
      const send = async (bytes: Buffer, name: string) => {
        const form = new FormData();
        form.append('files[]', new Blob([new Uint8Array(bytes)]), name);
        return fetch(`${server.url}/api/upload`, { method: 'POST', headers: { token }, body: form });
      };
      const refused = await send(big, 'big.jpg');
      expect(refused.status).toBe(507);
      expect(await refused.json()).toMatchObject({ statusCode: 507, code: 'INSUFFICIENT_STORAGE' });
      expect(await (await fetch(`${server.url}/api/uploads`, { headers: { token } })).json()).toEqual([]);
      await until(async () => (await readdir(join(dataDir, 'tmp'))).length === 0, 10_000, 'temp to be cleaned');
      // Space for small files is still there, and the client is not left hanging on the
      // connection that carried the refused upload: the server goes on working.
      expect((await send(await png(40, 30, 92), 'small.png')).status).toBe(201);
    } finally {
      await server.stop('SIGKILL');
    }
  });

  it('refuses a bad configuration with one clear line naming the variable', async () => {
    const failure = await run('node', ['--import', 'tsx', 'server/src/main.ts'], {
      cwd: (await import('./helpers/server.js')).ROOT,
      env: { PATH: process.env.PATH, PORT: 'seventy', MAX_FILE_SIZE: 'huge', REGISTRATION: 'maybe' },
    }).catch((error: { code: number; stderr: string }) => error);
    expect('code' in failure && failure.code).toBe(1);
    const stderr = (failure as { stderr: string }).stderr;
    expect(stderr).toMatch(/^Invalid configuration:/);
    expect(stderr).toMatch(/PORT=seventy is not valid/);
    expect(stderr).toMatch(/MAX_FILE_SIZE=huge is not valid/);
    expect(stderr).toMatch(/REGISTRATION=maybe is not valid: expected one of open, invite, closed/);
    expect(stderr).not.toMatch(/at .*\.ts/);
  });
});
