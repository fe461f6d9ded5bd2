/**
 * The shape shared by every rate-limiting algorithm: state is a plain serialisable object and
 * the algorithm a pure function `(state, nowMs, cost, config) → { state, decision }`, so the
 * same step can run in a local class, in a replicated state machine, or in a test at any time.
 */

/** The answer to "may this request run now?". */
export interface RateLimitDecision {
  readonly allowed: boolean;
  /** Units that could still be admitted right now, after this request (whole units, ≥ 0). */
  readonly remaining: number;
  /** 0 if allowed; else how long until the same request would be allowed (Infinity if never). */
  readonly retryAfterMs: number;
}

/** The outcome of one step: the state to keep and the decision to return. */
export interface RateLimitStep<State, Decision extends RateLimitDecision = RateLimitDecision> {
  readonly state: State;
  readonly decision: Decision;
}

/** A rate-limiting algorithm as data plus pure functions. */
export interface RateLimitAlgorithm<State, Config> {
  readonly name: string;
  /** Throws a `RangeError` naming the bad field; call once when a limiter is built. */
  validateConfig(config: Config): void;
  /** The state of a limiter that has admitted nothing yet. */
  initialState(config: Config, nowMs: number): State;
  /** Decides on a request of `cost` units at `nowMs`. Never mutates `state`. */
  acquire(state: State, nowMs: number, cost: number, config: Config): RateLimitStep<State>;
}

/** A rate limiter answering at its clock's current time. */
export interface RateLimiter {
  /**
   * Admits `cost` units now if the budget allows, else says when to retry.
   *
   * @example
   * const { allowed, retryAfterMs } = limiter.tryAcquire();
   * if (!allowed) return reply429(Math.ceil(retryAfterMs / 1000));
   */
  tryAcquire(cost?: number): RateLimitDecision;
}

/** Rejects costs that would corrupt the state (negative, NaN, infinite). */
export function checkCost(cost: number): void {
  if (!(cost >= 0 && cost < Number.POSITIVE_INFINITY)) {
    throw new RangeError(`rate limiter: cost must be a finite number ≥ 0 (got ${cost})`);
  }
}

/** Throws unless `value` is a finite number > 0. */
export function checkPositive(algorithm: string, field: string, value: number): void {
  if (!(value > 0 && value < Number.POSITIVE_INFINITY)) {
    throw new RangeError(`${algorithm}: ${field} must be a finite number > 0 (got ${value})`);
  }
}

/** A denial, with `retryAfterMs` rounded up so a retry at that moment is not a hair too early. */
export function denied(remaining: number, retryAfterMs: number): RateLimitDecision {
  return { allowed: false, remaining: wholeUnits(remaining), retryAfterMs: Math.ceil(retryAfterMs) };
}

export function allowed(remaining: number): RateLimitDecision {
  return { allowed: true, remaining: wholeUnits(remaining), retryAfterMs: 0 };
}

/**
 * Whole units left, tolerating float residue (0.9999999999 tokens counts as 1): the algorithms'
 * own comparisons use the same tolerance, so `remaining` never under-reports what would pass.
 */
function wholeUnits(amount: number): number {
  return Math.max(0, Math.floor(amount + floatTolerance));
}

/**
 * Rates are stored as fractions of a unit per millisecond; sums of such fractions drift by a
 * few ulps. Comparisons allow this much slack so that a request arriving exactly when its
 * units have accrued is admitted. It is far below one unit, so budgets still hold.
 */
export const floatTolerance = 1e-9;
