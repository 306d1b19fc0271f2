/**
 * A multi-part upload that outlives the orphan sweep's staleness bound: its first part's temp
 * file was written long ago, yet belongs to a running upload, and the sweep must spare it.
 * The hour is simulated by ageing the file's mtime (a real socket holds the request open).
 */
import { once } from 'node:events';
import { readdir, stat, utimes } from 'node:fs/promises';
import { type AddressInfo, connect } from 'node:net';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { until } from '../../../e2e/helpers/server.js';
import { STALE_TEMP_MS } from '../../src/services/orphan-sweeper.js';
import { createTestApp } from '../helpers/app.js';
import { uploadTempDir } from '../../src/storage/data-dir.js';
import { png } from '../helpers/fixtures.js';
import { multipart } from '../helpers/multipart.js';

const sockets: import('node:net').Socket[] = [];
afterEach(() => {
  for (const socket of sockets.splice(0)) socket.destroy();
});

it('the orphan sweep spares the temp files of an upload still running after STALE_TEMP_MS', async () => {
  const t = await createTestApp('sqlite');
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = t.app.server.address() as AddressInfo;
  const { token } = await t.newUser();
  const first = await png(200, 100, 1);
  const body = await multipart([
    { filename: 'first.png', data: first },
    { filename: 'second.png', data: await png(200, 100, 2) },
  ]);
  // Everything up to the second part's bytes: the first part is whole and on disk.
  const cut = body.payload.indexOf('second.png') + 200;

  const socket = connect(port, '127.0.0.1');
  sockets.push(socket);
  let answer = '';
  socket.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')));
  await once(socket, 'connect');
  socket.write(
    `POST /api/upload HTTP/1.1\r\nHost: 127.0.0.1\r\ntoken: ${token}\r\ncontent-type: ${body.headers['content-type']}\r\n` +
      `content-length: ${body.payload.length}\r\n\r\n`,
  );
  socket.write(body.payload.subarray(0, cut));

  const tmp = uploadTempDir(t.container.config.dataDir);
  const firstTemp = async () => {
    for (const name of await readdir(tmp)) {
      if (name.endsWith('.upload') && (await stat(join(tmp, name))).size === first.length) return join(tmp, name);
    }
    return undefined;
  };
  await until(async () => (await firstTemp()) !== undefined, 15_000, "the first part's temp file");

  // Two hours pass: every temp file now looks like a crash's leftover...
  const past = new Date(Date.now() - 2 * STALE_TEMP_MS);
  for (const name of await readdir(tmp)) await utimes(join(tmp, name), past, past);
  // ...until the running upload marks its own as in use, as its timer does every STALE_TEMP_MS / 4.
  await t.container.uploads.touchTempFiles();
  expect((await t.container.sweeper.sweep()).temp).toBe(0);

  socket.write(body.payload.subarray(cut));
  await until(() => answer.includes('\r\n\r\n') && answer.endsWith('}'), 15_000, 'the answer');
  expect(answer).toMatch(/^HTTP\/1\.1 201 /);
  expect(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)).files.map((f: { name: string }) => f.name)).toEqual([
    'first.png',
    'second.png',
  ]);
});
