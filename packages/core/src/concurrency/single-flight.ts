/**
 * Single-flight: concurrent calls for the same key share one in-flight promise, so a burst of
 * misses for a cold cache entry makes one load, not hundreds (cache-stampede protection).
 * Nothing is remembered once the call settles; put a cache in front for that.
 *
 * @example
 * const loads = new SingleFlight<string, User>();
 * const user = cache.get(id) ?? (await loads.run(id, () => db.loadUser(id)));
 */
export class SingleFlight<K, V> {
  readonly #inFlight = new Map<K, Promise<V>>();

  /** Calls in flight now (one per key). */
  get size(): number {
    return this.#inFlight.size;
  }

  has(key: K): boolean {
    return this.#inFlight.has(key);
  }

  /** Joins the call in flight for `key`, or starts `load` and shares it until it settles. */
  run(key: K, load: () => PromiseLike<V> | V): Promise<V> {
    const existing = this.#inFlight.get(key);
    if (existing !== undefined) return existing;
    let call: Promise<V>;
    try {
      call = Promise.resolve(load());
    } catch (error) {
      return Promise.reject(error);
    }
    this.#inFlight.set(key, call);
    const settled = (): void => {
      if (this.#inFlight.get(key) === call) this.#inFlight.delete(key);
    };
    call.then(settled, settled);
    return call;
  }

  /** Lets the next call for `key` start afresh even while the current one is still running. */
  forget(key: K): void {
    this.#inFlight.delete(key);
  }
}
