/**
 * The deployment files (Dockerfile, compose.yaml, the nginx configurations, the S3 policies) are
 * never run here: no Docker daemon, no internet. What can drift from the code is checked instead,
 * so that docs/deployment.md and the files it describes stay true.
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfig, parseSize } from '../../src/config/config.js';
import { fencedBlocks } from '../helpers/markdown.js';
import { tempDir } from '../helpers/temp-dir.js';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');
const BUILD_SCRIPT = 'scripts/ci-build.sh';
const NGINX = '/usr/sbin/nginx';
const SYSTEMD_ANALYZE = '/usr/bin/systemd-analyze';

/** A shell script's or Dockerfile's instructions: continuation lines joined, comments and blank lines gone. */
function instructions(text: string): string[] {
  return text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
}

describe('the image is built by the same script as CI', () => {
  it('has one install-and-build script, run by both .ci/run and the Dockerfile, and neither installs on its own', () => {
    accessSync(join(ROOT, BUILD_SCRIPT), constants.X_OK);
    const script = instructions(read(BUILD_SCRIPT));
    expect(script).toContain('npm ci --no-audit --no-fund');
    expect(script).toContain('npm run build');

    const ci = instructions(read('.ci/run'));
    expect(ci).toContain(BUILD_SCRIPT);
    const dockerfile = instructions(read('Dockerfile'));
    const runs = dockerfile.filter((line) => /^RUN\s/i.test(line));
    expect(runs.filter((line) => line.split(/\s+|&&/).includes(BUILD_SCRIPT))).toHaveLength(1);
    // An install or build outside the script is a step CI does not take, or takes differently.
    const ownSteps = /\bnpm (ci|install|i|run build|rebuild)\b/;
    expect(ci.filter((line) => ownSteps.test(line))).toEqual([]);
    expect(runs.filter((line) => ownSteps.test(line))).toEqual([]);
  });

  it('runs what the script builds, as a non-root user, with its data in a volume and a health check on /healthz', () => {
    const dockerfile = instructions(read('Dockerfile'));
    const stages = dockerfile.filter((line) => /^FROM\s/i.test(line));
    expect(stages).toEqual(['FROM node:20-bookworm-slim AS build', 'FROM node:20-bookworm-slim']);
    const final = dockerfile.slice(dockerfile.lastIndexOf(stages[1]!));
    expect(final).toContain('CMD ["node", "server/dist/main.js"]');
    expect(final).toContain('COPY --from=build /app/server/dist ./server/dist');
    expect(final).toContain('COPY --from=build /app/web/dist ./web/dist');
    expect(final.filter((line) => /^USER\s/.test(line))).toEqual(['USER node']);
    const dataDir = /DATA_DIR=(\S+)/.exec(final.find((line) => line.startsWith('ENV ')) ?? '')?.[1];
    expect(dataDir).toBe('/data');
    expect(final).toContain(`VOLUME ${dataDir}`);
    expect(final.find((line) => line.startsWith('HEALTHCHECK '))).toMatch(/\/healthz/);
  });

  it('builds from the sources alone: nothing built, installed or secret on the host goes into the image', () => {
    expect(instructions(read('.dockerignore'))).toEqual(expect.arrayContaining(['**/node_modules', '**/dist', 'data', '.env']));
  });
});

/**
 * Every variable name loadConfig looks at, found by letting it read environments that record
 * them: one empty, and one with STORAGE=s3, whose settings are read only then (and are missing
 * there, so that configuration is refused once they have all been read).
 */
function namesTheConfigurationReads(): Set<string> {
  const names = new Set<string>();
  const recording = (given: Record<string, string>) =>
    new Proxy(given, {
      get: (target, name) => {
        if (typeof name === 'string') names.add(name);
        return typeof name === 'string' ? target[name] : undefined;
      },
    });
  loadConfig(recording({}));
  expect(() => loadConfig(recording({ STORAGE: 's3' }))).toThrow(/S3_BUCKET/);
  return names;
}

/** What a reader puts in compose's .env (docs/deployment.md#docker-compose). */
const DOT_ENV: Record<string, string> = {
  PUBLIC_URL: 'https://img.example.com',
  POSTGRES_PASSWORD: '0123456789abcdef0123456789abcdef',
  MINIO_ROOT_PASSWORD: 'fedcba9876543210fedcba9876543210',
  S3_SECRET_ACCESS_KEY: '00112233445566778899aabbccddeeff',
};

