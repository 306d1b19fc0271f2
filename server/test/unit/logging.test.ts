/**
 * The log's format (src/logging.ts): JSON lines for collectors, pino-pretty for a person at a
 * terminal. A real terminal run is in e2e/metrics.e2e.test.ts.
 */
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { loggerOptions, prettyLogs } from '../../src/logging.js';

describe('log format', () => {
  it.each([
    ['auto', true, true],
    ['auto', false, false],
    ['auto', undefined, false],
    ['json', true, false],
    ['pretty', false, true],
  ] as const)('LOG_FORMAT=%s with stdout a TTY: %s -> pretty %s', (format, isTTY, pretty) => {
    expect(prettyLogs(format, { isTTY })).toBe(pretty);
  });

  it('LOG_FORMAT takes auto, json or pretty, auto by default', () => {
    expect(loadConfig({}).logFormat).toBe('auto');
    expect(loadConfig({ LOG_FORMAT: 'json' }).logFormat).toBe('json');
    expect(() => loadConfig({ LOG_FORMAT: 'xml' })).toThrowError(/^LOG_FORMAT=xml is not valid: expected one of auto, json, pretty$/);
  });

  it('gives pino a pretty stream only when pretty, redacting credentials either way', async () => {
    const stdout = Object.assign(new PassThrough(), { isTTY: false }) as unknown as NodeJS.WriteStream;
    const json = await loggerOptions({ logLevel: 'info', logFormat: 'auto' }, stdout);
    expect(json).toEqual({ level: 'info', redact: ['req.headers.token', 'req.headers.authorization', 'req.headers.cookie'] });
    const pretty = await loggerOptions({ logLevel: 'debug', logFormat: 'pretty' }, stdout);
    expect(pretty).toMatchObject({ level: 'debug', redact: expect.arrayContaining(['req.headers.authorization']) });
    expect(typeof (pretty as { stream?: { write?: unknown } }).stream?.write).toBe('function');
  });
});
