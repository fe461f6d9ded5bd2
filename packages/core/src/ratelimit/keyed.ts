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
    // `get` marks the key most recently used, so the `set` below finds it in place.
    const state = this.#states.get(key) ?? this.algorithm.initialState(this.config, nowMs);
    const step = this.algorithm.acquire(state, nowMs, cost, this.config);
    this.#states.set(key, step.state);
    return step.decision;
  }

  /** The state kept for `key`, if any (for inspection or replication). */
  stateOf(key: Key): State | undefined {
    return this.#states.peek(key);
  }

  /** Replaces the state of `key` (for example from a snapshot). */
  restore(key: Key, state: State): void {
    this.#states.set(key, state);
  }

  forget(key: Key): void {
    this.#states.delete(key);
  }
}
