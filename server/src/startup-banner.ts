import { isIPv6 } from 'node:net';
import type { Config } from './config/config.js';

export interface StartupFacts {
  config: Pick<Config, 'host' | 'publicUrl'> & Partial<Pick<Config, 'metrics'>>;
  /** The port actually bound (PORT=0 picks one). */
  port: number;
  /** Whether the first account (the admin) exists: the next step differs. */
  hasAdmin: boolean;
}

/** Addresses that mean "every interface" when listened on. */
const WILDCARD_HOSTS = new Set(['0.0.0.0', '::', '[::]']);

/** localhost, *.localhost, 127.0.0.0/8 and ::1 (also IPv4-mapped); brackets of an IPv6 URL host allowed. */
export function isLoopback(host: string): boolean {
  const name = host.toLowerCase().replace(/^\[(.*)\]$/, '$1');
  return name === 'localhost' || name.endsWith('.localhost') || name === '::1' || /^(::ffff:)?127\.\d+\.\d+\.\d+$/.test(name);
}

const urlOf = (host: string, port: number): string => `http://${isIPv6(host) ? `[${host}]` : host}:${port}`;

/**
 * What a person reads when the server is up, in plain text (the log is JSON lines): where it
 * listens, the base of the links it hands out, and what to do next.
 */
export function startupBanner({ config, port, hasAdmin }: StartupFacts): string {
  const everywhere = WILDCARD_HOSTS.has(config.host);
  // The address to reach it from this machine, for the commands below.
  const local = urlOf(everywhere ? 'localhost' : config.host, port);
  const next = hasAdmin
    ? ['Next: upload with your API key (README.md, "Quick start with curl"). Settings: docs/configuration.md.']
    : [
        'Next: create the first account. It becomes the admin, and the answer holds its API key ("token"):',
        `  curl -X POST ${local}/api/auth/register -H 'content-type: application/json' \\`,
        `    -d '{"username": "admin", "password": "a long passphrase"}'`,
        'Then upload with that key (README.md, "Quick start with curl"). Settings: docs/configuration.md.',
      ];
  return [
    'Discord Images is ready.',
    `  Listening on  ${urlOf(config.host, port)}${everywhere ? ' (every network interface)' : ''}`,
    `  Links use     ${config.publicUrl} (PUBLIC_URL)`,
    ...metricsLines(config.metrics ?? null, port),
    '',
    ...next,
    '',
  ].join('\n');
}

/** Where Prometheus finds the metrics, when they are on (docs/metrics.md). */
function metricsLines(metrics: Config['metrics'], port: number): string[] {
  if (!metrics) return [];
  const where: string[] = [];
  if (metrics.port !== undefined) where.push(`${urlOf(metrics.host, metrics.port)}/metrics (METRICS_PORT, no token)`);
  if (metrics.token !== undefined) where.push(`/metrics on port ${port} with Authorization: Bearer <METRICS_TOKEN>`);
  return [`  Metrics at    ${where.join('; and ')}`];
}

/**
 * Links that name a loopback address while other machines can connect: every link handed out
 * would point at the viewer's own machine, which Discord cannot fetch, so none would unfurl.
 */
export function publicUrlWarning({ config }: Pick<StartupFacts, 'config'>): string | undefined {
  const linkHost = new URL(config.publicUrl).hostname;
  if (!isLoopback(linkHost) || isLoopback(config.host)) return undefined;
  const where = WILDCARD_HOSTS.has(config.host) ? 'every network interface' : config.host;
  return [
    `Warning: PUBLIC_URL is ${config.publicUrl}, a loopback address, but the server listens on ${where} (HOST=${config.host}).`,
    '  Every link it hands out would point at localhost, which Discord and other people cannot reach: no link would unfurl.',
    '  Set PUBLIC_URL to the address people reach this server at, for example PUBLIC_URL=https://img.example.com (docs/configuration.md).',
    '',
  ].join('\n');
}
