import type { Clock } from '../time.js';
import { allowed, denied, type RateLimitAlgorithm, type RateLimitStep } from './algorithm.js';
import { checkWindowConfig, type WindowConfig } from './fixed-window.js';
import { AlgorithmRateLimiter } from './limiter.js';

export interface SlidingWindowLogEntry {
  readonly atMs: number;
  readonly cost: number;
}

export interface SlidingWindowLogState {
  /** Admissions still inside the window, oldest first. */
  readonly entries: readonly SlidingWindowLogEntry[];
}

/**
 * One step of the sliding window log: keeps every admission of the last `windowMs` and admits
 * while their total stays within `limit`. Exact over every window (t − windowMs, t], at a cost
 * of memory and time proportional to the admissions in the window (at most `limit` entries
 * for unit costs; admissions at the same instant share one entry).
 */
export function slidingWindowLogAcquire(
  state: SlidingWindowLogState,
  nowMs: number,
  cost: number,
  config: WindowConfig,
): RateLimitStep<SlidingWindowLogState> {
  const newest = state.entries[state.entries.length - 1];
  // The log must stay ordered: a clock that stepped back is treated as standing still.
  const atMs = newest !== undefined && newest.atMs > nowMs ? newest.atMs : nowMs;
  const live = state.entries.filter((entry) => entry.atMs > atMs - config.windowMs);
  const used = live.reduce((total, entry) => total + entry.cost, 0);
  if (used + cost > config.limit) {
    return {
      state: { entries: live },
      decision: denied(config.limit - used, retryAfter(live, used, cost, atMs, nowMs, config)),
    };
  }
  if (cost === 0) return { state: { entries: live }, decision: allowed(config.limit - used) };
  const last = live[live.length - 1];
  const entries =
    last !== undefined && last.atMs === atMs
      ? [...live.slice(0, -1), { atMs, cost: last.cost + cost }]
      : [...live, { atMs, cost }];
  return { state: { entries }, decision: allowed(config.limit - used - cost) };
}

/** When enough of the oldest entries will have left the window for `cost` to fit. */
function retryAfter(
  live: readonly SlidingWindowLogEntry[],
  used: number,
  cost: number,
  atMs: number,
  nowMs: number,
  config: WindowConfig,
): number {
  if (cost > config.limit) return Number.POSITIVE_INFINITY;
  let stillUsed = used;
  for (const entry of live) {
    stillUsed -= entry.cost;
    if (stillUsed + cost <= config.limit) return entry.atMs + config.windowMs - nowMs;
  }
  return atMs + config.windowMs - nowMs; // unreachable: emptying the log always makes room
}

export const slidingWindowLogAlgorithm: RateLimitAlgorithm<SlidingWindowLogState, WindowConfig> = {
  name: 'sliding-window-log',
  validateConfig: (config) => checkWindowConfig('sliding window log', config),
  initialState: () => ({ entries: [] }),
  acquire: slidingWindowLogAcquire,
};

/**
 * A sliding window log: exactly `limit` units per any `windowMs`.
 *
 * @example
 * const limiter = new SlidingWindowLog({ limit: 10, windowMs: 1_000 });
 */
export class SlidingWindowLog extends AlgorithmRateLimiter<SlidingWindowLogState, WindowConfig> {
  constructor(config: WindowConfig, clock?: Clock) {
    super(slidingWindowLogAlgorithm, config, clock);
  }
}
