import type { RandomSource } from '../time.js';

/**
 * How long to wait before retry number `attempt` (1 = the wait after the first failure).
 * Pure: everything it needs arrives as arguments, including the random source.
 */
export type Backoff = (attempt: number, previousDelayMs: number, random: RandomSource) => number;

/** How randomness spreads the retries of many clients so they do not return in lockstep. */
export type Jitter = 'none' | 'full' | 'decorrelated';

export interface ExponentialBackoffOptions {
  /** The first delay (and the floor of decorrelated jitter). Default 100 ms. */
  initialDelayMs?: number;
  /** No delay exceeds this. Default 30 000 ms. */
  maxDelayMs?: number;
  /** Growth per attempt. Default 2. */
  factor?: number;
  /**
   * - `none`: exactly `initialDelayMs · factor^(attempt−1)`, capped;
   * - `full` (default): uniform in [0, that) — fewest collisions among competing clients;
   * - `decorrelated`: uniform in [initialDelayMs, 3 · previous delay), capped — grows like
   *   exponential on average but depends on the previous draw rather than the attempt number.
   */
  jitter?: Jitter;
}

export const defaultInitialDelayMs = 100;
export const defaultMaxDelayMs = 30_000;
const defaultFactor = 2;
/** Decorrelated jitter draws the next delay from up to this multiple of the previous one. */
const decorrelatedGrowth = 3;

/**
 * Exponential backoff with optional jitter.
 *
 * @example
 * const backoff = exponentialBackoff({ initialDelayMs: 50, maxDelayMs: 2_000, jitter: 'full' });
 * backoff(3, 0, mathRandom); // somewhere in [0, 200)
 */
export function exponentialBackoff(options: ExponentialBackoffOptions = {}): Backoff {
  const initialDelayMs = options.initialDelayMs ?? defaultInitialDelayMs;
  const maxDelayMs = options.maxDelayMs ?? defaultMaxDelayMs;
  const factor = options.factor ?? defaultFactor;
  const jitter = options.jitter ?? 'full';
  if (!(initialDelayMs >= 0 && maxDelayMs >= initialDelayMs && factor >= 1)) {
    throw new RangeError(
      `exponentialBackoff needs 0 ≤ initialDelayMs ≤ maxDelayMs and factor ≥ 1 (got ${initialDelayMs}, ${maxDelayMs}, ${factor})`,
    );
  }
  if (jitter === 'decorrelated') {
    return (_attempt, previousDelayMs, random) => {
      const ceilingMs = Math.max(initialDelayMs, previousDelayMs * decorrelatedGrowth);
      return Math.min(maxDelayMs, initialDelayMs + random.next() * (ceilingMs - initialDelayMs));
    };
  }
  return (attempt, _previousDelayMs, random) => {
    const cappedMs = Math.min(maxDelayMs, initialDelayMs * factor ** (attempt - 1));
    return jitter === 'full' ? random.next() * cappedMs : cappedMs;
  };
}

/**
 * The same delay before every retry.
 *
 * @example
 * const backoff = constantBackoff(250);
 */
export function constantBackoff(delayMs: number): Backoff {
  if (!(delayMs >= 0)) throw new RangeError(`constantBackoff needs delayMs ≥ 0 (got ${delayMs})`);
  return () => delayMs;
}
