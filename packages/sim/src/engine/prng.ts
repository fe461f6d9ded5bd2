/**
 * The simulator's only source of randomness: a seeded sfc32 generator (Chris Doty-Humphrey's
 * "small fast chaotic" generator from PractRand), keyed through splitmix32 so that nearby seeds
 * (1, 2, 3…) still give unrelated streams. One seed determines a whole run.
 */

/** Anything that yields uniform numbers in [0, 1). Structurally the same as `@synod/core`'s. */
export interface RandomSource {
  next(): number;
}

const twoToThe32 = 4294967296;
/** splitmix32's increment: 2^32 divided by the golden ratio. */
const goldenGamma = 0x9e3779b9;
/** sfc32 mixes poorly for its first outputs after seeding; its author discards a dozen or so. */
const warmUpRounds = 15;
/** `int()` draws one 32-bit word; larger ranges would need a second draw. */
const maxIntRange = twoToThe32;

/** The four 32-bit words a stream is derived from; forks derive new keys from it. */
type PrngKey = readonly [number, number, number, number];

/** A 32-bit avalanche mixer (splitmix32's finaliser). Pure, integer-only, so bit-exact everywhere. */
function mix32(value: number): number {
  let z = value | 0;
  z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
  z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
  return (z ^ (z >>> 15)) >>> 0;
}

/** FNV-1a over UTF-16 code units: a label's identity as 32 bits. */
function hashLabel(label: string): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < label.length; index++) {
    hash = Math.imul(hash ^ label.charCodeAt(index), 0x01000193);
  }
  return hash >>> 0;
}

function keyFromSeed(seed: number): PrngKey {
  const low = seed >>> 0;
  const high = Math.floor(seed / twoToThe32) >>> 0;
  // splitmix32: walk a Weyl sequence and mix each step; the high word perturbs the start.
  let state = (low ^ mix32(high + goldenGamma)) | 0;
  const words: number[] = [];
  for (let index = 0; index < 4; index++) {
    state = (state + goldenGamma) | 0;
    words.push(mix32(state));
  }
  return words as unknown as PrngKey;
}

function deriveKey(parent: PrngKey, label: string): PrngKey {
  let state = hashLabel(label) | 0;
  const words: number[] = [];
  for (const parentWord of parent) {
    state = (state + goldenGamma) | 0;
    words.push(mix32(parentWord ^ mix32(state)));
  }
  return words as unknown as PrngKey;
}

/**
 * A deterministic pseudo-random number generator. Never use `Math.random()` in the simulator;
 * give each subsystem its own `fork(label)` so that drawing more numbers in one place does not
 * shift any other subsystem's stream.
 *
 * Not cryptographically secure; statistically good and fast (a few ns per draw).
 *
 * @example
 * const prng = new Prng(42);
 * const network = prng.fork('network'); // independent of how much `prng` is used
 * const latencyMs = 1 + network.exponential(5);
 * const leader = prng.pick(['n1', 'n2', 'n3']);
 */
export class Prng implements RandomSource {
  /** The root seed this stream descends from (forks keep their root's seed, for reports). */
  readonly seed: number;
  /** `''` for a root stream, otherwise the fork labels joined by `/` (e.g. `network/latency`). */
  readonly path: string;
  private readonly key: PrngKey;
  private a = 0;
  private b = 0;
  private c = 0;
  private d = 0;

  /**
   * @param seed a non-negative safe integer (0 ≤ seed ≤ 2^53 − 1).
   * @param path @internal set by `fork`.
   * @param key @internal set by `fork`.
   */
  constructor(seed: number, path = '', key?: PrngKey) {
    if (!Number.isSafeInteger(seed) || seed < 0) {
      throw new RangeError(`Prng seed must be a non-negative safe integer, got ${seed}`);
    }
    this.seed = seed;
    this.path = path;
    this.key = key ?? keyFromSeed(seed);
    [this.a, this.b, this.c, this.d] = this.key;
    for (let round = 0; round < warmUpRounds; round++) this.nextUint32();
  }

  /** A uniform 32-bit unsigned integer (one sfc32 step). */
  nextUint32(): number {
    const sum = (this.a + this.b + this.d) | 0;
    this.d = (this.d + 1) | 0; // the counter guarantees a period of at least 2^32
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (((this.c << 21) | (this.c >>> 11)) + sum) | 0;
    return sum >>> 0;
  }

  /** A uniform number in [0, 1) with 32 bits of resolution. */
  next(): number {
    return this.nextUint32() / twoToThe32;
  }

  /** A uniform integer in [0, maxExclusive), without modulo bias. `maxExclusive` ≤ 2^32. */
  int(maxExclusive: number): number {
    if (!Number.isInteger(maxExclusive) || maxExclusive < 1 || maxExclusive > maxIntRange) {
      throw new RangeError(`Prng.int needs an integer in [1, 2^32], got ${maxExclusive}`);
    }
    // Reject the top sliver of words that would make low results more likely.
    const acceptBelow = twoToThe32 - (twoToThe32 % maxExclusive);
    let word = this.nextUint32();
    while (word >= acceptBelow) word = this.nextUint32();
    return word % maxExclusive;
  }

  /** A uniform real number in [minInclusive, maxExclusive). */
  range(minInclusive: number, maxExclusive: number): number {
    if (!(maxExclusive >= minInclusive)) {
      throw new RangeError(`Prng.range needs min ≤ max, got [${minInclusive}, ${maxExclusive})`);
    }
    return minInclusive + this.next() * (maxExclusive - minInclusive);
  }

  /** True with the given probability (0 → never, 1 → always). */
  chance(probability: number): boolean {
    if (!(probability >= 0 && probability <= 1)) {
      throw new RangeError(`Prng.chance needs a probability in [0, 1], got ${probability}`);
    }
    return this.next() < probability;
  }

  /** A uniformly chosen element. Throws on an empty array (there is nothing sensible to return). */
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('Prng.pick needs a non-empty array');
    return items[this.int(items.length)] as T;
  }

  /** Shuffles `items` in place (Fisher–Yates) and returns it. */
  shuffle<T>(items: T[]): T[] {
    for (let index = items.length - 1; index > 0; index--) {
      const other = this.int(index + 1);
      const held = items[index] as T;
      items[index] = items[other] as T;
      items[other] = held;
    }
    return items;
  }

  /** An exponentially distributed number with the given mean (e.g. a latency tail). */
  exponential(mean: number): number {
    if (!(mean >= 0)) throw new RangeError(`Prng.exponential needs a mean ≥ 0, got ${mean}`);
    // 1 − next() lies in (0, 1], so the logarithm is finite.
    return -mean * Math.log(1 - this.next());
  }

  /**
   * An independent stream derived from this stream's key and `label`, not from its current
   * state: the fork is the same no matter how many numbers were drawn here before. Forking the
   * same label twice gives the same stream, so use distinct labels (e.g. `disk/n3`).
   */
  fork(label: string): Prng {
    const path = this.path === '' ? label : `${this.path}/${label}`;
    return new Prng(this.seed, path, deriveKey(this.key, label));
  }
}
