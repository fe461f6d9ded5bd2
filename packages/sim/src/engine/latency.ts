/**
 * The one latency shape the simulator uses for messages and fsyncs: a floor, an exponential
 * tail, and a hard ceiling. Real networks and disks look like that — mostly fast, sometimes slow,
 * never infinitely slow (a bounded ceiling keeps runs finite).
 */
import type { Prng } from './prng.js';

/**
 * `minMs` + exponential tail with mean `meanMs − minMs`, clipped at `maxMs`. Clipping moves a
 * little probability mass to `maxMs`, so the observed mean sits slightly below `meanMs`.
 */
export interface LatencyDistribution {
  readonly minMs: number;
  readonly meanMs: number;
  readonly maxMs: number;
}

/** Latencies are rounded to whole microseconds so traces stay readable. */
const latencyStepsPerMs = 1000;

/** Throws unless 0 ≤ minMs ≤ meanMs ≤ maxMs and all are finite; `what` names the setting. */
export function validateLatency(distribution: LatencyDistribution, what: string): void {
  const { minMs, meanMs, maxMs } = distribution;
  const ordered = minMs >= 0 && minMs <= meanMs && meanMs <= maxMs;
  if (!ordered || !Number.isFinite(maxMs)) {
    throw new RangeError(
      `${what} latency needs 0 ≤ minMs ≤ meanMs ≤ maxMs (finite), got ${JSON.stringify(distribution)}`,
    );
  }
}

/**
 * Draws one latency. Consumes exactly one number from `random` unless the distribution is a
 * constant (minMs = meanMs), in which case it consumes none.
 *
 * @example
 * sampleLatencyMs(prng, { minMs: 1, meanMs: 3, maxMs: 50 }); // e.g. 2.417
 */
export function sampleLatencyMs(random: Prng, distribution: LatencyDistribution): number {
  const { minMs, meanMs, maxMs } = distribution;
  if (meanMs === minMs) return minMs;
  const drawn = minMs + random.exponential(meanMs - minMs);
  const rounded = Math.round(drawn * latencyStepsPerMs) / latencyStepsPerMs;
  return Math.min(maxMs, Math.max(minMs, rounded));
}
