// A map from non-negative integer keys (HTTP/2 stream ids, proposal sequence numbers) to objects,
// for registries that see one insert and one delete per request. Open addressing with linear
// probing; a delete shifts the entries after it back instead of leaving a tombstone, so a deleted
// slot is empty at once. The table is replaced only when it grows, and the replaced one is wiped.
// (A Map replaces its table as entries come and go; a replaced table that reached the old
// generation still points at the entries it held until the next full collection, which keeps
// finished requests alive through young-generation collections and promotes them.)

const INITIAL_CAPACITY = 16;
const TWO_TO_32 = 2 ** 32;

export class IntMap<V> {
  private keys: Float64Array;
  private values: (V | undefined)[];
  private mask: number;
  /** 32 - log2(capacity): a multiplicative hash keeps its high bits, which depend on every key bit. */
  private shift: number;
  private count = 0;

  constructor() {
    this.keys = new Float64Array(INITIAL_CAPACITY);
    this.values = new Array<V | undefined>(INITIAL_CAPACITY).fill(undefined);
    this.mask = INITIAL_CAPACITY - 1;
    this.shift = 32 - Math.log2(INITIAL_CAPACITY);
  }

  get size(): number {
    return this.count;
  }

  get(key: number): V | undefined {
    const keys = this.keys;
    const values = this.values;
    for (let slot = this.home(key); ; slot = (slot + 1) & this.mask) {
      const value = values[slot];
      if (value === undefined) return undefined;
      if (keys[slot] === key) return value;
    }
  }

  /** Sets `key` to `value` (never undefined: an empty slot is how the table knows one). */
  set(key: number, value: V): this {
    if (!Number.isSafeInteger(key) || key < 0)
      throw new RangeError(`IntMap key ${key} is not a non-negative integer`);
    if (value === undefined) throw new TypeError('IntMap values cannot be undefined');
    for (let slot = this.home(key); ; slot = (slot + 1) & this.mask) {
      if (this.values[slot] === undefined) {
        this.keys[slot] = key;
        this.values[slot] = value;
        this.count++;
        if (this.count * 2 > this.values.length) this.grow();
        return this;
      }
      if (this.keys[slot] === key) {
        this.values[slot] = value;
        return this;
      }
    }
  }

  delete(key: number): boolean {
    const mask = this.mask;
    const keys = this.keys;
    const values = this.values;
    let slot = this.home(key);
    for (; ; slot = (slot + 1) & mask) {
      if (values[slot] === undefined) return false;
      if (keys[slot] === key) break;
    }
    // Backward shift: move up each later entry of the run whose home is not between the hole and it.
    let hole = slot;
    for (let next = (hole + 1) & mask; values[next] !== undefined; next = (next + 1) & mask) {
      const home = this.home(keys[next]!);
      const reachable = hole <= next ? home <= hole || home > next : home <= hole && home > next;
      if (reachable) {
        keys[hole] = keys[next]!;
        values[hole] = values[next];
        hole = next;
      }
    }
    values[hole] = undefined;
    keys[hole] = 0;
    this.count--;
    return true;
  }

  /** The values, as a copy (callers may delete while going through it). */
  valuesArray(): V[] {
    const result: V[] = [];
    for (const value of this.values) if (value !== undefined) result.push(value);
    return result;
  }

  /** Calls `visit` for every entry; `visit` must not change the map. */
  forEach(visit: (value: V, key: number) => void): void {
    const values = this.values;
    for (let slot = 0; slot < values.length; slot++) {
      const value = values[slot];
      if (value !== undefined) visit(value, this.keys[slot]!);
    }
  }

  private home(key: number): number {
    // Stream ids and sequence numbers are dense: mix the low and high words so neighbours spread.
    const low = key >>> 0;
    const high = (key / TWO_TO_32) >>> 0;
    return Math.imul(low ^ Math.imul(high, 0x85ebca6b), 0x9e3779b1) >>> this.shift;
  }

  private grow(): void {
    const oldKeys = this.keys;
    const oldValues = this.values;
    const capacity = oldValues.length * 2;
    this.keys = new Float64Array(capacity);
    this.values = new Array<V | undefined>(capacity).fill(undefined);
    this.mask = capacity - 1;
    this.shift = 32 - Math.log2(capacity);
    this.count = 0;
    for (let slot = 0; slot < oldValues.length; slot++) {
      const value = oldValues[slot];
      if (value !== undefined) this.set(oldKeys[slot]!, value);
    }
    oldValues.fill(undefined);
  }
}
