import type { Clock } from '../time.js';
import { allowed, denied, floatTolerance, type RateLimitAlgorithm, type RateLimitStep } from './algorithm.js';
import { checkWindowConfig, type WindowConfig } from './fixed-window.js';
import { AlgorithmRateLimiter } from './limiter.js';

export interface SlidingWindowCounterState {
  /** Start of the current aligned window, a multiple of `windowMs`. */
  readonly windowStartMs: number;
  readonly currentCount: number;
  /** Units admitted in the window just before the current one. */
  readonly previousCount: number;
}

/**
 * One step of the sliding window counter: estimates the units in the last `windowMs` as
 * `previousCount · (share of the previous window still covered) + currentCount`, assuming the
 * previous window's requests were spread evenly. Two counters of memory; each aligned window
 * admits at most `limit`, but a burst at the end of one window can let up to `2 · limit`
 * through some unaligned window of length `windowMs`.
 */
export function slidingWindowCounterAcquire(
  state: SlidingWindowCounterState,
  nowMs: number,
  cost: number,
  config: WindowConfig,
): RateLimitStep<SlidingWindowCounterState> {
  const current = rolled(state, nowMs, config.windowMs);
  const previousWeight = 1 - Math.max(0, nowMs - current.windowStartMs) / config.windowMs;
  const estimate = current.previousCount * previousWeight + current.currentCount;
  if (estimate + cost <= config.limit + floatTolerance) {
    const next = { ...current, currentCount: current.currentCount + cost };
    return { state: next, decision: allowed(config.limit - estimate - cost) };
  }
  return {
    state: current,
    decision: denied(config.limit - estimate, retryAfter(current, nowMs, cost, config)),
  };
}

/** Moves the counters forward to the window containing `nowMs` (never backwards). */
function rolled(
  state: SlidingWindowCounterState,
  nowMs: number,
  windowMs: number,
): SlidingWindowCounterState {
  const windowStartMs = Math.floor(nowMs / windowMs) * windowMs;
  if (windowStartMs <= state.windowStartMs) return state;
  const previousCount = windowStartMs - state.windowStartMs === windowMs ? state.currentCount : 0;
  return { windowStartMs, currentCount: 0, previousCount };
}

/** Solves estimate(t) + cost ≤ limit for the earliest t, in this window or the next. */
function retryAfter(
  state: SlidingWindowCounterState,
  nowMs: number,
  cost: number,
  config: WindowConfig,
): number {
  const { limit, windowMs } = config;
  if (cost > limit) return Number.POSITIVE_INFINITY;
  if (state.currentCount + cost <= limit) {
    // The previous window's weight must fall to (limit − cost − current) / previous.
    const weight = (limit - cost - state.currentCount) / state.previousCount;
    return state.windowStartMs + windowMs * (1 - weight) - nowMs;
  }
  // Next window: the current count becomes "previous" and decays from weight 1.
  const weight = (limit - cost) / state.currentCount;
  return state.windowStartMs + windowMs + windowMs * (1 - weight) - nowMs;
}

export const slidingWindowCounterAlgorithm: RateLimitAlgorithm<SlidingWindowCounterState, WindowConfig> = {
  name: 'sliding-window-counter',
  validateConfig: (config) => checkWindowConfig('sliding window counter', config),
  initialState: () => ({ windowStartMs: Number.NEGATIVE_INFINITY, currentCount: 0, previousCount: 0 }),
  acquire: slidingWindowCounterAcquire,
};

/**
 * A sliding window counter: about `limit` units per `windowMs`, in constant memory.
 *
 * @example
 * const limiter = new SlidingWindowCounter({ limit: 600, windowMs: 60_000 });
 */
export class SlidingWindowCounter extends AlgorithmRateLimiter<SlidingWindowCounterState, WindowConfig> {
  constructor(config: WindowConfig, clock?: Clock) {
    super(slidingWindowCounterAlgorithm, config, clock);
  }
}
