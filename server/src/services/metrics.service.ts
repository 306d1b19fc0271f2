import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import { RequestHistogram } from './request-histogram.js';

/** Our own metrics' prefix; prom-client's defaults keep theirs (`process_`, `nodejs_`). */
const PREFIX = 'discord_images_';

/** What the metrics read at scrape time: counts the services keep anyway, with no cost per request. */
export interface MetricsSources {
  cache: { readonly hits: number; readonly misses: number; readonly size: number; readonly count: number };
  thumbnails: { readonly renders: number };
}

/**
 * The process's Prometheus metrics (docs/metrics.md lists them). Nothing here is global: each
 * app (and each test) has its own registry. Counts that the services keep anyway (the file
 * cache's hits, thumbnails rendered) are read when scraped, so the hot paths pay nothing more.
 */
export class MetricsService {
  readonly registry = new Registry();
  /** Every HTTP answer, the fast path's included: see RequestHistogram. */
  readonly requests = new RequestHistogram(
    'http_request_duration_seconds',
    'Time to answer HTTP requests, by method, route pattern and status; _count is the number of requests',
  );
  private readonly uploadFiles: Counter;
  private readonly uploadBytes: Counter;
  private readonly refusals: Counter<'policy'>;

  constructor(sources: MetricsSources) {
    const registers = [this.registry];
    this.registry.registerMetric(this.requests.asMetric());
    this.uploadFiles = new Counter({ name: `${PREFIX}upload_files_total`, help: 'Files stored by uploads', registers });
    this.uploadBytes = new Counter({ name: `${PREFIX}upload_bytes_total`, help: 'Bytes of the files stored by uploads', registers });
    this.refusals = new Counter({
      name: `${PREFIX}rate_limit_refusals_total`,
      help: 'Requests refused 429 by a rate limit, by policy',
      labelNames: ['policy'],
      registers,
    });
    monotonic(
      registers,
      `${PREFIX}thumbnails_rendered_total`,
      'Thumbnails rendered (not found in storage)',
      () => sources.thumbnails.renders,
    );
    monotonic(
      registers,
      `${PREFIX}file_cache_hits_total`,
      'File and thumbnail reads answered from the memory cache',
      () => sources.cache.hits,
    );
    monotonic(
      registers,
      `${PREFIX}file_cache_misses_total`,
      'File and thumbnail reads that went to storage (not in the memory cache, or too large for it)',
      () => sources.cache.misses,
    );
    new Gauge({
      name: `${PREFIX}file_cache_bytes`,
      help: 'Bytes of files and thumbnails held in the memory cache',
      registers,
      collect() {
        this.set(sources.cache.size);
      },
    });
    new Gauge({
      name: `${PREFIX}file_cache_entries`,
      help: 'Files and thumbnails held in the memory cache',
      registers,
      collect() {
        this.set(sources.cache.count);
      },
    });
    // Process CPU, memory, file descriptors, heap, GC, and the event loop's delay (nodejs_eventloop_lag_*).
    collectDefaultMetrics({ register: this.registry });
  }

  /** An upload request stored these files. */
  uploaded(sizes: readonly number[]): void {
    this.uploadFiles.inc(sizes.length);
    this.uploadBytes.inc(sizes.reduce((sum, size) => sum + size, 0));
  }

  /** A rate limit refused a request. */
  refused(policy: string): void {
    this.refusals.inc({ policy });
  }

  /** This process's metrics in the text exposition format. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** This process's metrics as prom-client's JSON, for the primary of a cluster to sum (cluster-metrics.ts). */
  json(): ReturnType<Registry['getMetricsAsJSON']> {
    return this.registry.getMetricsAsJSON();
  }
}

/** A counter that follows a count kept elsewhere, which only grows. */
function monotonic(registers: Registry[], name: string, help: string, read: () => number): void {
  let reported = 0;
  new Counter({
    name,
    help,
    registers,
    collect() {
      const now = read();
      this.inc(now - reported);
      reported = now;
    },
  });
}
