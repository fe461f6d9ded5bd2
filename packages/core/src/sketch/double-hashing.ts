/**
 * Derives many indexes from two hashes (Kirsch & Mitzenmacher, "Less Hashing, Same Performance",
 * 2006), in the enhanced form of Dillinger & Manolios (2004), whose quadratic step keeps the k
 * indexes from collapsing onto one when the second hash is a multiple of the modulus.
 */
import { murmur3Hash32Pair } from '../hashing/murmur3.js';
import type { HashInput } from '../hashing/utf8.js';

/** Fixed so that sketches written by one process read the same in another. */
const seedA = 0x2f0b3c8d;
const seedB = 0x71a5e6c3;
const pair = new Uint32Array(2);

/** Writes `indexCount` indexes in [0, modulus) for `key` into `out` and returns `out`. */
export function fillIndexes(
  key: HashInput,
  modulus: number,
  indexCount: number,
  out: Float64Array,
): Float64Array {
  murmur3Hash32Pair(key, seedA, seedB, pair);
  let index = pair[0]! % modulus;
  let step = pair[1]! % modulus;
  for (let round = 0; round < indexCount; round++) {
    out[round] = index;
    index += step;
    if (index >= modulus) index -= modulus;
    step += round;
    while (step >= modulus) step -= modulus;
  }
  return out;
}
