/**
 * Reads Prometheus's text exposition format (version 0.0.4) strictly, for the metrics tests:
 * a line that is neither a comment nor a well-formed sample throws, naming it.
 */
export interface Exposition {
  /** The value of one sample: `name` with exactly these labels; undefined when absent. */
  value(name: string, labels?: Record<string, string>): number | undefined;
  /** Every sample of a name, with its labels. */
  samples(name: string): { labels: Record<string, string>; value: number }[];
  /** The `# TYPE` of each metric family. */
  types: Map<string, string>;
}

// NaN in any case: prom-client writes "Nan" (an event-loop lag not yet measured), which Prometheus
// reads as Go's ParseFloat does, ignoring case.
const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? ([+-]?(?:[0-9.e+-]+|Inf|[Nn]a[Nn]))$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(?:,|$)/gy;

const key = (name: string, labels: Record<string, string>) =>
  `${name}{${Object.keys(labels)
    .sort()
    .map((label) => `${label}=${labels[label]}`)
    .join(',')}}`;

export function parseExposition(text: string): Exposition {
  const values = new Map<string, number>();
  const byName = new Map<string, { labels: Record<string, string>; value: number }[]>();
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const type = /^# TYPE (\S+) (counter|gauge|histogram|summary|untyped)$/.exec(line);
    if (type) types.set(type[1]!, type[2]!);
    if (line.startsWith('#')) {
      if (!type && !/^# HELP \S+ /.test(line)) throw new Error(`not a HELP or TYPE comment: ${line}`);
      continue;
    }
    const match = SAMPLE.exec(line);
    if (!match) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    const rawLabels = match[2] ?? '';
    LABEL.lastIndex = 0;
    while (LABEL.lastIndex < rawLabels.length) {
      const label = LABEL.exec(rawLabels);
      if (!label) throw new Error(`bad labels in: ${line}`);
      labels[label[1]!] = label[2]!;
    }
    const value = Number(match[3]!.replace(/^\+?Inf$/, 'Infinity'));
    values.set(key(match[1]!, labels), value);
    byName.set(match[1]!, [...(byName.get(match[1]!) ?? []), { labels, value }]);
  }
  return {
    value: (name, labels = {}) => values.get(key(name, labels)),
    samples: (name) => byName.get(name) ?? [],
    types,
  };
}
