import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { logTail, start, stop, waitForHttp, type Started } from './processes.js';

/**
 * The baseline for raw serving: nginx at its best for a static file (sendfile, no access
 * log, one worker per core), so the ratio says how far the service is from "as fast as this
 * machine serves a file". Everything nginx writes (pid, logs, temp files) stays in `prefix`,
 * so no system nginx config or directory is touched.
 */
export function nginxConfig(options: { prefix: string; root: string; port: number; asRoot: boolean }): string {
  const { prefix, root, port } = options;
  return `
# The master forks workers as "nobody" when started by root; they could not read a 0700 temp dir.
${options.asRoot ? 'user root;' : ''}
worker_processes auto;
pid ${join(prefix, 'nginx.pid')};
error_log ${join(prefix, 'error.log')} warn;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  # wrk holds its connections for the whole run; nginx's default of 1000 requests per
  # connection would add reconnects that the Node servers (no such limit) do not pay.
  keepalive_requests 1000000;
  types { image/jpeg jpg; }
  client_body_temp_path ${join(prefix, 'client_body')};
  proxy_temp_path ${join(prefix, 'proxy')};
  fastcgi_temp_path ${join(prefix, 'fastcgi')};
  uwsgi_temp_path ${join(prefix, 'uwsgi')};
  scgi_temp_path ${join(prefix, 'scgi')};
  server {
    listen 127.0.0.1:${port};
    root ${root};
  }
}
`;
}

/** Starts nginx in the foreground on `port`, serving `root`, and waits until `probePath` answers 200. */
export async function startNginx(
  nginxPath: string,
  options: { prefix: string; root: string; port: number; probePath: string },
): Promise<Started> {
  mkdirSync(options.prefix, { recursive: true });
  const confPath = join(options.prefix, 'nginx.conf');
  writeFileSync(confPath, nginxConfig({ ...options, asRoot: process.getuid?.() === 0 }));
  // -e: the error log used before the config is read; the default lives under /var/log.
  const started = start(nginxPath, ['-e', join(options.prefix, 'error.log'), '-c', confPath, '-p', options.prefix, '-g', 'daemon off;'], {
    logPath: join(options.prefix, 'stdout.log'),
  });
  try {
    await waitForHttp(`http://127.0.0.1:${options.port}${options.probePath}`, {
      started,
      deadlineMs: 10_000,
      accept: (status) => status === 200,
    });
  } catch (error) {
    await stop(started);
    throw new Error(`nginx did not start: ${(error as Error).message}\n${logTail(join(options.prefix, 'error.log'))}`);
  }
  return started;
}
