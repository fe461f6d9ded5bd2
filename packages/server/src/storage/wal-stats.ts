// Counters a WAL keeps for metrics: how much it wrote and how often and how slowly it synced.
// Latency samples live in a fixed ring, so memory stays bounded however long the node runs.

/** Most recent fsync latencies kept for quantiles. */
export const FSYNC_LATENCY_SAMPLES_MAX = 4096;

/** Where latencies also go as they happen (the member's Prometheus histograms). */
export interface WalLatencyObserver {
  observeFsyncSeconds(seconds: number): void;
  /** From append() to durable: queueing behind the previous group commit, write and fsync. */
  observeAppendSeconds(seconds: number): void;
}

/** Monotonic counters plus a bounded window of fsync latencies (milliseconds). */
export class WalStats {
  /** Told every fsync and append latency (set by the server's metrics). */
  observer: WalLatencyObserver | undefined;
  /** Data syncs of segment files (O_DSYNC writes, or fdatasync), including those that open a segment. */
  fsyncs = 0;
  /** fsyncs of the WAL directory after creating, renaming or deleting segments. */
  directoryFsyncs = 0;
  bytesWritten = 0;
  /** Zeros written ahead of the appends (see PREALLOCATION_AHEAD_BYTES); not in bytesWritten. */
  bytesPreallocated = 0;
  /** Frames written (a large entries batch spans several). */
  recordsWritten = 0;
  /** append() calls made durable; appends / fsyncs is the group-commit factor. */
  appends = 0;
  segmentsCreated = 0;
  segmentsReleased = 0;
  /** Torn tails cut off during recovery. */
  tornTailsTruncated = 0;
  private readonly latencySamplesMs = new Float64Array(FSYNC_LATENCY_SAMPLES_MAX);
  private latencySampleCount = 0;

  recordFsyncLatency(milliseconds: number): void {
    this.latencySamplesMs[this.latencySampleCount % FSYNC_LATENCY_SAMPLES_MAX] = milliseconds;
    this.latencySampleCount++;
    this.observer?.observeFsyncSeconds(milliseconds / 1000);
  }

  recordAppendLatency(milliseconds: number): void {
    this.observer?.observeAppendSeconds(milliseconds / 1000);
  }

  /** The retained latency samples (oldest first is not guaranteed), in milliseconds. */
  fsyncLatencySamplesMs(): number[] {
    return Array.from(
      this.latencySamplesMs.subarray(0, Math.min(this.latencySampleCount, FSYNC_LATENCY_SAMPLES_MAX)),
    );
  }

  /** Latency quantile over the retained samples, e.g. 0.99 for p99; undefined before any fsync. */
  fsyncLatencyQuantileMs(quantile: number): number | undefined {
    const samples = this.fsyncLatencySamplesMs().sort((a, b) => a - b);
    if (samples.length === 0) return undefined;
    const rank = Math.min(samples.length - 1, Math.max(0, Math.ceil(quantile * samples.length) - 1));
    return samples[rank];
  }
}
