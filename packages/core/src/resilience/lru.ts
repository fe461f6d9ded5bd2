interface LruNode<K, V> {
  readonly key: K;
  value: V;
  /** Towards the least recently used end. */
  older: LruNode<K, V> | undefined;
  /** Towards the most recently used end. */
  newer: LruNode<K, V> | undefined;
}

/**
 * A map bounded to `maxSize` entries that evicts the least recently used one.
 * Recency is a doubly linked list beside a `Map` of nodes: a hit only relinks two nodes and
 * never mutates the `Map` (deleting and re-inserting a key, the usual trick, costs V8 a
 * rehash now and then and was the bottleneck of per-key rate limiting).
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
  readonly #nodes = new Map<K, LruNode<K, V>>();
  readonly #onEvict: ((key: K, value: V) => void) | undefined;
  #oldest: LruNode<K, V> | undefined;
  #newest: LruNode<K, V> | undefined;

  constructor(maxSize: number, onEvict?: (key: K, value: V) => void) {
    if (!(Number.isInteger(maxSize) && maxSize >= 1)) {
      throw new RangeError(`LruMap: maxSize must be an integer ≥ 1 (got ${maxSize})`);
    }
    this.maxSize = maxSize;
    this.#onEvict = onEvict;
  }

  get size(): number {
    return this.#nodes.size;
  }

  /** The value for `key`, marking it most recently used. */
  get(key: K): V | undefined {
    const node = this.#nodes.get(key);
    if (node === undefined) return undefined;
    this.#touch(node);
    return node.value;
  }

  /** The value for `key`, leaving its recency unchanged. */
  peek(key: K): V | undefined {
    return this.#nodes.get(key)?.value;
  }

  has(key: K): boolean {
    return this.#nodes.has(key);
  }

  /** Stores `value` as most recently used, evicting the least recently used entry if full. */
  set(key: K, value: V): void {
    const existing = this.#nodes.get(key);
    if (existing !== undefined) {
      existing.value = value;
      this.#touch(existing);
      return;
    }
    const node: LruNode<K, V> = { key, value, older: this.#newest, newer: undefined };
    if (this.#newest === undefined) this.#oldest = node;
    else this.#newest.newer = node;
    this.#newest = node;
    this.#nodes.set(key, node);
    if (this.#nodes.size > this.maxSize) this.#evictOldest();
  }

  delete(key: K): boolean {
    const node = this.#nodes.get(key);
    if (node === undefined) return false;
    this.#unlink(node);
    this.#nodes.delete(key);
    return true;
  }

  clear(): void {
    this.#nodes.clear();
    this.#oldest = undefined;
    this.#newest = undefined;
  }

  /** Keys from least to most recently used. */
  *keys(): IterableIterator<K> {
    for (let node = this.#oldest; node !== undefined; node = node.newer) yield node.key;
  }

  #evictOldest(): void {
    const oldest = this.#oldest;
    if (oldest === undefined) return;
    this.#unlink(oldest);
    this.#nodes.delete(oldest.key);
    this.#onEvict?.(oldest.key, oldest.value);
  }

  /** Moves `node` to the most recently used end. */
  #touch(node: LruNode<K, V>): void {
    if (node === this.#newest) return;
    this.#unlink(node);
    node.older = this.#newest;
    node.newer = undefined;
    if (this.#newest === undefined) this.#oldest = node;
    else this.#newest.newer = node;
    this.#newest = node;
  }

  #unlink(node: LruNode<K, V>): void {
    if (node.older === undefined) this.#oldest = node.newer;
    else node.older.newer = node.newer;
    if (node.newer === undefined) this.#newest = node.older;
    else node.newer.older = node.older;
    node.older = undefined;
    node.newer = undefined;
  }
}
