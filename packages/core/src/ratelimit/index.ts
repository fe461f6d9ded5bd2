export type {
  RateLimitAlgorithm,
  RateLimitDecision,
  RateLimiter,
  RateLimitStep,
} from './algorithm.js';
export {
  FixedWindow,
  type FixedWindowState,
  fixedWindowAcquire,
  fixedWindowAlgorithm,
  type WindowConfig,
} from './fixed-window.js';
export { Gcra, type GcraConfig, type GcraState, gcraAcquire, gcraAlgorithm } from './gcra.js';
export { KeyedRateLimiter, type KeyedRateLimiterOptions } from './keyed.js';
export {
  LeakyBucket,
  type LeakyBucketConfig,
  type LeakyBucketScheduleDecision,
  type LeakyBucketState,
  leakyBucketAcquire,
  leakyBucketAlgorithm,
  leakyBucketSchedule,
} from './leaky-bucket.js';
export { AlgorithmRateLimiter } from './limiter.js';
export {
  SlidingWindowCounter,
  type SlidingWindowCounterState,
  slidingWindowCounterAcquire,
  slidingWindowCounterAlgorithm,
} from './sliding-window-counter.js';
export {
  SlidingWindowLog,
  type SlidingWindowLogEntry,
  type SlidingWindowLogState,
  slidingWindowLogAcquire,
  slidingWindowLogAlgorithm,
} from './sliding-window-log.js';
export {
  TokenBucket,
  type TokenBucketConfig,
  type TokenBucketState,
  tokenBucketAcquire,
  tokenBucketAlgorithm,
} from './token-bucket.js';
