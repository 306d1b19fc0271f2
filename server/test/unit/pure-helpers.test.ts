import { describe, expect, it } from 'vitest';
import { loadConfig, METRICS_TOKEN_MIN_LENGTH, parseSize } from '../../src/config/config.js';
import { isApiKeyFormat, newApiKeySecret, newUploadId, randomBase62, safeEqual } from '../../src/domain/ids.js';
import { sanitizeFileName } from '../../src/domain/names.js';
import { acceptsJson } from '../../src/http/accept.js';
import { parseRange } from '../../src/http/range.js';
import { hashPassword, OWASP_SCRYPT, verifyPassword } from '../../src/services/password.js';

describe('ids and keys', () => {
  it('makes upload ids of 10 base62 characters, all different', () => {
    const ids = new Set(Array.from({ length: 10_000 }, newUploadId));
    expect(ids.size).toBe(10_000);
    for (const id of ids) expect(id).toMatch(/^[0-9A-Za-z]{10}$/);
  });

  it('draws every base62 character about equally often (no modulo bias)', () => {
    const counts = new Map<string, number>();
    for (const char of randomBase62(62_000)) counts.set(char, (counts.get(char) ?? 0) + 1);
    expect(counts.size).toBe(62);
    for (const count of counts.values()) expect(Math.abs(count - 1000)).toBeLessThan(200);
  });

  it('makes API keys of di_ + 40 base62 characters and recognises the format', () => {
    const key = newApiKeySecret();
    expect(key).toMatch(/^di_[0-9A-Za-z]{40}$/);
    expect(isApiKeyFormat(key)).toBe(true);
    expect(isApiKeyFormat('images_api')).toBe(false);
    expect(isApiKeyFormat(`di_${'a'.repeat(31)}`)).toBe(false);
  });

  it('compares secrets of any length safely', () => {
    expect(safeEqual('abc', 'abc')).toBe(true);
    expect(safeEqual('abc', 'abd')).toBe(false);
    expect(safeEqual('abc', 'abcd')).toBe(false);
  });
});

describe('passwords', () => {
  it("hashes with scrypt at OWASP's parameters and verifies", async () => {
    const hash = await hashPassword('correct horse battery');
    expect(hash.startsWith(`scrypt$${OWASP_SCRYPT.cost}$8$1$`)).toBe(true);
    expect(await verifyPassword('correct horse battery', hash)).toBe(true);
    expect(await verifyPassword('correct horse batterY', hash)).toBe(false);
    expect(await verifyPassword('x', 'not-a-hash')).toBe(false);
  });
});

describe('file names', () => {
  it.each([
    ['screenshot.png', 'screenshot.png'],
    ['../../etc/passwd', 'passwd'],
    ['C:\\Users\\me\\shot.png', 'shot.png'],
    ['a\u0000b\u001fc\u007f.png', 'abc.png'],
    ['report\u202Egnp.exe', 'reportgnp.exe'],
    ['...hidden.png', 'hidden.png'],
    ['   ', 'image'],
    [undefined, 'image'],
    ['tab\tand\nnewline.png', 'tabandnewline.png'],
  ])('%j becomes %j', (input, expected) => {
    expect(sanitizeFileName(input)).toBe(expected);
  });

  it('keeps at most 255 UTF-8 bytes, the extension, and whole characters', () => {
    const name = sanitizeFileName(`${'é'.repeat(400)}.png`);
    expect(Buffer.byteLength(name)).toBeLessThanOrEqual(255);
    expect(name.endsWith('é.png')).toBe(true);
    expect(sanitizeFileName('😀'.repeat(300))).toMatch(/^(😀)+$/u);
  });
});

describe('Range header', () => {
  it.each([
    [undefined, undefined],
    ['bytes=0-9', { start: 0, end: 9 }],
    ['bytes=90-', { start: 90, end: 99 }],
    ['bytes=-10', { start: 90, end: 99 }],
    ['bytes=95-200', { start: 95, end: 99 }],
    ['bytes=0-1,5-6', undefined],
    ['items=0-1', undefined],
    ['bytes=100-', 'unsatisfiable'],
    ['bytes=5-2', 'unsatisfiable'],
    ['bytes=abc', 'unsatisfiable'],
    ['bytes=-0', 'unsatisfiable'],
  ])('%s on 100 bytes', (header, expected) => {
    expect(parseRange(header, 100)).toEqual(expected);
  });
});

describe('Accept header', () => {
  it.each([
    [undefined, true],
    ['application/json', true],
    ['*/*', true],
    ['text/html,application/xhtml+xml,*/*;q=0.8', true],
    ['text/html', false],
    ['application/json;q=0', false],
    ['image/png, text/plain', false],
  ])('%s -> %s', (accept, ok) => expect(acceptsJson(accept)).toBe(ok));
});

