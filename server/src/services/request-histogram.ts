import type { Metric } from 'prom-client';

/** One line of the exposition, as prom-client's registry reads it from a metric's get(). */
export interface MetricValue {
  metricName: string;
  labels: Record<string, string | number>;
  value: number;
}

/** Upper bounds in seconds: from a file answered from memory (well under a millisecond) to a large upload. */
export const REQUEST_BUCKETS: readonly number[] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export interface RequestLabels {
  method: string;
  /** The route's pattern (`/i/:file`), never the URL asked for: the set of values stays small. */
  route: string;
  status: string;
}

/** One label set's observations; `observe` allocates nothing. */
export class RequestSeries {
  /** Per bucket, not cumulative; the last one is +Inf. */
  private readonly counts = new Float64Array(REQUEST_BUCKETS.length + 1);
  private sum = 0;
  private count = 0;

  constructor(readonly labels: Readonly<RequestLabels>) {}

  observe(seconds: number): void {
    let bucket = 0;
    while (bucket < REQUEST_BUCKETS.length && seconds > REQUEST_BUCKETS[bucket]!) bucket += 1;
    this.counts[bucket]! += 1;
    this.sum += seconds;
    this.count += 1;
  }

  /** The exposition's values: cumulative buckets, then the sum and the count. */
  values(name: string): MetricValue[] {
    const values: MetricValue[] = [];
    let cumulative = 0;
    for (let bucket = 0; bucket <= REQUEST_BUCKETS.length; bucket++) {
      cumulative += this.counts[bucket]!;
      const le = bucket < REQUEST_BUCKETS.length ? REQUEST_BUCKETS[bucket]! : '+Inf';
      values.push({ metricName: `${name}_bucket`, labels: { ...this.labels, le }, value: cumulative });
    }
    values.push({ metricName: `${name}_sum`, labels: { ...this.labels }, value: this.sum });
    values.push({ metricName: `${name}_count`, labels: { ...this.labels }, value: this.count });
    return values;
  }
}

/**
 * The latency histogram of HTTP answers by method, route and status, for every answer: those
 * of Fastify's routes and those the in-memory fast path sends before Fastify (http/from-memory.ts).
 * prom-client's Histogram costs about 1.5 µs per observation here (labels hashed, a closure
 * made each time), which the fast path, answering in a few µs, would feel; a series is found
 * once and then observed for a few nanoseconds. The registry reads it like any of prom-client's
 * metrics (name, type, get(), aggregator), so cluster aggregation sums it too.
 */
export class RequestHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly series = new Map<string, RequestSeries>();

  constructor(
    readonly name: string,
    readonly help: string,
  ) {}

  /** The series of one label set, made on first use; keep it to observe on a hot path. */
  of(method: string, route: string, status: number): RequestSeries {
    const key = `${method} ${status} ${route}`;
    let series = this.series.get(key);
    if (!series) {
      series = new RequestSeries({ method, route, status: String(status) });
      this.series.set(key, series);
    }
    return series;
  }

  async get(): Promise<{ name: string; help: string; type: string; aggregator: string; values: MetricValue[] }> {
    return {
      name: this.name,
      help: this.help,
      type: this.type,
      aggregator: this.aggregator,
      values: [...this.series.values()].flatMap((series) => series.values(this.name)),
    };
  }

  reset(): void {
    this.series.clear();
  }

  /** As the registry's registerMetric() takes it: it reads only name, get() and reset(). */
  asMetric(): Metric {
    return this as unknown as Metric;
  }
}
