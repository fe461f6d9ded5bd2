import { type Clock, systemClock } from '../time.js';
import { LruMap } from './lru.js';
import { callOperation, rootContextFor } from './policy.js';

export interface IdempotencyOptions {
  /** How long a finished call's result is replayed to repeats of its key. */
  ttlMs: number;
  /** Keys remembered at most; the least recently used is forgotten first. */
  maxKeys: number;
  /** Replay failures too (default false: a failed call may be tried again at once). */
  cacheFailures?: boolean;
  clock?: Clock;
}

interface Entry<V> {
  readonly promise: Promise<V>;
  /** Undefined while the call is in flight; in-flight calls never expire. */
  settledAtMs: number | undefined;
}

/**
 * Runs each idempotency key at most once at a time and replays its result for `ttlMs`:
 * a concurrent or recent repeat of a key gets the same promise instead of a second call.
 * Memory is bounded by `maxKeys` (least recently used keys are forgotten first).
 *
 * @example
 * const payments = new IdempotencyCache<Receipt>({ ttlMs: 60_000, maxKeys: 10_000 });
 * const receipt = await payments.run(request.idempotencyKey, () => charge(request));
 */
export class IdempotencyCache<V, K = string> {
  readonly #ttlMs: number;
  readonly #cacheFailures: boolean;
  readonly #clock: Clock;
  readonly #entries: LruMap<K, Entry<V>>;

  constructor(options: IdempotencyOptions) {
    if (!(options.ttlMs >= 0))
      throw new RangeError(`IdempotencyCache: ttlMs must be ≥ 0 (got ${options.ttlMs})`);
    this.#ttlMs = options.ttlMs;
    this.#cacheFailures = options.cacheFailures ?? false;
    this.#clock = options.clock ?? systemClock;
    this.#entries = new LruMap(options.maxKeys);
  }

  /** Keys remembered now (in flight or within their TTL, or expired but not yet looked up). */
  get size(): number {
    return this.#entries.size;
  }

  /** Returns the in-flight or recent result for `key`, or runs `operation` and remembers it. */
  run(key: K, operation: () => PromiseLike<V> | V): Promise<V> {
    const existing = this.#entries.get(key);
    if (existing !== undefined && !this.#expired(existing)) return existing.promise;
    const entry: Entry<V> = {
      promise: callOperation(operation, rootContextFor(undefined)),
      settledAtMs: undefined,
    };
    this.#entries.set(key, entry);
    entry.promise.then(
      () => this.#settled(key, entry, true),
      () => this.#settled(key, entry, false),
    );
    return entry.promise;
  }

  /** Forgets `key`, so its next call runs again. */
  forget(key: K): void {
    this.#entries.delete(key);
  }

  clear(): void {
    this.#entries.clear();
  }

  #expired(entry: Entry<V>): boolean {
    return entry.settledAtMs !== undefined && this.#clock.now() - entry.settledAtMs >= this.#ttlMs;
  }

  #settled(key: K, entry: Entry<V>, succeeded: boolean): void {
    // The key may have been evicted or replaced meanwhile; only its own entry is updated.
    if (this.#entries.peek(key) !== entry) return;
    if (succeeded || this.#cacheFailures) entry.settledAtMs = this.#clock.now();
    else this.#entries.delete(key);
  }
}