describe('configuration', () => {
  it('has working defaults', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      port: 3000,
      storage: 'local',
      registration: 'open',
      maxFiles: 20,
      publicUrl: 'http://localhost:3000',
      databaseUrl: undefined,
    });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('reads sizes in bytes or with units', () => {
    expect(parseSize('1048576')).toBe(1048576);
    expect(parseSize('100MB')).toBe(100_000_000);
    expect(parseSize('512 KiB')).toBe(524288);
    expect(parseSize('1.5G')).toBe(1.5 * 1024 ** 3);
    expect(parseSize('lots')).toBeUndefined();
  });

  it('reports every bad variable at once, one line each, without leaking passwords', () => {
    expect(() =>
      loadConfig({ PORT: '99999', DATABASE_URL: 'mysql://u:secret@h/db', STORAGE: 'ftp', PUBLIC_URL: 'not a url' }),
    ).toThrowError(
      /^PORT=99999 is not valid: expected a whole number from 0 to 65535\nPUBLIC_URL=not a url is not valid.*\nSTORAGE=ftp is not valid.*\nDATABASE_URL=mysql:\/\/u:\*\*\*@h\/db is not valid/,
    );
    // S3 without its settings names each missing one.
    expect(() => loadConfig({ STORAGE: 's3', S3_BUCKET: 'images' })).toThrowError(
      /^S3_ACCESS_KEY_ID is required with STORAGE=s3 .*\nS3_SECRET_ACCESS_KEY is required with STORAGE=s3 /,
    );
  });

  it('takes REDIS_URL with a key prefix, and refuses a bad one without leaking its password', () => {
    expect(loadConfig({})).toMatchObject({ redisUrl: undefined, redisPrefix: 'discord-images:' });
    expect(loadConfig({ REDIS_URL: 'rediss://:pw@cache:6380/2', REDIS_PREFIX: 'images-prod:' })).toMatchObject({
      redisUrl: 'rediss://:pw@cache:6380/2',
      redisPrefix: 'images-prod:',
    });
    expect(() => loadConfig({ REDIS_URL: 'http://u:secret@cache', REDIS_PREFIX: 'two words' })).toThrowError(
      /^REDIS_PREFIX=two words is not valid: expected 1 to 64 visible ASCII characters.*\nREDIS_URL=http:\/\/u:\*\*\*@cache is not valid: expected a redis:\/\/ or rediss:\/\/ URL$/,
    );
  });

  it('takes the three registration modes and names them when given another', () => {
    for (const mode of ['open', 'invite', 'closed'] as const) expect(loadConfig({ REGISTRATION: mode }).registration).toBe(mode);
    expect(loadConfig({}).registration).toBe('open');
    expect(() => loadConfig({ REGISTRATION: 'maybe' })).toThrowError(
      /^REGISTRATION=maybe is not valid: expected one of open, invite, closed$/,
    );
  });

  describe('metrics', () => {
    const token = 'a'.repeat(METRICS_TOKEN_MIN_LENGTH);
    it('are off unless a token or a port is given, which turns them on', () => {
      expect(loadConfig({}).metrics).toBeNull();
      expect(loadConfig({ METRICS_TOKEN: token }).metrics).toEqual({ token, port: undefined, host: '0.0.0.0' });
      expect(loadConfig({ METRICS_PORT: '9100', HOST: '10.0.0.5' }).metrics).toEqual({ token: undefined, port: 9100, host: '10.0.0.5' });
      expect(loadConfig({ METRICS_PORT: '9100', METRICS_HOST: '127.0.0.1' }).metrics?.host).toBe('127.0.0.1');
      expect(loadConfig({ METRICS: 'off', METRICS_TOKEN: token, METRICS_PORT: '9100' }).metrics).toBeNull();
    });

    it('refuses METRICS=on with neither, a short token, and the main port, saying what to do', () => {
      expect(() => loadConfig({ METRICS: 'on' })).toThrowError(/^METRICS=on needs METRICS_TOKEN .* or METRICS_PORT .*, or both/);
      expect(() => loadConfig({ METRICS_TOKEN: 'secret' })).toThrowError(
        /^METRICS_TOKEN is not valid: expected at least 32 visible ASCII characters without spaces, such as the output of: openssl rand -hex 32$/,
      );
      expect(() => loadConfig({ METRICS_TOKEN: `${token} x` })).toThrowError(/^METRICS_TOKEN is not valid/);
      expect(() => loadConfig({ PORT: '8080', METRICS_PORT: '8080' })).toThrowError(
        /^METRICS_PORT=8080 is not valid: it must differ from PORT/,
      );
      expect(() => loadConfig({ METRICS_PORT: '0' })).toThrowError(
        /^METRICS_PORT=0 is not valid: expected a whole number from 1 to 65535$/,
      );
      expect(() => loadConfig({ METRICS: 'maybe' })).toThrowError(/^METRICS=maybe is not valid: expected true or false/);
    });
  });

  it('strips a trailing slash from PUBLIC_URL', () => {
    expect(loadConfig({ PUBLIC_URL: 'https://img.example.com/' }).publicUrl).toBe('https://img.example.com');
  });
});
