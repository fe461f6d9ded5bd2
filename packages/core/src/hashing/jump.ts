/**
 * Jump consistent hash (Lamping & Veach, "A Fast, Minimal Memory, Consistent Hash Algorithm",
 * 2014): maps a 64-bit key to one of `bucketCount` numbered buckets with no stored state. When
 * the bucket count grows from n to n+1, only ≈1/(n+1) of keys move, and all of them to the new
 * bucket. Buckets can only be added or removed at the end, so it suits numbered shards, not
 * named nodes that fail at random (use the ring or rendezvous hashing for those).
 */
import { addUint64, multiplyUint64, setUint64, type Uint64, uint64 } from './uint64.js';
import type { HashInput } from './utf8.js';
import { xxHash64Into } from './xxhash64.js';

/** The paper's 64-bit linear congruential multiplier. */
const lcgMultiplier = uint64(2862933555777941757n);
const one = uint64(1n);
const zeroSeed = uint64(0n);
/** 2³¹ as a double, the paper's `double(1LL << 31)`. */
const twoPow31 = 0x80000000;
/** The paper's algorithm indexes buckets with a signed 32-bit integer. */
export const jumpBucketCountMax = 0x7fffffff;

const key64 = new Uint32Array(2);

/**
 * Bucket in [0, bucketCount) for a 64-bit key (bigint, taken modulo 2⁶⁴), or for a string or
 * bytes hashed with XXH64 first.
 *
 * @example
 * jumpHash(42n, 57); // 43, as in the reference implementation
 * jumpHash('user:1001', 16); // a stable bucket in [0, 16)
 */
export function jumpHash(key: bigint | HashInput, bucketCount: number): number {
  if (!Number.isInteger(bucketCount) || bucketCount < 1 || bucketCount > jumpBucketCountMax) {
    throw new RangeError(
      `jumpHash: bucketCount must be an integer in [1, ${jumpBucketCountMax}], got ${bucketCount}`,
    );
  }
  if (typeof key === 'bigint') {
    const unsigned = BigInt.asUintN(64, key);
    setUint64(key64, Number(unsigned >> 32n), Number(unsigned & 0xffffffffn));
  } else {
    xxHash64Into(key, zeroSeed, key64);
  }
  return jumpHashUint64(key64, bucketCount);
}

/** The algorithm itself, on a 64-bit register (overwritten as the generator advances). */
function jumpHashUint64(key: Uint64, bucketCount: number): number {
  let bucket = -1;
  let next = 0;
  while (next < bucketCount) {
    bucket = next;
    addUint64(multiplyUint64(key, lcgMultiplier), one);
    // (key >>> 33) + 1 is at most 2³¹, so the division is exact enough in doubles, as in the paper.
    next = Math.floor((bucket + 1) * (twoPow31 / ((key[0]! >>> 1) + 1)));
  }
  return bucket;
}
