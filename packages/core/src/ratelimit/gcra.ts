import type { Clock } from '../time.js';
import {
  allowed,
  checkPositive,
  denied,
  floatTolerance,
  type RateLimitAlgorithm,
  type RateLimitStep,
} from './algorithm.js';
import { AlgorithmRateLimiter } from './limiter.js';

export interface GcraConfig {
  /** Sustained units per second. */
  readonly ratePerSecond: number;
  /** Units that may pass back to back after a quiet period. */
  readonly burst: number;
}

export interface GcraState {
  /** Theoretical arrival time: when the limiter would be idle again had it run exactly at rate. */
  readonly theoreticalArrivalMs: number;
}

/**
 * One step of the Generic Cell Rate Algorithm (ATM's virtual scheduling): each admitted unit
 * pushes the theoretical arrival time one emission interval (1000 / ratePerSecond ms) ahead; a
 * request passes if that time stays within `burst` intervals of now. Admits exactly what a
 * token bucket of capacity `burst` would, in one number of state.
 */
export function gcraAcquire(
  state: GcraState,
  nowMs: number,
  cost: number,
  config: GcraConfig,
): RateLimitStep<GcraState> {
  const emissionIntervalMs = 1000 / config.ratePerSecond;
  const toleranceMs = config.burst * emissionIntervalMs;
  const arrivalMs = Math.max(state.theoreticalArrivalMs, nowMs);
  const nextArrivalMs = arrivalMs + cost * emissionIntervalMs;
  const backlogMs = nextArrivalMs - nowMs;
  if (backlogMs <= toleranceMs + floatTolerance * emissionIntervalMs) {
    return {
      state: { theoreticalArrivalMs: nextArrivalMs },
      decision: allowed((toleranceMs - backlogMs) / emissionIntervalMs),
    };
  }
  const retryAfterMs = cost > config.burst ? Number.POSITIVE_INFINITY : backlogMs - toleranceMs;
  return { state, decision: denied((toleranceMs - (arrivalMs - nowMs)) / emissionIntervalMs, retryAfterMs) };
}

export const gcraAlgorithm: RateLimitAlgorithm<GcraState, GcraConfig> = {
  name: 'gcra',
  validateConfig(config) {
    checkPositive('GCRA', 'ratePerSecond', config.ratePerSecond);
    checkPositive('GCRA', 'burst', config.burst);
  },
  initialState: (_config, nowMs) => ({ theoreticalArrivalMs: nowMs }),
  acquire: gcraAcquire,
};

/**
 * GCRA: `ratePerSecond` sustained with bursts of `burst`, in a single timestamp of state.
 *
 * @example
 * const limiter = new Gcra({ ratePerSecond: 10, burst: 5 });
 */
export class Gcra extends AlgorithmRateLimiter<GcraState, GcraConfig> {
  constructor(config: GcraConfig, clock?: Clock) {
    super(gcraAlgorithm, config, clock);
  }
}
