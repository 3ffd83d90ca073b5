import parsePrometheusTextFormat, { type MetricFamily } from 'parse-prometheus-text-format';

/** One sample line of the text format: name, labels, value. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Scrape {
  /** The families as the parser read them (metric types, help). */
  families: Map<string, MetricFamily>;
  /** Every sample line (the parser folds a histogram's labelled series into one). */
  samples: Sample[];
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** A process's `/metrics`, parsed as Prometheus text (throws when it is not). */
export async function scrape(baseUrl: string): Promise<Scrape> {
  const res = await fetch(`${baseUrl}/metrics`);
  if (res.status !== 200) throw new Error(`${baseUrl}/metrics answered ${res.status}`);
  const type = res.headers.get('content-type') ?? '';
  if (!type.startsWith('text/plain')) throw new Error(`${baseUrl}/metrics is ${type}`);
  const text = await res.text();
  const families = new Map(parsePrometheusTextFormat(text).map((f) => [f.name, f]));
  const samples = text
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const match = SAMPLE.exec(line);
      if (!match) throw new Error(`not a sample line: ${line}`);
      const labels = Object.fromEntries(
        [...(match[2] ?? '').matchAll(LABEL)].map((m) => [m[1] as string, m[2] as string]),
      );
      return { name: match[1] as string, labels, value: Number(match[3]) };
    });
  return { families, samples };
}

/** The samples named `name` whose labels include `labels`. */
export function samples(
  scraped: Scrape,
  name: string,
  labels: Record<string, string> = {},
): Sample[] {
  return scraped.samples.filter(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
}

/** Sum of the values of `name`'s samples matching `labels`. */
export function total(scraped: Scrape, name: string, labels: Record<string, string> = {}): number {
  return samples(scraped, name, labels).reduce((sum, s) => sum + s.value, 0);
}
