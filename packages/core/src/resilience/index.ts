export {
  type Backoff,
  constantBackoff,
  type ExponentialBackoffOptions,
  exponentialBackoff,
  type Jitter,
} from './backoff.js';
export { type BulkheadOptions, BulkheadPolicy, bulkhead } from './bulkhead.js';
export {
  type CircuitBreakerEvents,
  type CircuitBreakerOptions,
  CircuitBreakerPolicy,
  type CircuitState,
  circuitBreaker,
} from './circuit-breaker.js';
export {
  AttemptSupersededError,
  BrokenCircuitError,
  BulkheadRejectedError,
  ResilienceError,
  ResilienceErrorCode,
  TimeoutError,
} from './errors.js';
export type { Listener } from './events.js';
export type { TripPolicy } from './failure-tracker.js';
export { type HedgeOptions, HedgePolicy, hedge } from './hedge.js';
export { IdempotencyCache, type IdempotencyOptions } from './idempotency.js';
export { LruMap } from './lru.js';
export { ManualScheduler } from './manual-scheduler.js';
export {
  type Invoker,
  neverAbortedSignal,
  type Operation,
  type Policy,
  type PolicyContext,
} from './policy.js';
export {
  type AttemptOutcome,
  type GiveUpEvent,
  type RetryEvent,
  type RetryOptions,
  RetryPolicy,
  retry,
} from './retry.js';
export { realScheduler, type Scheduler } from './scheduler.js';
export { type TimeoutOptions, TimeoutPolicy, type TimeoutStrategy, timeout } from './timeout.js';
export { type CombinedResult, PolicyChain, type PolicyResult, wrap } from './wrap.js';
