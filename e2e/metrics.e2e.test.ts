/**
 * METRICS_PORT over real sockets: the separate listener of one process, and a cluster's, whose
 * primary sums every worker's metrics (prom-client's AggregatorRegistry), on that port and on
 * the main port with the token alike.
 */
import { describe, expect, it } from 'vitest';
import { tempDir } from '../server/test/helpers/temp-dir.js';
import { parseExposition } from '../server/test/helpers/metrics.js';
import { freePort, startServer } from './helpers/server.js';

const TOKEN = 'e2e-metrics-token-0123456789abcdefghij';

/** Requests to a path no route has, each on a connection of its own (a cluster deals connections out in turn). */
async function unmatched(url: string, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const response = await fetch(`${url}/no/such/page/${i}`, { headers: { connection: 'close' } });
    expect(response.status).toBe(404);
    await response.arrayBuffer();
  }
}

const unmatchedCount = (text: string) =>
  parseExposition(text).value('http_request_duration_seconds_count', { method: 'GET', route: 'unmatched', status: '404' }) ?? 0;

describe('METRICS_PORT', () => {
  it('serves /metrics on a listener of its own, without a token, and nothing on the main port', async () => {
    const metricsPort = await freePort();
    const server = await startServer({ DATA_DIR: await tempDir(), METRICS_PORT: String(metricsPort) });
    try {
      await unmatched(server.url, 3);
      const metrics = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
      expect(metrics.status).toBe(200);
      expect(metrics.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
      const text = await metrics.text();
      expect(unmatchedCount(text)).toBe(3);
      expect(parseExposition(text).types.get('nodejs_eventloop_lag_seconds')).toBe('gauge');

      expect((await fetch(`${server.url}/metrics`)).status).toBe(404);
      const other = await fetch(`http://127.0.0.1:${metricsPort}/`);
      expect(other.status).toBe(404);
      expect(await other.json()).toMatchObject({ code: 'NOT_FOUND' });
    } finally {
      await server.stop();
    }
  }, 120_000);

  it('covers every worker of a cluster, there and on the main port with the token, and answers while workers start', async () => {
    const metricsPort = await freePort();
    // Scrapes all through the start: the metrics port listens before the workers are forked, and
    // a worker still starting has nothing to report (it was once waited for, and the scrape failed 500).
    const duringStart: { status: number; ms: number }[] = [];
    let started = false;
    const scraping = (async () => {
      while (!started) {
        const begun = Date.now();
        const response = await fetch(`http://127.0.0.1:${metricsPort}/metrics`).catch(() => undefined);
        if (response) duringStart.push({ status: response.status, ms: Date.now() - begun });
        await response?.arrayBuffer();
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    })();
    const server = await startServer(
      { DATA_DIR: await tempDir(), WORKERS: '2', METRICS_PORT: String(metricsPort), METRICS_TOKEN: TOKEN },
      undefined,
      120_000,
    ).finally(() => (started = true));
    await scraping;
    try {
      expect(duringStart.length).toBeGreaterThan(0);
      expect(duringStart.filter(({ status, ms }) => status !== 200 || ms > 4_000)).toEqual([]);
      // Connections are dealt out to the workers in turn: one worker alone never saw all 10.
      await unmatched(server.url, 10);
      const fromPort = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
      expect(unmatchedCount(fromPort)).toBe(10);
      const fromMain = await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
      expect(fromMain.status).toBe(200);
      expect(unmatchedCount(await fromMain.text())).toBe(10);
    } finally {
      await server.stop();
    }
  }, 180_000);
});
