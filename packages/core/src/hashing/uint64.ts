/**
 * Unsigned 64-bit arithmetic modulo 2⁶⁴ on pairs of 32-bit halves, for hashes that are
 * specified over 64-bit words. BigInt would be simpler but allocates on every operation and
 * is an order of magnitude slower. A value is a `Uint32Array` of length 2: `[high, low]`;
 * every operation overwrites its first argument.
 */

/** A 64-bit register: index 0 holds the high 32 bits, index 1 the low 32 bits. */
export type Uint64 = Uint32Array;

const high = 0;
const low = 1;
const twoPow16 = 0x10000;

/** A new register holding `value` (a bigint in [0, 2⁶⁴)). */
export function uint64(value: bigint): Uint64 {
  const register = new Uint32Array(2);
  register[high] = Number((value >> 32n) & 0xffffffffn);
  register[low] = Number(value & 0xffffffffn);
  return register;
}

export function uint64ToBigInt(register: Uint64): bigint {
  return (BigInt(register[high]!) << 32n) | BigInt(register[low]!);
}

export function setUint64(target: Uint64, highBits: number, lowBits: number): Uint64 {
  target[high] = highBits;
  target[low] = lowBits;
  return target;
}

export function copyUint64(target: Uint64, source: Uint64): Uint64 {
  return setUint64(target, source[high]!, source[low]!);
}

export function addUint64(target: Uint64, addend: Uint64): Uint64 {
  const lowSum = target[low]! + addend[low]!;
  const carry = lowSum > 0xffffffff ? 1 : 0;
  return setUint64(target, target[high]! + addend[high]! + carry, lowSum);
}

/** target ← target × factor (mod 2⁶⁴). */
export function multiplyUint64(target: Uint64, factor: Uint64): Uint64 {
  const aHigh = target[high]!;
  const aLow = target[low]!;
  const bHigh = factor[high]!;
  const bLow = factor[low]!;
  // The full 64-bit product of the low halves, from 16-bit limbs so that no partial product
  // exceeds 2⁵³; cross terms only contribute their low 32 bits to the high half.
  const a1 = aLow >>> 16;
  const a0 = aLow & 0xffff;
  const b1 = bLow >>> 16;
  const b0 = bLow & 0xffff;
  const middle = a1 * b0 + a0 * b1;
  const lowProductHigh = a1 * b1 + Math.floor((middle + ((a0 * b0) >>> 16)) / twoPow16);
  const highBits = lowProductHigh + Math.imul(aHigh, bLow) + Math.imul(aLow, bHigh);
  return setUint64(target, highBits, Math.imul(aLow, bLow));
}

/** target ← target rotated left by `bits` (0 < bits < 32). */
export function rotateLeftUint64(target: Uint64, bits: number): Uint64 {
  const highBits = target[high]!;
  const lowBits = target[low]!;
  return setUint64(
    target,
    (highBits << bits) | (lowBits >>> (32 - bits)),
    (lowBits << bits) | (highBits >>> (32 - bits)),
  );
}

export function xorUint64(target: Uint64, other: Uint64): Uint64 {
  return setUint64(target, target[high]! ^ other[high]!, target[low]! ^ other[low]!);
}

/** target ← target ^ (target >>> bits) (0 < bits < 64), the xorshift step of avalanche functions. */
export function xorShiftRightUint64(target: Uint64, bits: number): Uint64 {
  const highBits = target[high]!;
  const lowBits = target[low]!;
  if (bits >= 32) return setUint64(target, highBits, lowBits ^ (highBits >>> (bits - 32)));
  return setUint64(
    target,
    highBits ^ (highBits >>> bits),
    lowBits ^ ((lowBits >>> bits) | (highBits << (32 - bits))),
  );
}
