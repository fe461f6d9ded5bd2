import type { Clock } from '../time.js';

/** When a circuit breaker trips. */
export type TripPolicy =
  | {
      /** Opens after `failureThreshold` failures in a row; any success resets the count. */
      readonly kind: 'consecutive';
      readonly failureThreshold: number;
    }
  | {
      /**
       * Opens when, over the last `windowMs`, at least `minimumThroughput` calls finished and at
       * least `failureRateThreshold` (0–1] of them failed. The window slides in `bucketCount` steps.
       */
      readonly kind: 'failure-rate';
      readonly failureRateThreshold: number;
      readonly windowMs: number;
      readonly minimumThroughput: number;
      /** Default 10: the window forgets old outcomes in tenths. */
      readonly bucketCount?: number;
    };

/** Counts outcomes and says when the breaker should open. */
export interface FailureTracker {
  recordSuccess(): void;
  /** Returns true when this failure trips the breaker. */
  recordFailure(): boolean;
  reset(): void;
}

export const defaultBucketCount = 10;

export function createFailureTracker(policy: TripPolicy, clock: Clock): FailureTracker {
  return policy.kind === 'consecutive'
    ? new ConsecutiveFailures(policy.failureThreshold)
    : new FailureRateWindow(policy, clock);
}

/** Trips after a run of failures; the cheapest policy (no clock reads). */
export class ConsecutiveFailures implements FailureTracker {
  readonly #failureThreshold: number;
  #consecutiveFailures = 0;

  constructor(failureThreshold: number) {
    if (!(Number.isInteger(failureThreshold) && failureThreshold >= 1)) {
      throw new RangeError(
        `consecutive breaker: failureThreshold must be an integer ≥ 1 (got ${failureThreshold})`,
      );
    }
    this.#failureThreshold = failureThreshold;
  }

  recordSuccess(): void {
    this.#consecutiveFailures = 0;
  }

  recordFailure(): boolean {
    this.#consecutiveFailures++;
    return this.#consecutiveFailures >= this.#failureThreshold;
  }

  reset(): void {
    this.#consecutiveFailures = 0;
  }
}

/**
 * Failure rate over a sliding time window, kept as a ring of `bucketCount` buckets each
 * `windowMs / bucketCount` long. A bucket is reused once its epoch has left the window.
 */
export class FailureRateWindow implements FailureTracker {
  readonly #failureRateThreshold: number;
  readonly #minimumThroughput: number;
  readonly #bucketMs: number;
  readonly #clock: Clock;
  readonly #epochs: number[];
  readonly #successes: number[];
  readonly #failures: number[];

  constructor(policy: Extract<TripPolicy, { kind: 'failure-rate' }>, clock: Clock) {
    const bucketCount = policy.bucketCount ?? defaultBucketCount;
    if (!(policy.failureRateThreshold > 0 && policy.failureRateThreshold <= 1)) {
      throw new RangeError(
        `failure-rate breaker: failureRateThreshold must be in (0, 1] (got ${policy.failureRateThreshold})`,
      );
    }
    if (
      !(
        policy.windowMs > 0 &&
        Number.isInteger(bucketCount) &&
        bucketCount >= 1 &&
        policy.minimumThroughput >= 1
      )
    ) {
      throw new RangeError(
        'failure-rate breaker: windowMs > 0, an integer bucketCount ≥ 1 and minimumThroughput ≥ 1 are required',
      );
    }
    this.#failureRateThreshold = policy.failureRateThreshold;
    this.#minimumThroughput = policy.minimumThroughput;
    this.#bucketMs = policy.windowMs / bucketCount;
    this.#clock = clock;
    this.#epochs = new Array<number>(bucketCount).fill(Number.NEGATIVE_INFINITY);
    this.#successes = new Array<number>(bucketCount).fill(0);
    this.#failures = new Array<number>(bucketCount).fill(0);
  }

  recordSuccess(): void {
    const index = this.#currentBucket();
    this.#successes[index] = (this.#successes[index] ?? 0) + 1;
  }

  recordFailure(): boolean {
    const index = this.#currentBucket();
    this.#failures[index] = (this.#failures[index] ?? 0) + 1;
    const { calls, failures } = this.totals();
    return calls >= this.#minimumThroughput && failures >= this.#failureRateThreshold * calls;
  }

  reset(): void {
    this.#epochs.fill(Number.NEGATIVE_INFINITY);
    this.#successes.fill(0);
    this.#failures.fill(0);
  }

  /** Calls and failures that finished within the window ending now. */
  totals(): { calls: number; failures: number } {
    const oldestLiveEpoch = Math.floor(this.#clock.now() / this.#bucketMs) - this.#epochs.length + 1;
    let calls = 0;
    let failures = 0;
    for (let index = 0; index < this.#epochs.length; index++) {
      if ((this.#epochs[index] ?? Number.NEGATIVE_INFINITY) < oldestLiveEpoch) continue;
      calls += (this.#successes[index] ?? 0) + (this.#failures[index] ?? 0);
      failures += this.#failures[index] ?? 0;
    }
    return { calls, failures };
  }

  /** The bucket for the current instant, emptied first if it still holds an expired epoch. */
  #currentBucket(): number {
    const epoch = Math.floor(this.#clock.now() / this.#bucketMs);
    const count = this.#epochs.length;
    const index = ((epoch % count) + count) % count;
    if (this.#epochs[index] !== epoch) {
      this.#epochs[index] = epoch;
      this.#successes[index] = 0;
      this.#failures[index] = 0;
    }
    return index;
  }
}
