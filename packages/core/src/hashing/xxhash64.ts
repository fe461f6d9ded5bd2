/**
 * XXH64 (Yann Collet's xxHash, 64-bit variant) implemented from its published specification,
 * over 32-bit halves (see uint64.ts). Strings are hashed as their UTF-8 bytes.
 */
import {
  addUint64,
  copyUint64,
  multiplyUint64,
  rotateLeftUint64,
  setUint64,
  type Uint64,
  uint64,
  uint64ToBigInt,
  xorShiftRightUint64,
  xorUint64,
} from './uint64.js';
import { bytesOf, type HashInput } from './utf8.js';

const prime1 = uint64(0x9e3779b185ebca87n);
const prime2 = uint64(0xc2b2ae3d27d4eb4fn);
const prime3 = uint64(0x165667b19e3779f9n);
const prime4 = uint64(0x85ebca77c2b2ae63n);
const prime5 = uint64(0x27d4eb2f165667c5n);
const stripeBytes = 32;

// Working registers, reused: hashing is synchronous, so calls never interleave.
const lanes = [new Uint32Array(2), new Uint32Array(2), new Uint32Array(2), new Uint32Array(2)] as const;
const accumulator = new Uint32Array(2);
const input64 = new Uint32Array(2);
const scratch = new Uint32Array(2);

/**
 * XXH64 of `input` as an unsigned bigint in [0, 2⁶⁴).
 *
 * @example
 * xxHash64(''); // 0xef46db3751d8e999n
 */
export function xxHash64(input: HashInput, seed: bigint = 0n): bigint {
  return uint64ToBigInt(xxHash64Into(input, uint64(BigInt.asUintN(64, seed)), new Uint32Array(2)));
}

/**
 * XXH64 of `input` written into `out` as `[high32, low32]`, with no bigint on the way:
 * the form the jump hash and other 64-bit consumers take.
 */
export function xxHash64Into(input: HashInput, seed: Uint64, out: Uint64): Uint64 {
  const bytes = bytesOf(input);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const length = bytes.length;
  let offset = 0;
  if (length >= stripeBytes) {
    offset = consumeStripes(view, length, seed);
  } else {
    addUint64(copyUint64(accumulator, seed), prime5);
  }
  addUint64(accumulator, setUint64(scratch, Math.floor(length / 0x100000000), length >>> 0));
  offset = consumeTail(view, offset, length);
  avalanche(accumulator);
  return copyUint64(out, accumulator);
}

function consumeStripes(view: DataView, length: number, seed: Uint64): number {
  const [lane1, lane2, lane3, lane4] = lanes;
  addUint64(addUint64(copyUint64(lane1, seed), prime1), prime2);
  addUint64(copyUint64(lane2, seed), prime2);
  copyUint64(lane3, seed);
  // seed − prime1 ≡ seed + (2⁶⁴ − prime1)
  addUint64(copyUint64(lane4, seed), setUint64(scratch, ~prime1[0]!, ~prime1[1]!));
  addUint64(lane4, setUint64(scratch, 0, 1));
  let offset = 0;
  for (; offset + stripeBytes <= length; offset += stripeBytes) {
    round(lane1, readUint64LE(view, offset));
    round(lane2, readUint64LE(view, offset + 8));
    round(lane3, readUint64LE(view, offset + 16));
    round(lane4, readUint64LE(view, offset + 24));
  }
  copyUint64(accumulator, rotateLeftUint64(copyUint64(scratch, lane1), 1));
  addUint64(accumulator, rotateLeftUint64(copyUint64(scratch, lane2), 7));
  addUint64(accumulator, rotateLeftUint64(copyUint64(scratch, lane3), 12));
  addUint64(accumulator, rotateLeftUint64(copyUint64(scratch, lane4), 18));
  for (const lane of lanes) mergeRound(lane);
  return offset;
}

function consumeTail(view: DataView, offset: number, length: number): number {
  for (; offset + 8 <= length; offset += 8) {
    round(setUint64(scratch, 0, 0), readUint64LE(view, offset));
    xorUint64(accumulator, scratch);
    addUint64(multiplyUint64(rotateLeftUint64(accumulator, 27), prime1), prime4);
  }
  if (offset + 4 <= length) {
    multiplyUint64(setUint64(scratch, 0, view.getUint32(offset, true)), prime1);
    xorUint64(accumulator, scratch);
    addUint64(multiplyUint64(rotateLeftUint64(accumulator, 23), prime2), prime3);
    offset += 4;
  }
  for (; offset < length; offset++) {
    multiplyUint64(setUint64(scratch, 0, view.getUint8(offset)), prime5);
    xorUint64(accumulator, scratch);
    multiplyUint64(rotateLeftUint64(accumulator, 11), prime1);
  }
  return offset;
}

/** lane ← rotl(lane + input × prime2, 31) × prime1 */
function round(lane: Uint64, input: Uint64): Uint64 {
  addUint64(lane, multiplyUint64(input, prime2));
  return multiplyUint64(rotateLeftUint64(lane, 31), prime1);
}

/** accumulator ← (accumulator ^ round(0, lane)) × prime1 + prime4 */
function mergeRound(lane: Uint64): void {
  round(setUint64(scratch, 0, 0), lane);
  xorUint64(accumulator, scratch);
  addUint64(multiplyUint64(accumulator, prime1), prime4);
}

function avalanche(value: Uint64): void {
  multiplyUint64(xorShiftRightUint64(value, 33), prime2);
  multiplyUint64(xorShiftRightUint64(value, 29), prime3);
  xorShiftRightUint64(value, 32);
}

function readUint64LE(view: DataView, offset: number): Uint64 {
  return setUint64(input64, view.getUint32(offset + 4, true), view.getUint32(offset, true));
}
