/**
 * A node's local clock on top of virtual time, with a settable offset (a step) and drift (a rate
 * error in parts per million), for the clock-skew nemesis.
 *
 * local = virtualNow + offsetMs + accumulated drift, where drift accumulates as
 * (virtual time elapsed) × driftPpm / 1e6. With a constant drift since time 0 this is exactly
 * offsetMs + virtualNow × (1 + driftPpm/1e6); changing the drift later bends the clock's rate
 * from that moment on instead of making it jump.
 *
 * Monotonic: `now()` never returns less than it returned before. Reducing the offset does not
 * move the clock backwards; it stands still until the underlying time catches up (a clamp, as
 * monotonic OS clocks behave when NTP steps the wall clock back).
 */

/** A monotonic millisecond clock; structurally the same as `@synod/core`'s `Clock`. */
export interface Clock {
  now(): number;
}

/** What the clock reads virtual time from; `EventLoop` fits. */
export interface VirtualTimeSource {
  readonly now: number;
}

export interface SimClockOptions {
  readonly time: VirtualTimeSource;
  readonly offsetMs?: number;
  readonly driftPpm?: number;
}

/** Beyond ±10% a "clock" is not a clock any more; larger values are a configuration bug. */
export const maxAbsDriftPpm = 100_000;

function validateDrift(driftPpm: number): void {
  if (!(Math.abs(driftPpm) <= maxAbsDriftPpm)) {
    throw new RangeError(`driftPpm must be within ±${maxAbsDriftPpm}, got ${driftPpm}`);
  }
}

function validateOffset(offsetMs: number): void {
  if (!Number.isFinite(offsetMs)) throw new RangeError(`offsetMs must be finite, got ${offsetMs}`);
}

/**
 * One node's skewable, monotonic local clock.
 *
 * @example
 * const clock = new SimClock({ time: loop, driftPpm: 200 });
 * clock.now(); // at virtual 10 000 ms: 10 002
 * clock.setOffsetMs(-5_000); // clock stands still for ~5 s of virtual time, never goes back
 */
export class SimClock implements Clock {
  private readonly time: VirtualTimeSource;
  private offset: number;
  private drift: number;
  /** Drift accumulated up to `anchorVirtualMs`. */
  private driftAtAnchorMs = 0;
  private anchorVirtualMs: number;
  private lastReadingMs = Number.NEGATIVE_INFINITY;

  constructor(options: SimClockOptions) {
    this.time = options.time;
    this.offset = options.offsetMs ?? 0;
    this.drift = options.driftPpm ?? 0;
    validateOffset(this.offset);
    validateDrift(this.drift);
    // Anchored at virtual 0, so a clock created mid-run has already drifted as if it ran from 0.
    this.anchorVirtualMs = 0;
  }

  get offsetMs(): number {
    return this.offset;
  }

  get driftPpm(): number {
    return this.drift;
  }

  /** The local time in ms; never decreases. */
  now(): number {
    const reading = Math.max(this.lastReadingMs, this.unclampedNow());
    this.lastReadingMs = reading;
    return reading;
  }

  /** Steps the clock: forward jumps at once; backward makes it stand still (see monotonic). */
  setOffsetMs(offsetMs: number): void {
    validateOffset(offsetMs);
    this.holdCurrentReading();
    this.offset = offsetMs;
  }

  /** Changes the rate from now on, without a jump. */
  setDriftPpm(driftPpm: number): void {
    validateDrift(driftPpm);
    this.holdCurrentReading();
    const virtualNow = this.time.now;
    this.driftAtAnchorMs += ((virtualNow - this.anchorVirtualMs) * this.drift) / 1e6;
    this.anchorVirtualMs = virtualNow;
    this.drift = driftPpm;
  }

  /** The reading without the monotonic clamp (what the skewed clock "should" say). */
  unclampedNow(): number {
    const virtualNow = this.time.now;
    const driftMs = this.driftAtAnchorMs + ((virtualNow - this.anchorVirtualMs) * this.drift) / 1e6;
    return virtualNow + this.offset + driftMs;
  }

  /** Remember the reading before a change, so the clamp protects readings not yet taken too. */
  private holdCurrentReading(): void {
    this.lastReadingMs = Math.max(this.lastReadingMs, this.unclampedNow());
  }
}
