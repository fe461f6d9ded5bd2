/**
 * Bloom filter (Bloom, 1970): a set that may answer "maybe" for an absent key but never "no" for
 * a present one. Sized from the expected item count n and target false-positive rate p with the
 * optimal m = −n·ln p / (ln 2)² bits and k = (m/n)·ln 2 hashes; the k indexes come from two hashes
 * by double hashing (see double-hashing.ts).
 */
import type { HashInput } from '../hashing/utf8.js';
import { fillIndexes } from './double-hashing.js';
import { SketchFormatError, SketchMismatchError } from './errors.js';

/** Byte length of the header written by `toBytes`: version, k, 2 reserved, m (u32), count (u32). */
export const bloomHeaderBytes = 12;
export const bloomFormatVersion = 1;
/** m is stored as an unsigned 32-bit integer, so a filter holds at most 2³² − 1 bits (512 MiB). */
export const bloomBitCountMax = 0xffffffff;
/** More hashes than this never pays: k = 64 would be optimal only for p ≈ 10⁻¹⁹. */
export const bloomHashCountMax = 64;
const countMax = 0xffffffff;

export interface BloomParameters {
  /** m: filter size in bits. */
  readonly bitCount: number;
  /** k: number of hash indexes per key. */
  readonly hashCount: number;
}

/**
 * Optimal m and k for `expectedItems` keys at `falsePositiveRate`.
 *
 * @example
 * optimalBloomParameters(100_000, 0.01); // { bitCount: 958506, hashCount: 7 }
 */
export function optimalBloomParameters(expectedItems: number, falsePositiveRate: number): BloomParameters {
  if (!(expectedItems >= 1) || !Number.isFinite(expectedItems)) {
    throw new RangeError(`expectedItems must be ≥ 1, got ${expectedItems}`);
  }
  if (!(falsePositiveRate > 0 && falsePositiveRate < 1)) {
    throw new RangeError(`falsePositiveRate must be in (0, 1), got ${falsePositiveRate}`);
  }
  const bitCount = Math.ceil((-expectedItems * Math.log(falsePositiveRate)) / Math.LN2 ** 2);
  const hashCount = Math.max(1, Math.round((bitCount / expectedItems) * Math.LN2));
  return { bitCount, hashCount };
}

/**
 * @example
 * const seen = BloomFilter.create(100_000, 0.01);
 * seen.add('user:42');
 * seen.has('user:42'); // true
 * seen.has('user:43'); // false, or true about 1% of the time
 * const copy = BloomFilter.fromBytes(seen.toBytes());
 */
export class BloomFilter {
  readonly bitCount: number;
  readonly hashCount: number;
  readonly #bits: Uint8Array;
  readonly #indexes: Float64Array;
  #count = 0;

  /** A filter of `bitCount` bits using `hashCount` indexes per key; prefer `BloomFilter.create`. */
  constructor(bitCount: number, hashCount: number, bits?: Uint8Array) {
    if (!Number.isInteger(bitCount) || bitCount < 1 || bitCount > bloomBitCountMax) {
      throw new RangeError(`bitCount must be an integer in [1, ${bloomBitCountMax}], got ${bitCount}`);
    }
    if (!Number.isInteger(hashCount) || hashCount < 1 || hashCount > bloomHashCountMax) {
      throw new RangeError(`hashCount must be an integer in [1, ${bloomHashCountMax}], got ${hashCount}`);
    }
    this.bitCount = bitCount;
    this.hashCount = hashCount;
    this.#bits = bits ?? new Uint8Array(Math.ceil(bitCount / 8));
    this.#indexes = new Float64Array(hashCount);
  }

  /** A filter sized for `expectedItems` keys at `falsePositiveRate`. */
  static create(expectedItems: number, falsePositiveRate: number): BloomFilter {
    const { bitCount, hashCount } = optimalBloomParameters(expectedItems, falsePositiveRate);
    return new BloomFilter(bitCount, hashCount);
  }

  /** Number of `add` calls (duplicates included), saturating at 2³² − 1. */
  get count(): number {
    return this.#count;
  }

  add(key: HashInput): void {
    const indexes = fillIndexes(key, this.bitCount, this.hashCount, this.#indexes);
    const bits = this.#bits;
    for (let round = 0; round < this.hashCount; round++) {
      const index = indexes[round]!;
      bits[index >>> 3]! |= 1 << (index & 7);
    }
    if (this.#count < countMax) this.#count++;
  }

  /** False means `key` was never added; true means it probably was. */
  has(key: HashInput): boolean {
    const indexes = fillIndexes(key, this.bitCount, this.hashCount, this.#indexes);
    const bits = this.#bits;
    for (let round = 0; round < this.hashCount; round++) {
      const index = indexes[round]!;
      if ((bits[index >>> 3]! & (1 << (index & 7))) === 0) return false;
    }
    return true;
  }

  /** The false-positive rate expected after `count` distinct adds: (1 − e^(−k·n/m))^k. */
  expectedFalsePositiveRate(): number {
    return (1 - Math.exp((-this.hashCount * this.#count) / this.bitCount)) ** this.hashCount;
  }

  /** Adds every key of `other` (same m and k) to this filter. */
  union(other: BloomFilter): this {
    if (other.bitCount !== this.bitCount || other.hashCount !== this.hashCount) {
      throw new SketchMismatchError(
        'Bloom filters',
        `m/k ${this.bitCount}/${this.hashCount} vs ${other.bitCount}/${other.hashCount}`,
      );
    }
    const otherBits = other.#bits;
    for (let index = 0; index < this.#bits.length; index++) this.#bits[index]! |= otherBits[index]!;
    this.#count = Math.min(countMax, this.#count + other.#count);
    return this;
  }

  /** Header (version, k, m, count; big-endian) followed by the bit array. */
  toBytes(): Uint8Array {
    const bytes = new Uint8Array(bloomHeaderBytes + this.#bits.length);
    const view = new DataView(bytes.buffer);
    view.setUint8(0, bloomFormatVersion);
    view.setUint8(1, this.hashCount);
    view.setUint32(4, this.bitCount);
    view.setUint32(8, this.#count);
    bytes.set(this.#bits, bloomHeaderBytes);
    return bytes;
  }

  /** Reads what `toBytes` wrote; throws SketchFormatError on anything else. */
  static fromBytes(bytes: Uint8Array): BloomFilter {
    if (bytes.length < bloomHeaderBytes)
      throw new SketchFormatError('Bloom filter', `${bytes.length} bytes is shorter than the header`);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const version = view.getUint8(0);
    if (version !== bloomFormatVersion)
      throw new SketchFormatError('Bloom filter', `unknown format version ${version}`);
    const hashCount = view.getUint8(1);
    const bitCount = view.getUint32(4);
    const expectedLength = bloomHeaderBytes + Math.ceil(bitCount / 8);
    if (bitCount < 1 || hashCount < 1 || hashCount > bloomHashCountMax || bytes.length !== expectedLength) {
      throw new SketchFormatError(
        'Bloom filter',
        `header m=${bitCount} k=${hashCount} does not match ${bytes.length} bytes`,
      );
    }
    const filter = new BloomFilter(bitCount, hashCount, bytes.slice(bloomHeaderBytes));
    filter.#count = view.getUint32(8);
    return filter;
  }
}
