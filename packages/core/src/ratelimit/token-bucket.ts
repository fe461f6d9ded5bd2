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

export interface TokenBucketConfig {
  /** Tokens the bucket holds when full: the largest burst. */
  readonly capacity: number;
  /** Tokens added per second, up to `capacity`. */
  readonly refillPerSecond: number;
}

export interface TokenBucketState {
  readonly tokens: number;
  readonly updatedAtMs: number;
}

/**
 * One step of the token bucket: refill for the time elapsed, then spend `cost` tokens if there
 * are enough. Over any interval of length t it admits at most `capacity + refillPerSecond · t`.
 * A clock that steps backwards refills nothing (time never runs backwards for the bucket).
 */
export function tokenBucketAcquire(
  state: TokenBucketState,
  nowMs: number,
  cost: number,
  config: TokenBucketConfig,
): RateLimitStep<TokenBucketState> {
  const elapsedMs = nowMs > state.updatedAtMs ? nowMs - state.updatedAtMs : 0;
  const tokens = Math.min(config.capacity, state.tokens + (elapsedMs * config.refillPerSecond) / 1000);
  const updatedAtMs = elapsedMs > 0 ? nowMs : state.updatedAtMs;
  if (cost <= tokens + floatTolerance) {
    // Not clamped at 0: a float-residue overdraft is repaid by the next refill, never forgiven.
    const left = tokens - cost;
    return { state: { tokens: left, updatedAtMs }, decision: allowed(left) };
  }
  const retryAfterMs =
    cost > config.capacity ? Number.POSITIVE_INFINITY : ((cost - tokens) * 1000) / config.refillPerSecond;
  return { state: { tokens, updatedAtMs }, decision: denied(tokens, retryAfterMs) };
}

export const tokenBucketAlgorithm: RateLimitAlgorithm<TokenBucketState, TokenBucketConfig> = {
  name: 'token-bucket',
  validateConfig(config) {
    checkPositive('token bucket', 'capacity', config.capacity);
    checkPositive('token bucket', 'refillPerSecond', config.refillPerSecond);
  },
  initialState: (config, nowMs) => ({ tokens: config.capacity, updatedAtMs: nowMs }),
  acquire: tokenBucketAcquire,
};

/**
 * A token bucket: bursts up to `capacity`, sustained `refillPerSecond`.
 *
 * @example
 * const limiter = new TokenBucket({ capacity: 20, refillPerSecond: 5 });
 * if (!limiter.tryAcquire().allowed) rejectRequest();
 */
export class TokenBucket extends AlgorithmRateLimiter<TokenBucketState, TokenBucketConfig> {
  constructor(config: TokenBucketConfig, clock?: Clock) {
    super(tokenBucketAlgorithm, config, clock);
  }
}
