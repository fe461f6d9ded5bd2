import type { Clock } from '../time.js';
import {
  allowed,
  checkCost,
  checkPositive,
  denied,
  floatTolerance,
  type RateLimitAlgorithm,
  type RateLimitDecision,
  type RateLimitStep,
} from './algorithm.js';
import { AlgorithmRateLimiter } from './limiter.js';

export interface LeakyBucketConfig {
  /** Units the bucket holds: as a meter, the largest burst; as a queue, the most work waiting. */
  readonly capacity: number;
  /** Units that drain per second. */
  readonly leakPerSecond: number;
}

export interface LeakyBucketState {
  /** Units in the bucket at `updatedAtMs`. */
  readonly level: number;
  readonly updatedAtMs: number;
}

/** A queue admission: the request may run after `delayMs`. */
export interface LeakyBucketScheduleDecision extends RateLimitDecision {
  /** 0 if refused; else how long the request must wait for the work ahead of it to drain. */
  readonly delayMs: number;
}

function drained(state: LeakyBucketState, nowMs: number, config: LeakyBucketConfig): LeakyBucketState {
  if (nowMs <= state.updatedAtMs) return state;
  const level = Math.max(0, state.level - ((nowMs - state.updatedAtMs) * config.leakPerSecond) / 1000);
  return { level, updatedAtMs: nowMs };
}

function refusal(level: number, cost: number, config: LeakyBucketConfig): RateLimitDecision {
  const retryAfterMs =
    cost > config.capacity
      ? Number.POSITIVE_INFINITY
      : ((level + cost - config.capacity) * 1000) / config.leakPerSecond;
  return denied(config.capacity - level, retryAfterMs);
}

/**
 * The leaky bucket as a meter: a request fits if the bucket has room for `cost`; it then runs
 * at once and its units drain at `leakPerSecond`. Equivalent in what it admits to a token
 * bucket of the same capacity and rate.
 */
export function leakyBucketAcquire(
  state: LeakyBucketState,
  nowMs: number,
  cost: number,
  config: LeakyBucketConfig,
): RateLimitStep<LeakyBucketState> {
  const current = drained(state, nowMs, config);
  if (current.level + cost > config.capacity + floatTolerance) {
    return { state: current, decision: refusal(current.level, cost, config) };
  }
  const level = current.level + cost;
  return { state: { level, updatedAtMs: current.updatedAtMs }, decision: allowed(config.capacity - level) };
}

/**
 * The leaky bucket as a queue (a traffic shaper): a request joins if the queue has room and
 * runs once everything ahead of it has drained, so admitted work starts at most
 * `leakPerSecond` units per second, evenly spaced, without bursts.
 */
export function leakyBucketSchedule(
  state: LeakyBucketState,
  nowMs: number,
  cost: number,
  config: LeakyBucketConfig,
): RateLimitStep<LeakyBucketState, LeakyBucketScheduleDecision> {
  const current = drained(state, nowMs, config);
  if (current.level + cost > config.capacity + floatTolerance) {
    return { state: current, decision: { ...refusal(current.level, cost, config), delayMs: 0 } };
  }
  const delayMs = (current.level * 1000) / config.leakPerSecond;
  const level = current.level + cost;
  return {
    state: { level, updatedAtMs: current.updatedAtMs },
    decision: { ...allowed(config.capacity - level), delayMs },
  };
}

export const leakyBucketAlgorithm: RateLimitAlgorithm<LeakyBucketState, LeakyBucketConfig> = {
  name: 'leaky-bucket',
  validateConfig(config) {
    checkPositive('leaky bucket', 'capacity', config.capacity);
    checkPositive('leaky bucket', 'leakPerSecond', config.leakPerSecond);
  },
  initialState: (_config, nowMs) => ({ level: 0, updatedAtMs: nowMs }),
  acquire: leakyBucketAcquire,
};

/**
 * A leaky bucket. `tryAcquire` meters (admit now or refuse); `schedule` queues (admit with the
 * delay before the request may run, or refuse when the queue is full).
 *
 * @example
 * const shaper = new LeakyBucket({ capacity: 50, leakPerSecond: 10 });
 * const { allowed, delayMs } = shaper.schedule();
 * if (allowed) setTimeout(send, delayMs);
 */
export class LeakyBucket extends AlgorithmRateLimiter<LeakyBucketState, LeakyBucketConfig> {
  constructor(config: LeakyBucketConfig, clock?: Clock) {
    super(leakyBucketAlgorithm, config, clock);
  }

  schedule(cost = 1): LeakyBucketScheduleDecision {
    checkCost(cost);
    const step = leakyBucketSchedule(this.state, this.clock.now(), cost, this.config);
    this.restore(step.state);
    return step.decision;
  }
}