/** Compose's `${NAME:-default}` interpolation, with DOT_ENV as the .env file. */
const interpolate = (value: unknown): string =>
  String(value).replace(/\$\{(\w+)(?::?-([^}]*))?\}/g, (_match, name: string, fallback?: string) => DOT_ENV[name] || (fallback ?? ''));

interface ComposeService {
  build?: unknown;
  image?: string;
  environment?: Record<string, unknown> | string[];
  volumes?: string[];
}

const services = (parse(read('compose.yaml'), { merge: true }) as { services: Record<string, ComposeService> }).services;

/** A service's environment as the container gets it. */
function environment(service: ComposeService): Record<string, string> {
  const entries = Array.isArray(service.environment)
    ? service.environment.map((entry) => [entry.split('=')[0]!, entry.split('=').slice(1).join('=')] as const)
    : Object.entries(service.environment ?? {});
  return Object.fromEntries(entries.map(([name, value]) => [name, interpolate(value)]));
}

describe('compose.yaml', () => {
  /** The services that run the server: built from this repository's Dockerfile. */
  const servers = Object.entries(services).filter(([, service]) => service.build !== undefined);

  it('gives the server only variables its configuration reads, with values it accepts', () => {
    const known = namesTheConfigurationReads();
    expect(servers.map(([name]) => name)).toEqual(['single', 'app1', 'app2']);
    for (const [name, service] of servers) {
      const env = environment(service);
      const unknown = Object.keys(env).filter((variable) => !known.has(variable));
      expect(unknown, `compose.yaml: ${name}'s variables the configuration does not read`).toEqual([]);
      expect(() => loadConfig(env), `compose.yaml: ${name}'s values`).not.toThrow();
    }
  });

  it('runs the cluster as docs/deployment.md says: one database, one Redis, one bucket, behind a proxy, each node with a data volume of its own', () => {
    const [app1, app2] = [environment(services.app1!), environment(services.app2!)];
    expect(app1).toEqual(app2);
    expect(loadConfig(app1)).toMatchObject({
      trustProxy: true,
      publicUrl: DOT_ENV.PUBLIC_URL,
      databaseUrl: `postgres://discord_images:${DOT_ENV.POSTGRES_PASSWORD}@postgres:5432/discord_images`,
      redisUrl: 'redis://redis:6379',
    });
    expect(app1).toMatchObject({ STORAGE: 's3', S3_BUCKET: 'discord-images', S3_ACCESS_KEY_ID: 'discord-images' });
    expect(services.app1!.volumes).toHaveLength(1);
    expect(services.app1!.volumes).not.toEqual(services.app2!.volumes);
  });

  it('mounts only files that exist in the repository', () => {
    const mounted = Object.values(services)
      .flatMap((service) => service.volumes ?? [])
      .filter((volume) => volume.startsWith('./'))
      .map((volume) => volume.split(':')[0]!);
    expect(mounted).toEqual(['./deploy/nginx/compose.conf', './deploy/s3']);
    for (const path of mounted) expect(existsSync(join(ROOT, path)), path).toBe(true);
    expect(read('compose.yaml')).toContain('/policies/server-policy.json');
  });
});

