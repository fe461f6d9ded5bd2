import type { Clock } from '../time.js';
import { allowed, checkPositive, denied, type RateLimitAlgorithm, type RateLimitStep } from './algorithm.js';
import { AlgorithmRateLimiter } from './limiter.js';

export interface WindowConfig {
  /** Units admitted per window. */
  readonly limit: number;
  readonly windowMs: number;
}

export interface FixedWindowState {
  /** Start of the window `count` belongs to, a multiple of `windowMs`. */
  readonly windowStartMs: number;
  readonly count: number;
}

/**
 * One step of the fixed window counter: windows are aligned to multiples of `windowMs` and each
 * admits at most `limit` units. Cheapest of all, but a burst straddling a boundary can pass
 * up to `2 · limit` within one window's length.
 */
export function fixedWindowAcquire(
  state: FixedWindowState,
  nowMs: number,
  cost: number,
  config: WindowConfig,
): RateLimitStep<FixedWindowState> {
  const windowStartMs = Math.floor(nowMs / config.windowMs) * config.windowMs;
  // A clock that stepped back stays in the newer window rather than reopening an old one.
  const current = windowStartMs > state.windowStartMs ? { windowStartMs, count: 0 } : state;
  if (current.count + cost <= config.limit) {
    const count = current.count + cost;
    return {
      state: { windowStartMs: current.windowStartMs, count },
      decision: allowed(config.limit - count),
    };
  }
  const retryAfterMs =
    cost > config.limit ? Number.POSITIVE_INFINITY : current.windowStartMs + config.windowMs - nowMs;
  return { state: current, decision: denied(config.limit - current.count, retryAfterMs) };
}

export function checkWindowConfig(algorithm: string, config: WindowConfig): void {
  checkPositive(algorithm, 'limit', config.limit);
  checkPositive(algorithm, 'windowMs', config.windowMs);
}

export const fixedWindowAlgorithm: RateLimitAlgorithm<FixedWindowState, WindowConfig> = {
  name: 'fixed-window',
  validateConfig: (config) => checkWindowConfig('fixed window', config),
  initialState: () => ({ windowStartMs: Number.NEGATIVE_INFINITY, count: 0 }),
  acquire: fixedWindowAcquire,
};

/**
 * A fixed window counter: `limit` units per aligned window of `windowMs`.
 *
 * @example
 * const limiter = new FixedWindow({ limit: 100, windowMs: 60_000 }); // 100 per clock minute
 */
export class FixedWindow extends AlgorithmRateLimiter<FixedWindowState, WindowConfig> {
  constructor(config: WindowConfig, clock?: Clock) {
    super(fixedWindowAlgorithm, config, clock);
  }
}
