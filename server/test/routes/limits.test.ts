import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { uploadTempDir } from '../../src/storage/data-dir.js';
import { DIALECTS } from '../helpers/database.js';
import { png } from '../helpers/fixtures.js';
import { multipart } from '../helpers/multipart.js';

describe.each(DIALECTS)('quota, storage faults and readiness on %s', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(dialect, { DEFAULT_QUOTA: '20KB' });
  });

  const upload = async (token: string, data: Buffer) => {
    const body = await multipart([{ filename: 'q.png', data }]);
    return t.app.inject({ method: 'POST', url: '/api/upload', headers: { ...body.headers, token }, payload: body.payload });
  };

  it('refuses an upload that would exceed the quota with 413 and a clear message, storing nothing', async () => {
    const { token } = await t.newUser();
    const first = await png(50, 50, 1); // ~7.5 KB of noise
    expect((await upload(token, first)).statusCode).toBe(201);
    const me = (await t.app.inject({ method: 'GET', url: '/api/me', headers: { token } })).json();
    expect(me).toMatchObject({ usage: { bytes: first.length, files: 1 }, quota_bytes: 20_000 });

    const big = await png(80, 80, 2); // ~19 KB: over what is left
    const response = await upload(token, big);
    expect(response.statusCode).toBe(413);
    expect(response.json().code).toBe('QUOTA_EXCEEDED');
    expect(response.json().message).toMatch(/over your quota: 7\.\d KB of 20 KB used/);
    const after = (await t.app.inject({ method: 'GET', url: '/api/uploads', headers: { token } })).json();
    expect(after).toHaveLength(1);
    expect(await readdir(uploadTempDir(t.container.config.dataDir))).toEqual([]);
  });

  it('answers 507 and keeps no row when the storage is out of space', async () => {
    // ENOSPC cannot be caused on this machine's disk without filling it: this one fault is injected.
    const { token } = await t.newUser();
    const storage = t.container.storage;
    const original = storage.put.bind(storage);
    storage.put = () => Promise.reject(Object.assign(new Error('no space left on device'), { code: 'ENOSPC' }));
    try {
      const response = await upload(token, await png(10, 10, 3));
      expect(response.statusCode).toBe(507);
      expect(response.json()).toMatchObject({ code: 'INSUFFICIENT_STORAGE', message: expect.stringMatching(/out of storage space/) });
    } finally {
      storage.put = original;
    }
    const listed = (await t.app.inject({ method: 'GET', url: '/api/uploads', headers: { token } })).json();
    expect(listed).toEqual([]);
    const me = (await t.app.inject({ method: 'GET', url: '/api/me', headers: { token } })).json();
    expect(me.usage).toEqual({ bytes: 0, files: 0 });
    expect(await readdir(uploadTempDir(t.container.config.dataDir))).toEqual([]);
  });

  it('reports not ready (503) while the storage cannot be written, and ready again after', async () => {
    const tmp = uploadTempDir(t.container.config.dataDir);
    await rm(tmp, { recursive: true });
    await writeFile(tmp, 'a file where the temp directory should be');
    try {
      const response = await t.app.inject({ method: 'GET', url: '/readyz' });
      expect(response.statusCode).toBe(503);
      expect(response.json().code).toBe('SERVICE_UNAVAILABLE');
      expect(response.json().message).not.toContain(tmp);
    } finally {
      await rm(tmp);
      await mkdir(tmp);
    }
    expect((await t.app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
  });
});
