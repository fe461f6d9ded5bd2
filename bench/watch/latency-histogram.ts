// A bounded latency histogram: a million deliveries a second cannot all be kept as samples, so
// each is counted in a log-linear bucket (exact below 64 µs, then 64 buckets per power of two: at
// most 1.6% error). Histograms of worker threads merge by adding counts.

/** Buckets per power of two; also the count of exact buckets at the bottom. */
const SUB_BUCKETS = 64;
const SUB_BUCKET_BITS = 6;
/** Values from 2^POWER_MAX µs (about 12.7 days) up land in the top bucket. */
const POWER_MAX = 40;
export const HISTOGRAM_BUCKETS = SUB_BUCKETS + (POWER_MAX - SUB_BUCKET_BITS) * SUB_BUCKETS;

/** What a histogram holds, as plain data (structured-clone safe, for postMessage and JSON). */
export interface HistogramData {
  /** Count per bucket. */
  readonly counts: number[];
  readonly count: number;
  readonly sumUs: number;
  readonly minUs: number;
  readonly maxUs: number;
}

export function bucketOf(valueUs: number): number {
  const value = Math.max(0, Math.floor(valueUs));
  if (value < SUB_BUCKETS) return value;
  const power = Math.floor(Math.log2(value));
  if (power >= POWER_MAX) return HISTOGRAM_BUCKETS - 1;
  // Math.log2 may round across a power of two; the sub-bucket must stay in [64, 128).
  let exponent = power;
  let sub = Math.floor(value / 2 ** (exponent - SUB_BUCKET_BITS));
  if (sub < SUB_BUCKETS) sub = Math.floor(value / 2 ** (--exponent - SUB_BUCKET_BITS));
  else if (sub >= 2 * SUB_BUCKETS) sub = Math.floor(value / 2 ** (++exponent - SUB_BUCKET_BITS));
  return SUB_BUCKETS + (exponent - SUB_BUCKET_BITS) * SUB_BUCKETS + (sub - SUB_BUCKETS);
}

/** The middle of a bucket's range [low, high), in µs. */
export function bucketMiddleUs(bucket: number): number {
  if (bucket < SUB_BUCKETS) return bucket;
  const exponent = Math.floor((bucket - SUB_BUCKETS) / SUB_BUCKETS) + SUB_BUCKET_BITS;
  const sub = ((bucket - SUB_BUCKETS) % SUB_BUCKETS) + SUB_BUCKETS;
  const width = 2 ** (exponent - SUB_BUCKET_BITS);
  return sub * width + width / 2;
}

/**
 * Counts latencies in microseconds.
 *
 * @example
 * const histogram = new LatencyHistogram();
 * histogram.record(1_250);
 * histogram.quantileUs(0.99); // ≈ 1250
 */
export class LatencyHistogram {
  private readonly counts = new Float64Array(HISTOGRAM_BUCKETS);
  private count = 0;
  private sumUs = 0;
  private minUs = Number.POSITIVE_INFINITY;
  private maxUs = 0;

  record(valueUs: number): void {
    const value = Math.max(0, valueUs);
    this.counts[bucketOf(value)]!++;
    this.count++;
    this.sumUs += value;
    if (value < this.minUs) this.minUs = value;
    if (value > this.maxUs) this.maxUs = value;
  }

  add(data: HistogramData): void {
    if (data.counts.length !== HISTOGRAM_BUCKETS)
      throw new Error(`histogram of ${data.counts.length} buckets; expected ${HISTOGRAM_BUCKETS}`);
    for (let bucket = 0; bucket < HISTOGRAM_BUCKETS; bucket++) this.counts[bucket]! += data.counts[bucket]!;
    this.count += data.count;
    this.sumUs += data.sumUs;
    if (data.count > 0) {
      this.minUs = Math.min(this.minUs, data.minUs);
      this.maxUs = Math.max(this.maxUs, data.maxUs);
    }
  }

  get size(): number {
    return this.count;
  }

  /** The value below which `quantile` of the recorded values lie (bucket middle, clamped to min/max). */
  quantileUs(quantile: number): number {
    if (this.count === 0) return Number.NaN;
    const rank = Math.max(1, Math.ceil(quantile * this.count));
    let seen = 0;
    for (let bucket = 0; bucket < HISTOGRAM_BUCKETS; bucket++) {
      seen += this.counts[bucket]!;
      if (seen >= rank) return Math.min(this.maxUs, Math.max(this.minUs, bucketMiddleUs(bucket)));
    }
    return this.maxUs;
  }

  meanUs(): number {
    return this.count === 0 ? Number.NaN : this.sumUs / this.count;
  }

  toData(): HistogramData {
    return {
      counts: Array.from(this.counts),
      count: this.count,
      sumUs: this.sumUs,
      minUs: this.count === 0 ? 0 : this.minUs,
      maxUs: this.maxUs,
    };
  }
}
