/** Must be a power of two: slot indices wrap with a bit mask. */
const initialCapacity = 16;

/**
 * A first-in first-out queue on a growable ring buffer: O(1) `push` and `shift`,
 * unlike `Array.prototype.shift`, which is O(n) once an array leaves V8's fast path.
 * Used by every waiting line in this package (pool, semaphore, channel, bulkhead).
 *
 * @example
 * const queue = new FifoQueue<string>();
 * queue.push('a');
 * queue.push('b');
 * queue.shift(); // 'a'
 */
export class FifoQueue<T> {
  #slots: (T | undefined)[] = new Array<T | undefined>(initialCapacity);
  #head = 0;
  #length = 0;

  get length(): number {
    return this.#length;
  }

  push(item: T): void {
    if (this.#length === this.#slots.length) this.#grow();
    this.#slots[(this.#head + this.#length) & (this.#slots.length - 1)] = item;
    this.#length++;
  }

  /** Removes and returns the oldest item, or `undefined` when empty. */
  shift(): T | undefined {
    if (this.#length === 0) return undefined;
    const item = this.#slots[this.#head];
    this.#slots[this.#head] = undefined; // let the item be collected
    this.#head = (this.#head + 1) & (this.#slots.length - 1);
    this.#length--;
    return item;
  }

  /** The oldest item without removing it. */
  peek(): T | undefined {
    return this.#length === 0 ? undefined : this.#slots[this.#head];
  }

  /** Removes the first occurrence of `item` (O(n); for rare cancellations). Returns whether it was found. */
  remove(item: T): boolean {
    const mask = this.#slots.length - 1;
    for (let offset = 0; offset < this.#length; offset++) {
      if (this.#slots[(this.#head + offset) & mask] !== item) continue;
      for (let later = offset; later < this.#length - 1; later++) {
        this.#slots[(this.#head + later) & mask] = this.#slots[(this.#head + later + 1) & mask];
      }
      this.#slots[(this.#head + this.#length - 1) & mask] = undefined;
      this.#length--;
      return true;
    }
    return false;
  }

  /** Removes and returns every item, oldest first. */
  drain(): T[] {
    const items: T[] = [];
    while (this.#length > 0) items.push(this.shift() as T);
    return items;
  }

  #grow(): void {
    const grown = new Array<T | undefined>(this.#slots.length * 2);
    for (let offset = 0; offset < this.#length; offset++) {
      grown[offset] = this.#slots[(this.#head + offset) & (this.#slots.length - 1)];
    }
    this.#slots = grown;
    this.#head = 0;
  }
}
