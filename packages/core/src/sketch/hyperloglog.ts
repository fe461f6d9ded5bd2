/**
 * HyperLogLog (Flajolet, Fusy, Gandouet & Meunier, 2007): distinct-count estimates with relative
 * standard error 1.04/√m from m = 2^p one-byte registers. Uses a 32-bit hash as the paper does,
 * with its two corrections: linear counting while the estimate is below 2.5·m (many registers
 * still empty) and the large-range correction above 2³²/30, where 32-bit hash collisions start to
 * hide distinct keys.
 */
import { murmur3Hash32 } from '../hashing/murmur3.js';
import type { HashInput } from '../hashing/utf8.js';
import { SketchFormatError, SketchMismatchError } from './errors.js';

export const hyperLogLogPrecisionMin = 4;
export const hyperLogLogPrecisionMax = 18;
export const defaultHyperLogLogPrecision = 14;
export const hyperLogLogFormatVersion = 1;
/** version, precision. */
export const hyperLogLogHeaderBytes = 2;

/** Fixed so that sketches written by one process merge with those of another. */
const hashSeed = 0x5f3759df;
const twoPow32 = 0x100000000;

/** 1.04/√m, the relative standard error of a sketch of precision p. */
export function hyperLogLogStandardError(precision: number): number {
  return 1.04 / Math.sqrt(2 ** precision);
}

/**
 * @example
 * const visitors = new HyperLogLog(14); // 16 KiB, ±0.8%
 * visitors.add('alice');
 * visitors.add('bob');
 * visitors.add('alice');
 * Math.round(visitors.count()); // 2
 */
export class HyperLogLog {
  readonly precision: number;
  readonly registerCount: number;
  readonly #registers: Uint8Array;
  /** Largest rank a register can hold: a run of zeros over all 32 − p bits, plus one. */
  readonly #rankMax: number;

  constructor(precision: number = defaultHyperLogLogPrecision, registers?: Uint8Array) {
    if (
      !Number.isInteger(precision) ||
      precision < hyperLogLogPrecisionMin ||
      precision > hyperLogLogPrecisionMax
    ) {
      throw new RangeError(
        `precision must be an integer in [${hyperLogLogPrecisionMin}, ${hyperLogLogPrecisionMax}], got ${precision}`,
      );
    }
    this.precision = precision;
    this.registerCount = 2 ** precision;
    this.#rankMax = 32 - precision + 1;
    this.#registers = registers ?? new Uint8Array(this.registerCount);
  }

  add(key: HashInput): void {
    const hash = murmur3Hash32(key, hashSeed);
    const register = hash >>> (32 - this.precision);
    // Bits below the register index; an all-zero remainder gets the largest rank.
    const remainder = (hash << this.precision) >>> 0;
    const rank = remainder === 0 ? this.#rankMax : Math.clz32(remainder) + 1;
    if (rank > this.#registers[register]!) this.#registers[register] = rank;
  }

  /** Estimated number of distinct keys added. */
  count(): number {
    const m = this.registerCount;
    let harmonicSum = 0;
    let emptyRegisters = 0;
    for (let index = 0; index < m; index++) {
      const rank = this.#registers[index]!;
      harmonicSum += 2 ** -rank;
      if (rank === 0) emptyRegisters++;
    }
    const raw = (alpha(m) * m * m) / harmonicSum;
    if (raw <= 2.5 * m && emptyRegisters > 0) return m * Math.log(m / emptyRegisters);
    if (raw > twoPow32 / 30) return -twoPow32 * Math.log(1 - raw / twoPow32);
    return raw;
  }

  /** Makes this sketch count the union of both streams (same precision). */
  merge(other: HyperLogLog): this {
    if (other.precision !== this.precision) {
      throw new SketchMismatchError(
        'HyperLogLog sketches',
        `precision ${this.precision} vs ${other.precision}`,
      );
    }
    for (let index = 0; index < this.registerCount; index++) {
      if (other.#registers[index]! > this.#registers[index]!)
        this.#registers[index] = other.#registers[index]!;
    }
    return this;
  }

  /** Header (version, precision) followed by one byte per register. */
  toBytes(): Uint8Array {
    const bytes = new Uint8Array(hyperLogLogHeaderBytes + this.registerCount);
    bytes[0] = hyperLogLogFormatVersion;
    bytes[1] = this.precision;
    bytes.set(this.#registers, hyperLogLogHeaderBytes);
    return bytes;
  }

  static fromBytes(bytes: Uint8Array): HyperLogLog {
    const name = 'HyperLogLog sketch';
    if (bytes.length < hyperLogLogHeaderBytes) throw new SketchFormatError(name, 'shorter than the header');
    if (bytes[0] !== hyperLogLogFormatVersion)
      throw new SketchFormatError(name, `unknown format version ${bytes[0]}`);
    const precision = bytes[1]!;
    if (precision < hyperLogLogPrecisionMin || precision > hyperLogLogPrecisionMax) {
      throw new SketchFormatError(name, `precision ${precision} out of range`);
    }
    if (bytes.length !== hyperLogLogHeaderBytes + 2 ** precision) {
      throw new SketchFormatError(name, `${bytes.length} bytes do not hold 2^${precision} registers`);
    }
    const registers = bytes.slice(hyperLogLogHeaderBytes);
    const rankMax = 32 - precision + 1;
    if (registers.some((rank) => rank > rankMax))
      throw new SketchFormatError(name, `a register exceeds rank ${rankMax}`);
    return new HyperLogLog(precision, registers);
  }
}

/** The bias-correction constant α_m of the paper. */
function alpha(registerCount: number): number {
  if (registerCount === 16) return 0.673;
  if (registerCount === 32) return 0.697;
  if (registerCount === 64) return 0.709;
  return 0.7213 / (1 + 1.079 / registerCount);
}
