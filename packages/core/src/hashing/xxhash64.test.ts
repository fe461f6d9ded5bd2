import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { xxHash64 } from './xxhash64.js';

const mask64 = (1n << 64n) - 1n;
const primes = [
  0x9e3779b185ebca87n,
  0xc2b2ae3d27d4eb4fn,
  0x165667b19e3779f9n,
  0x85ebca77c2b2ae63n,
  0x27d4eb2f165667c5n,
] as const;
const [p1, p2, p3, p4, p5] = primes;

/** A direct BigInt transcription of the XXH64 specification, slow but obviously faithful. */
function referenceXxHash64(bytes: Uint8Array, seed: bigint): bigint {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const rotl = (value: bigint, bits: bigint) => ((value << bits) | (value >> (64n - bits))) & mask64;
  const round = (acc: bigint, lane: bigint) => (rotl((acc + lane * p2) & mask64, 31n) * p1) & mask64;
  const merge = (acc: bigint, lane: bigint) => ((acc ^ round(0n, lane)) * p1 + p4) & mask64;
  let offset = 0;
  let acc: bigint;
  if (bytes.length >= 32) {
    const lanes = [(seed + p1 + p2) & mask64, (seed + p2) & mask64, seed, (seed - p1) & mask64];
    for (; offset + 32 <= bytes.length; offset += 32) {
      for (let lane = 0; lane < 4; lane++)
        lanes[lane] = round(lanes[lane]!, view.getBigUint64(offset + lane * 8, true));
    }
    acc = (rotl(lanes[0]!, 1n) + rotl(lanes[1]!, 7n) + rotl(lanes[2]!, 12n) + rotl(lanes[3]!, 18n)) & mask64;
    for (const lane of lanes) acc = merge(acc, lane);
  } else {
    acc = (seed + p5) & mask64;
  }
  acc = (acc + BigInt(bytes.length)) & mask64;
  for (; offset + 8 <= bytes.length; offset += 8) {
    acc = (rotl(acc ^ round(0n, view.getBigUint64(offset, true)), 27n) * p1 + p4) & mask64;
  }
  if (offset + 4 <= bytes.length) {
    acc = (rotl(acc ^ ((BigInt(view.getUint32(offset, true)) * p1) & mask64), 23n) * p2 + p3) & mask64;
    offset += 4;
  }
  for (; offset < bytes.length; offset++)
    acc = (rotl(acc ^ ((BigInt(bytes[offset]!) * p5) & mask64), 11n) * p1) & mask64;
  acc = ((acc ^ (acc >> 33n)) * p2) & mask64;
  acc = ((acc ^ (acc >> 29n)) * p3) & mask64;
  return acc ^ (acc >> 32n);
}

describe('xxHash64', () => {
  test('matches the reference values of the specification for short inputs', () => {
    assert.equal(xxHash64(''), 0xef46db3751d8e999n);
    assert.equal(xxHash64('a'), 0xd24ec4f1a98c6e5bn);
    assert.equal(xxHash64('abc'), 0x44bc2cf5ad770999n);
  });

  test('agrees with a BigInt transcription of the specification across stripe boundaries and seeds', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), fc.bigInt({ min: 0n, max: mask64 }), (bytes, seed) => {
        assert.equal(xxHash64(bytes, seed), referenceXxHash64(bytes, seed));
      }),
      { numRuns: 300 },
    );
  });

  test('hashes a string as its UTF-8 bytes', () => {
    const text = 'naïve café ☕ 𝄞';
    assert.equal(xxHash64(text, 7n), xxHash64(new TextEncoder().encode(text), 7n));
  });
});
