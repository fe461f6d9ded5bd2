/**
 * A clock that admits what it does not know, in the spirit of Spanner's TrueTime (Corbett et al.,
 * 2012): `now()` is an interval certain to contain absolute time. Its width is the uncertainty
 * at the last synchronisation plus the worst-case drift since. Commit wait, waiting until a
 * timestamp is certainly in the past, turns that bound into external consistency.
 */
import { type Clock, systemClock } from '../time.js';

export interface TimeInterval {
  /** Absolute time is certainly at or after this (ms). */
  readonly earliest: number;
  /** Absolute time is certainly at or before this (ms). */
  readonly latest: number;
}

export interface IntervalClockOptions {
  /** The local clock (ms). Default: `systemClock`. */
  readonly clock?: Clock;
  /** Uncertainty right after a synchronisation, e.g. the round trip to the time source (ms). Default 1. */
  readonly uncertaintyMs?: number;
  /** Worst-case drift of the local clock, in parts per million. Default 200 (Spanner's assumption). */
  readonly driftPpm?: number;
}

export const defaultUncertaintyMs = 1;
export const defaultDriftPpm = 200;
const partsPerMillion = 1e6;

/**
 * @example
 * const clock = new IntervalClock({ uncertaintyMs: 4 });
 * const { earliest, latest } = clock.now(); // latest − earliest = 8 ms right after a sync
 * const commitTimestamp = clock.now().latest;
 * await sleep(clock.commitWaitMs(commitTimestamp)); // then clock.after(commitTimestamp) holds
 */
export class IntervalClock {
  readonly #clock: Clock;
  readonly #uncertaintyMs: number;
  readonly #driftRate: number;
  #lastSyncMs: number;

  constructor(options: IntervalClockOptions = {}) {
    this.#clock = options.clock ?? systemClock;
    this.#uncertaintyMs = options.uncertaintyMs ?? defaultUncertaintyMs;
    this.#driftRate = (options.driftPpm ?? defaultDriftPpm) / partsPerMillion;
    if (!(this.#uncertaintyMs >= 0))
      throw new RangeError(`uncertaintyMs must be ≥ 0, got ${this.#uncertaintyMs}`);
    if (!(this.#driftRate >= 0 && this.#driftRate < 1)) throw new RangeError('driftPpm must be in [0, 1e6)');
    this.#lastSyncMs = this.#clock.now();
  }

  /** Half-width of the interval at this moment (ms). */
  uncertaintyMs(): number {
    return this.#uncertaintyAt(this.#clock.now());
  }

  now(): TimeInterval {
    const localMs = this.#clock.now();
    const uncertaintyMs = this.#uncertaintyAt(localMs);
    return { earliest: localMs - uncertaintyMs, latest: localMs + uncertaintyMs };
  }

  /** True when `timestampMs` has certainly arrived: it is ≤ now().earliest. */
  after(timestampMs: number): boolean {
    return timestampMs <= this.now().earliest;
  }

  /** True when `timestampMs` has certainly not arrived yet: it is > now().latest. */
  before(timestampMs: number): boolean {
    return timestampMs > this.now().latest;
  }

  /**
   * Whole milliseconds to wait before `after(timestampMs)` holds, 0 if it already does. Accounts
   * for the uncertainty growing with drift while waiting.
   */
  commitWaitMs(timestampMs: number): number {
    const gapMs = timestampMs - this.now().earliest;
    if (gapMs <= 0) return 0;
    // earliest advances at (1 − drift) of local time while the uncertainty keeps growing.
    return Math.ceil(gapMs / (1 - this.#driftRate));
  }

  /** Records a synchronisation with the time source now: the uncertainty falls back to its base. */
  synchronized(): void {
    this.#lastSyncMs = this.#clock.now();
  }

  #uncertaintyAt(localMs: number): number {
    return this.#uncertaintyMs + this.#driftRate * Math.max(0, localMs - this.#lastSyncMs);
  }
}