describe('docs/deployment.md', () => {
  const markdown = read('docs/deployment.md');

  it('shows the S3 policies and lifecycle rule exactly as deploy/s3/ holds them', () => {
    const shown = fencedBlocks(markdown, 'json').map((text) => JSON.parse(text) as unknown);
    const files = ['server-policy.json', 'public-read-policy.json', 'lifecycle.json'].map(
      (file) => JSON.parse(read(`deploy/s3/${file}`)) as unknown,
    );
    expect(shown).toEqual(files);
  });

  it('sizes the proxies for a full upload request: MAX_FILES x MAX_FILE_SIZE, and a little for the framing', () => {
    const cluster = loadConfig(environment(services.app1!));
    const defaults = loadConfig({});
    expect(cluster.maxFileSize * cluster.maxFiles).toBe(defaults.maxFileSize * defaults.maxFiles);
    const full = defaults.maxFileSize * defaults.maxFiles;
    const limits = [...fencedBlocks(markdown, 'nginx'), read('deploy/nginx/compose.conf')].map((text) =>
      parseSize(/client_max_body_size\s+(\w+);/.exec(text)![1]!.replace(/m$/, 'MiB'))!,
    );
    limits.push(parseSize(/max_size\s+(\w+)/.exec(fencedBlocks(markdown, 'caddyfile')[0]!)![1]!)!);
    for (const limit of limits) {
      expect(limit).toBeGreaterThanOrEqual(full);
      expect(limit).toBeLessThanOrEqual(full + 16 * 1024 ** 2);
    }
  });

  it('gives a systemd unit that systemd-analyze verifies without a complaint', async () => {
    expect(existsSync(SYSTEMD_ANALYZE), `${SYSTEMD_ANALYZE} is missing: it comes with systemd`).toBe(true);
    const verify = async (unit: string) => {
      const path = join(await tempDir('di-systemd-'), 'discord-images.service');
      await writeFile(path, unit);
      const result = spawnSync(SYSTEMD_ANALYZE, ['verify', path], { encoding: 'utf8' });
      return { ok: result.status === 0, output: `${result.stdout}${result.stderr}` };
    };
    const units = fencedBlocks(markdown, 'ini').filter((block) => block.startsWith('# /etc/systemd/system/'));
    expect(units).toHaveLength(1);
    expect(await verify(units[0]!)).toEqual({ ok: true, output: '' });
    // It does complain: a bad value is reported (as a warning, with status 0).
    expect((await verify(units[0]!.replace('ProtectSystem=strict', 'ProtectSystem=sometimes'))).output).toMatch(
      /ProtectSystem|protect system/i,
    );
  });

  describe('nginx configurations', () => {
    let dir: string;
    let certificate: { cert: string; key: string };

    beforeAll(async () => {
      expect(existsSync(NGINX), `${NGINX} is missing: apt-get install -y nginx (Debian's package)`).toBe(true);
      dir = await tempDir('di-nginx-');
      certificate = { cert: join(dir, 'cert.pem'), key: join(dir, 'key.pem') };
      const openssl = spawnSync(
        'openssl',
        [
          'req',
          '-x509',
          '-newkey',
          'rsa:2048',
          '-nodes',
          '-days',
          '1',
          '-subj',
          '/CN=img.example.com',
          '-keyout',
          certificate.key,
          '-out',
          certificate.cert,
        ],
        { encoding: 'utf8' },
      );
      expect(openssl.status, openssl.stderr).toBe(0);
    });

    /**
     * `nginx -t` on a site inside a minimal nginx.conf of its own (Debian includes sites in the
     * http block), in a temp prefix; its upstream servers become 127.0.0.1 (the compose names do
     * not resolve here) and its certificate a self-signed one.
     */
    async function nginxTest(site: string): Promise<{ ok: boolean; output: string }> {
      const root = join(dir, `t${Math.random().toString(36).slice(2)}`);
      await mkdir(root);
      const stubbed = site
        .replace(/^(\s*server\s+)[\w.-]+:(\d+)/gm, '$1127.0.0.1:$2')
        .replace(/^(\s*ssl_certificate\s+)\S+;/m, `$1${certificate.cert};`)
        .replace(/^(\s*ssl_certificate_key\s+)\S+;/m, `$1${certificate.key};`);
      await writeFile(join(root, 'site.conf'), stubbed);
      const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']
        .map((kind) => `${kind}_temp_path ${join(root, kind)};`)
        .join('\n  ');
      await writeFile(
        join(root, 'nginx.conf'),
        `pid ${join(root, 'nginx.pid')};\nerror_log ${join(root, 'error.log')};\nevents {}\nhttp {\n  access_log off;\n  ${temp}\n  include ${join(root, 'site.conf')};\n}\n`,
      );
      const result = spawnSync(NGINX, ['-t', '-q', '-p', root, '-c', join(root, 'nginx.conf'), '-e', join(root, 'error.log')], {
        encoding: 'utf8',
      });
      return { ok: result.status === 0, output: `${result.stdout}${result.stderr}` };
    }

    it('passes nginx -t, the one in the guide and compose.yaml’s', async () => {
      const sites = fencedBlocks(markdown, 'nginx');
      expect(sites).toHaveLength(1);
      for (const site of [...sites, read('deploy/nginx/compose.conf')]) {
        expect(site).toMatch(/^\s*proxy_request_buffering off;/m);
        expect(site).toMatch(/^\s*proxy_set_header X-Forwarded-For \$remote_addr;/m);
        expect(await nginxTest(site)).toEqual({ ok: true, output: '' });
      }
    });

    it('would catch a broken one', async () => {
      const broken = fencedBlocks(markdown, 'nginx')[0]!.replace('proxy_request_buffering off;', 'proxy_request_buffering never;');
      expect(await nginxTest(broken)).toMatchObject({ ok: false, output: expect.stringMatching(/proxy_request_buffering/) });
    });
  });
});
