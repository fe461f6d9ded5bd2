/**
 * Counting Bloom filter (Fan et al., "Summary Cache", 2000): each bit becomes a small counter so
 * keys can be removed. A counter that reaches its maximum saturates and is never decremented
 * again: it may have counted more keys than it can hold, and decrementing it could later produce
 * a false negative. Four-bit counters overflow with probability ≈ 1.37·10⁻¹⁵·m at optimal k
 * (Fan et al.), so they are the default; eight-bit counters suit heavy duplicate adds.
 */
import type { HashInput } from '../hashing/utf8.js';
import { optimalBloomParameters } from './bloom.js';
import { fillIndexes } from './double-hashing.js';
import { SketchFormatError } from './errors.js';

export type CounterBits = 4 | 8;

export const countingBloomFormatVersion = 1;
/** version, k, counter bits, reserved, m (u32), count (u32). */
export const countingBloomHeaderBytes = 12;
/** Counters are indexed by a u32 in the header and in memory. */
export const countingBloomCounterCountMax = 0xffffffff;
export const countingBloomHashCountMax = 64;

/**
 * @example
 * const sessions = CountingBloomFilter.create(10_000, 0.01);
 * sessions.add('s1');
 * sessions.remove('s1'); // true
 * sessions.has('s1'); // false (unless another key shares all its counters)
 */
export class CountingBloomFilter {
  readonly counterCount: number;
  readonly hashCount: number;
  readonly counterBits: CounterBits;
  readonly #counterMax: number;
  readonly #counters: Uint8Array;
  readonly #indexes: Float64Array;
  #count = 0;

  constructor(counterCount: number, hashCount: number, counterBits: CounterBits = 4, counters?: Uint8Array) {
    if (!Number.isInteger(counterCount) || counterCount < 1 || counterCount > countingBloomCounterCountMax) {
      throw new RangeError(
        `counterCount must be an integer in [1, ${countingBloomCounterCountMax}], got ${counterCount}`,
      );
    }
    if (!Number.isInteger(hashCount) || hashCount < 1 || hashCount > countingBloomHashCountMax) {
      throw new RangeError(
        `hashCount must be an integer in [1, ${countingBloomHashCountMax}], got ${hashCount}`,
      );
    }
    if (counterBits !== 4 && counterBits !== 8)
      throw new RangeError(`counterBits must be 4 or 8, got ${counterBits}`);
    this.counterCount = counterCount;
    this.hashCount = hashCount;
    this.counterBits = counterBits;
    this.#counterMax = counterBits === 4 ? 0xf : 0xff;
    this.#counters =
      counters ?? new Uint8Array(counterBits === 4 ? Math.ceil(counterCount / 2) : counterCount);
    this.#indexes = new Float64Array(hashCount);
  }

  /** A filter sized like a Bloom filter for `expectedItems` keys at `falsePositiveRate`. */
  static create(
    expectedItems: number,
    falsePositiveRate: number,
    counterBits: CounterBits = 4,
  ): CountingBloomFilter {
    const { bitCount, hashCount } = optimalBloomParameters(expectedItems, falsePositiveRate);
    return new CountingBloomFilter(bitCount, hashCount, counterBits);
  }

  /** Keys added minus keys removed. */
  get count(): number {
    return this.#count;
  }

  add(key: HashInput): void {
    const indexes = fillIndexes(key, this.counterCount, this.hashCount, this.#indexes);
    for (let round = 0; round < this.hashCount; round++) {
      const index = indexes[round]!;
      const value = this.#read(index);
      if (value < this.#counterMax) this.#write(index, value + 1);
    }
    this.#count++;
  }

  /** False means `key` is not in the filter; true means it probably is. */
  has(key: HashInput): boolean {
    const indexes = fillIndexes(key, this.counterCount, this.hashCount, this.#indexes);
    for (let round = 0; round < this.hashCount; round++) {
      if (this.#read(indexes[round]!) === 0) return false;
    }
    return true;
  }

  /**
   * Removes one occurrence of `key`. Returns false, changing nothing, when `key` is certainly
   * absent: decrementing for a key never added would erase other keys.
   */
  remove(key: HashInput): boolean {
    if (!this.has(key)) return false;
    // has() just filled #indexes for this key.
    const indexes = this.#indexes;
    for (let round = 0; round < this.hashCount; round++) {
      const index = indexes[round]!;
      const value = this.#read(index);
      if (value < this.#counterMax) this.#write(index, value - 1);
    }
    this.#count--;
    return true;
  }

  /** Number of counters stuck at their maximum (a health signal: these can no longer be removed). */
  saturatedCounterCount(): number {
    let saturated = 0;
    for (let index = 0; index < this.counterCount; index++)
      if (this.#read(index) === this.#counterMax) saturated++;
    return saturated;
  }

  /** Header (version, k, counter bits, m, count; big-endian) followed by the counters. */
  toBytes(): Uint8Array {
    const bytes = new Uint8Array(countingBloomHeaderBytes + this.#counters.length);
    const view = new DataView(bytes.buffer);
    view.setUint8(0, countingBloomFormatVersion);
    view.setUint8(1, this.hashCount);
    view.setUint8(2, this.counterBits);
    view.setUint32(4, this.counterCount);
    view.setUint32(8, Math.max(0, Math.min(0xffffffff, this.#count)));
    bytes.set(this.#counters, countingBloomHeaderBytes);
    return bytes;
  }

  static fromBytes(bytes: Uint8Array): CountingBloomFilter {
    const name = 'counting Bloom filter';
    if (bytes.length < countingBloomHeaderBytes) throw new SketchFormatError(name, 'shorter than the header');
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (view.getUint8(0) !== countingBloomFormatVersion) {
      throw new SketchFormatError(name, `unknown format version ${view.getUint8(0)}`);
    }
    const hashCount = view.getUint8(1);
    const counterBits = view.getUint8(2);
    const counterCount = view.getUint32(4);
    const counterBytes = counterBits === 4 ? Math.ceil(counterCount / 2) : counterCount;
    if (
      (counterBits !== 4 && counterBits !== 8) ||
      bytes.length !== countingBloomHeaderBytes + counterBytes
    ) {
      throw new SketchFormatError(
        name,
        `header (m=${counterCount}, ${counterBits}-bit) does not match ${bytes.length} bytes`,
      );
    }
    if (counterCount < 1 || hashCount < 1 || hashCount > countingBloomHashCountMax) {
      throw new SketchFormatError(name, `invalid m=${counterCount} or k=${hashCount}`);
    }
    const filter = new CountingBloomFilter(
      counterCount,
      hashCount,
      counterBits,
      bytes.slice(countingBloomHeaderBytes),
    );
    filter.#count = view.getUint32(8);
    return filter;
  }

  #read(index: number): number {
    if (this.counterBits === 8) return this.#counters[index]!;
    const byte = this.#counters[index >>> 1]!;
    return (index & 1) === 0 ? byte & 0xf : byte >>> 4;
  }

  #write(index: number, value: number): void {
    if (this.counterBits === 8) {
      this.#counters[index] = value;
      return;
    }
    const byteIndex = index >>> 1;
    const byte = this.#counters[byteIndex]!;
    this.#counters[byteIndex] = (index & 1) === 0 ? (byte & 0xf0) | value : (byte & 0x0f) | (value << 4);
  }
}
