// A histogram whose hot path is a few array increments: a caller asks once for the cells of one
// label set and keeps them (e.g. one per gRPC method), then `observe()` hashes nothing and
// allocates nothing. prom-client's own `observe` hashes the label object on every call; its
// registry reads this one through `get()` at scrape time, in the shape prom-client's own
// histograms produce.
import type { Metric, Registry } from 'prom-client';

/** Counts of one label set: per bucket (not cumulative; the last slot is +Inf), sum and count. */
export class HistogramCells {
  readonly bucketCounts: Float64Array;
  sum = 0;
  count = 0;
  private readonly bounds: Float64Array;

  constructor(bounds: Float64Array) {
    this.bounds = bounds;
    this.bucketCounts = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    const bounds = this.bounds;
    let bucket = 0;
    while (bucket < bounds.length && value > bounds[bucket]!) bucket++;
    this.bucketCounts[bucket]!++;
    this.sum += value;
    this.count++;
  }
}

interface LabelledCells {
  readonly labels: Readonly<Record<string, string>>;
  readonly cells: HistogramCells;
}

interface ExportedValue {
  readonly metricName: string;
  readonly labels: Record<string, string | number>;
  readonly value: number;
}

export interface CellHistogramOptions {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly string[];
  /** Upper bounds, strictly increasing, without +Inf. */
  readonly buckets: readonly number[];
}

/**
 * A Prometheus histogram with cached per-label-set cells.
 *
 * @example
 * const duration = new CellHistogram({ name: 'x_seconds', help: '…', labelNames: ['method'], buckets: [0.1, 1] });
 * duration.register(registry);
 * const put = duration.cells('Put'); // once
 * put.observe(0.02);                 // per request: no hashing, no allocation
 */
export class CellHistogram {
  readonly name: string;
  readonly help: string;
  readonly type = 'histogram' as const;
  readonly aggregator = 'sum' as const;
  private readonly labelNames: readonly string[];
  private readonly bounds: Float64Array;
  private readonly children = new Map<string, LabelledCells>();

  constructor(options: CellHistogramOptions) {
    for (let i = 1; i < options.buckets.length; i++) {
      if (!(options.buckets[i]! > options.buckets[i - 1]!))
        throw new Error(`${options.name}: buckets must increase`);
    }
    this.name = options.name;
    this.help = options.help;
    this.labelNames = options.labelNames;
    this.bounds = Float64Array.from(options.buckets);
  }

  /** The cells of one label set, one value per label name in order; create once, keep, observe often. */
  cells(...labelValues: string[]): HistogramCells {
    if (labelValues.length !== this.labelNames.length) {
      throw new Error(
        `${this.name} takes labels ${this.labelNames.join(', ')}; got ${labelValues.length} values`,
      );
    }
    const key = labelValues.join('\u0000');
    let child = this.children.get(key);
    if (child === undefined) {
      const labels: Record<string, string> = {};
      this.labelNames.forEach((name, i) => {
        labels[name] = labelValues[i]!;
      });
      child = { labels, cells: new HistogramCells(this.bounds) };
      this.children.set(key, child);
    }
    return child.cells;
  }

  /** Adds this histogram to `registry` (which reads it through `get()` at scrape time). */
  register(registry: Registry): void {
    // The registry only reads name, help, type and get() of what it holds (pinned by metrics.test.ts).
    registry.registerMetric(this as unknown as Metric);
  }

  /** What a prom-client registry serialises: cumulative buckets, then _sum and _count, per label set. */
  async get(): Promise<{
    name: string;
    help: string;
    type: 'histogram';
    aggregator: 'sum';
    values: ExportedValue[];
  }> {
    const values: ExportedValue[] = [];
    for (const { labels, cells } of this.children.values()) {
      let cumulative = 0;
      for (let i = 0; i < cells.bucketCounts.length; i++) {
        cumulative += cells.bucketCounts[i]!;
        const le = i < this.bounds.length ? this.bounds[i]! : '+Inf';
        values.push({ metricName: `${this.name}_bucket`, labels: { ...labels, le }, value: cumulative });
      }
      values.push({ metricName: `${this.name}_sum`, labels: { ...labels }, value: cells.sum });
      values.push({ metricName: `${this.name}_count`, labels: { ...labels }, value: cells.count });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  /** Forgets every observation (registry.resetMetrics()). */
  reset(): void {
    for (const { cells } of this.children.values()) {
      cells.bucketCounts.fill(0);
      cells.sum = 0;
      cells.count = 0;
    }
  }
}
