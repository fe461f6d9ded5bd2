import { LruMap } from '../resilience/lru.js';
import { type Clock, systemClock } from '../time.js';
import { checkCost, type RateLimitAlgorithm, type RateLimitDecision } from './algorithm.js';

export interface KeyedRateLimiterOptions {
  /**
   * Keys whose state is kept; the least recently used is forgotten first. A forgotten key
   * starts afresh with a full budget, so size this above the number of keys active within
   * one window, or an attacker cycling through keys could reset their own limit.
   */
  maxKeys: number;
  clock?: Clock;
}

/**
 * One limit per key (per client, per tenant, per route) in bounded memory: states live in an
 * LRU map of at most `maxKeys` entries, as plain objects, one algorithm step per request.
 * States must be plain objects (every algorithm here uses one).
 *
 * @example
 * const perClient = new KeyedRateLimiter(tokenBucketAlgorithm, { capacity: 10, refillPerSecond: 1 }, { maxKeys: 100_000 });
 * const decision = perClient.tryAcquire(request.ip);
 */
export class KeyedRateLimiter<State, Config, Key = string> {
  readonly algorithm: RateLimitAlgorithm<State, Config>;
  readonly config: Config;
  readonly #clock: Clock;
  readonly #states: LruMap<Key, State>;

  constructor(
    algorithm: RateLimitAlgorithm<State, Config>,
    config: Config,
    options: KeyedRateLimiterOptions,
  ) {
    algorithm.validateConfig(config);
    this.algorithm = algorithm;
    this.config = config;
    this.#clock = options.clock ?? systemClock;
    this.#states = new LruMap(options.maxKeys);
  }

  /** Keys with state kept now (never more than `maxKeys`). */
  get size(): number {
    return this.#states.size;
  }

  tryAcquire(key: Key, cost = 1): RateLimitDecision {
    checkCost(cost);
    const nowMs = this.#clock.now();
    const kept = this.#states.get(key);
    if (kept === undefined) {
      const step = this.algorithm.acquire(
        this.algorithm.initialState(this.config, nowMs),
        nowMs,
        cost,
        this.config,
      );
      this.#states.set(key, { ...step.state });
      return step.decision;
    }
    const step = this.algorithm.acquire(kept, nowMs, cost, this.config);
    // Copy the new state into the kept object rather than storing the new one: a long-lived map
    // pointing at fresh objects makes every young-generation collection copy all of them.
    Object.assign(kept as object, step.state);
    return step.decision;
  }

  /** A copy of the state kept for `key`, if any (for inspection or replication). */
  stateOf(key: Key): State | undefined {
    const kept = this.#states.peek(key);
    return kept === undefined ? undefined : { ...kept };
  }

  /** Replaces the state of `key` (for example from a snapshot); the limiter keeps its own copy. */
  restore(key: Key, state: State): void {
    this.#states.set(key, { ...state });
  }

  forget(key: Key): void {
    this.#states.delete(key);
  }
}
