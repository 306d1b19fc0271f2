/** What `npm start` tells a person (src/startup-banner.ts); the real start is in e2e/npm-start.e2e.test.ts. */
import { describe, expect, it } from 'vitest';
import { isLoopback, publicUrlWarning, startupBanner } from '../../src/startup-banner.js';

describe('startup banner', () => {
  it('says where it listens, the links it hands out, and how to create the first account', () => {
    const text = startupBanner({ config: { host: '0.0.0.0', publicUrl: 'https://img.example.com' }, port: 3000, hasAdmin: false });
    expect(text).toContain('Listening on  http://0.0.0.0:3000 (every network interface)');
    expect(text).toContain('Links use     https://img.example.com (PUBLIC_URL)');
    expect(text).toContain(`curl -X POST http://localhost:3000/api/auth/register -H 'content-type: application/json'`);
    expect(text).not.toMatch(/^\{/m); // plain text, no JSON log lines
  });

  it('shows the address it is bound to in the commands, and no sign-up once the admin exists', () => {
    const ipv6 = startupBanner({ config: { host: '::1', publicUrl: 'http://[::1]:8080' }, port: 8080, hasAdmin: false });
    expect(ipv6).toContain('curl -X POST http://[::1]:8080/api/auth/register');
    const later = startupBanner({ config: { host: '127.0.0.1', publicUrl: 'http://127.0.0.1:3000' }, port: 3000, hasAdmin: true });
    expect(later).not.toContain('/api/auth/register');
    expect(later).toContain('Next: upload with your API key');
  });

  it('says where the metrics are, when they are on', () => {
    const config = { host: '0.0.0.0', publicUrl: 'https://img.example.com' };
    expect(startupBanner({ config, port: 3000, hasAdmin: true })).not.toContain('Metrics');
    const both = startupBanner({
      config: { ...config, metrics: { token: 'x'.repeat(32), port: 9464, host: '10.0.0.5' } },
      port: 3000,
      hasAdmin: true,
    });
    expect(both).toContain(
      '  Metrics at    http://10.0.0.5:9464/metrics (METRICS_PORT, no token); and /metrics on port 3000 with Authorization: Bearer <METRICS_TOKEN>\n',
    );
    const portOnly = startupBanner({
      config: { ...config, metrics: { token: undefined, port: 9464, host: '::1' } },
      port: 3000,
      hasAdmin: true,
    });
    expect(portOnly).toContain('  Metrics at    http://[::1]:9464/metrics (METRICS_PORT, no token)\n');
  });

  it.each([
    ['localhost', true],
    ['LOCALHOST', true],
    ['img.localhost', true],
    ['127.0.0.1', true],
    ['127.1.2.3', true],
    ['::1', true],
    ['[::1]', true],
    ['::ffff:127.0.0.1', true],
    ['0.0.0.0', false],
    ['::', false],
    ['192.168.1.10', false],
    ['img.example.com', false],
    ['localhost.example.com', false],
    ['1127.0.0.1', false],
  ])('%s is loopback: %s', (host, loopback) => expect(isLoopback(host)).toBe(loopback));

  it.each([
    ['0.0.0.0', 'http://localhost:3000', true],
    ['::', 'http://127.0.0.1:3000', true],
    ['192.168.1.10', 'http://[::1]:3000', true],
    ['127.0.0.1', 'http://localhost:3000', false],
    ['localhost', 'http://localhost:3000', false],
    ['0.0.0.0', 'https://img.example.com', false],
  ])('HOST=%s with PUBLIC_URL=%s warns: %s', (host, publicUrl, warns) => {
    const warning = publicUrlWarning({ config: { host, publicUrl } });
    expect(warning !== undefined).toBe(warns);
    if (warning) expect(warning).toMatch(new RegExp(`^Warning: PUBLIC_URL is ${publicUrl.replace(/[[\]]/g, '\\$&')}, a loopback address`));
  });
});
