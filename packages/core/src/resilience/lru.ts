/**
 * A map bounded to `maxSize` entries that evicts the least recently used one.
 * Relies on `Map` keeping insertion order: a read re-inserts the key at the young end.
 * Shared by the idempotency cache and the per-key rate limiter.
 *
 * @example
 * const recent = new LruMap<string, number>(2);
 * recent.set('a', 1);
 * recent.set('b', 2);
 * recent.get('a'); // 1, and 'a' is now the most recent
 * recent.set('c', 3); // evicts 'b'
 */
export class LruMap<K, V> {
  readonly maxSize: number;
  readonly #entries = new Map<K, V>();
  readonly #onEvict: ((key: K, value: V) => void) | undefined;

  constructor(maxSize: number, onEvict?: (key: K, value: V) => void) {
    if (!(Number.isInteger(maxSize) && maxSize >= 1)) {
      throw new RangeError(`LruMap: maxSize must be an integer ≥ 1 (got ${maxSize})`);
    }
    this.maxSize = maxSize;
    this.#onEvict = onEvict;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** The value for `key`, marking it most recently used. */
  get(key: K): V | undefined {
    const value = this.#entries.get(key);
    if (value === undefined) return undefined;
    this.#entries.delete(key);
    this.#entries.set(key, value);
    return value;
  }

  /** The value for `key`, leaving its recency unchanged. */
  peek(key: K): V | undefined {
    return this.#entries.get(key);
  }

  has(key: K): boolean {
    return this.#entries.has(key);
  }

  /** Stores `value` as most recently used, evicting the least recently used entry if full. */
  set(key: K, value: V): void {
    this.#entries.delete(key);
    this.#entries.set(key, value);
    if (this.#entries.size <= this.maxSize) return;
    const oldest = this.#entries.entries().next();
    if (oldest.done) return;
    const [oldestKey, oldestValue] = oldest.value;
    this.#entries.delete(oldestKey);
    this.#onEvict?.(oldestKey, oldestValue);
  }

  delete(key: K): boolean {
    return this.#entries.delete(key);
  }

  clear(): void {
    this.#entries.clear();
  }

  /** Keys from least to most recently used. */
  keys(): IterableIterator<K> {
    return this.#entries.keys();
  }
}
