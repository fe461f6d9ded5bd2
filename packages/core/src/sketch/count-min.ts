/**
 * Count-Min sketch (Cormode & Muthukrishnan, 2005): frequency estimates for a stream in
 * O(1/ε · ln 1/δ) space. An estimate never falls below the true count and exceeds it by more than
 * ε·N (N the total count added) with probability at most δ. Width w = ⌈e/ε⌉, depth d = ⌈ln(1/δ)⌉.
 * Conservative update (Estan & Varghese, 2002) raises only the counters that must rise, which
 * tightens estimates; sketches built that way still merge by addition into a valid overestimate.
 */
import type { HashInput } from '../hashing/utf8.js';
import { fillIndexes } from './double-hashing.js';
import { SketchMismatchError } from './errors.js';

export interface CountMinOptions {
  /** Raise only counters below the new minimum. Default false. */
  readonly conservativeUpdate?: boolean;
}

/** Bounds memory: width × depth counters of 8 bytes each, at most 128 MiB. */
export const countMinCounterCountMax = 16 * 1024 * 1024;

/**
 * @example
 * const hits = CountMinSketch.create(0.001, 0.01); // ±0.1% of the total, 99% of the time
 * hits.add('/index.html');
 * hits.add('/about', 3);
 * hits.estimate('/about'); // ≥ 3
 */
export class CountMinSketch {
  readonly width: number;
  readonly depth: number;
  readonly conservativeUpdate: boolean;
  /** Row r occupies counters[r·width, (r+1)·width). */
  readonly #counters: Float64Array;
  readonly #columns: Float64Array;
  #totalCount = 0;

  constructor(width: number, depth: number, options: CountMinOptions = {}) {
    if (!Number.isInteger(width) || width < 1 || !Number.isInteger(depth) || depth < 1) {
      throw new RangeError(`width and depth must be positive integers, got ${width}×${depth}`);
    }
    if (width * depth > countMinCounterCountMax) {
      throw new RangeError(`${width}×${depth} counters exceed the limit of ${countMinCounterCountMax}`);
    }
    this.width = width;
    this.depth = depth;
    this.conservativeUpdate = options.conservativeUpdate ?? false;
    this.#counters = new Float64Array(width * depth);
    this.#columns = new Float64Array(depth);
  }

  /** A sketch whose estimates exceed the truth by at most `epsilon`·N with probability 1 − `delta`. */
  static create(epsilon: number, delta: number, options: CountMinOptions = {}): CountMinSketch {
    if (!(epsilon > 0 && epsilon < 1) || !(delta > 0 && delta < 1)) {
      throw new RangeError(`epsilon and delta must be in (0, 1), got ${epsilon}, ${delta}`);
    }
    return new CountMinSketch(Math.ceil(Math.E / epsilon), Math.ceil(Math.log(1 / delta)), options);
  }

  /** N: the sum of every count added. */
  get totalCount(): number {
    return this.#totalCount;
  }

  /** Adds `count` (a non-negative finite number, default 1) occurrences of `key`. */
  add(key: HashInput, count = 1): void {
    if (!(count >= 0) || !Number.isFinite(count)) throw new RangeError(`count must be ≥ 0, got ${count}`);
    const columns = fillIndexes(key, this.width, this.depth, this.#columns);
    const counters = this.#counters;
    if (this.conservativeUpdate) {
      const target = this.#minimum(columns) + count;
      for (let row = 0; row < this.depth; row++) {
        const cell = row * this.width + columns[row]!;
        if (counters[cell]! < target) counters[cell] = target;
      }
    } else {
      for (let row = 0; row < this.depth; row++) counters[row * this.width + columns[row]!]! += count;
    }
    this.#totalCount += count;
  }

  /** An upper bound on `key`'s count, tight within ε·N with probability 1 − δ. */
  estimate(key: HashInput): number {
    return this.#minimum(fillIndexes(key, this.width, this.depth, this.#columns));
  }

  /** Adds `other`'s counts to this sketch (same width and depth). */
  merge(other: CountMinSketch): this {
    if (other.width !== this.width || other.depth !== this.depth) {
      throw new SketchMismatchError(
        'Count-Min sketches',
        `${this.width}×${this.depth} vs ${other.width}×${other.depth}`,
      );
    }
    for (let cell = 0; cell < this.#counters.length; cell++) this.#counters[cell]! += other.#counters[cell]!;
    this.#totalCount += other.#totalCount;
    return this;
  }

  #minimum(columns: Float64Array): number {
    let minimum = Number.POSITIVE_INFINITY;
    for (let row = 0; row < this.depth; row++) {
      const value = this.#counters[row * this.width + columns[row]!]!;
      if (value < minimum) minimum = value;
    }
    return minimum;
  }
}
