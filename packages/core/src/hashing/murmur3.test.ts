import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { murmur3Hash32, murmur3Hash32Pair, murmur3HashUint32 } from './murmur3.js';

// Reference values of MurmurHash3_x86_32 as published with the algorithm's test suite and
// reproduced by every conforming port.
const knownAnswers: readonly [string | Uint8Array, number, number][] = [
  ['', 0, 0x00000000],
  ['', 1, 0x514e28b7],
  ['', 0xffffffff, 0x81f16f39],
  [new Uint8Array([0, 0, 0, 0]), 0, 0x2362f9de],
  ['test', 0, 0xba6bd213],
  ['aaaa', 0x9747b28c, 0x5a97808a],
  ['Hello, world!', 0x9747b28c, 0x24884cba],
  ['ππππππππ', 0x9747b28c, 0xd58063c1],
  ['The quick brown fox jumps over the lazy dog', 0x9747b28c, 0x2fa826cd],
];

/** Any UTF-16 code unit, so lone surrogates (encoded as U+FFFD) are generated too. */
const anyCodeUnit = fc.integer({ min: 0, max: 0xffff }).map((code) => String.fromCharCode(code));

describe('murmur3Hash32', () => {
  for (const [input, seed, expected] of knownAnswers) {
    const label = typeof input === 'string' ? JSON.stringify(input) : `bytes[${input.length}]`;
    test(`matches the reference value for ${label} with seed 0x${seed.toString(16)}`, () => {
      assert.equal(murmur3Hash32(input, seed), expected);
    });
  }

  test('hashes a string exactly as its UTF-8 bytes, surrogate pairs and lone surrogates included', () => {
    const encoder = new TextEncoder();
    fc.assert(
      fc.property(fc.string({ unit: anyCodeUnit, maxLength: 40 }), fc.integer(), (text, seed) => {
        assert.equal(murmur3Hash32(text, seed), murmur3Hash32(encoder.encode(text), seed));
      }),
    );
  });

  test('the pair function equals two single hashes', () => {
    const out = new Uint32Array(2);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), fc.integer(), fc.integer(), (bytes, seedA, seedB) => {
        murmur3Hash32Pair(bytes, seedA, seedB, out);
        assert.deepEqual([out[0], out[1]], [murmur3Hash32(bytes, seedA), murmur3Hash32(bytes, seedB)]);
      }),
    );
  });

  test('hashing a 32-bit integer equals hashing its four little-endian bytes', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), fc.integer(), (value, seed) => {
        const bytes = new Uint8Array(4);
        new DataView(bytes.buffer).setUint32(0, value, true);
        assert.equal(murmur3HashUint32(value, seed), murmur3Hash32(bytes, seed));
      }),
    );
  });

  test('a one-bit change in the input flips about half of the output bits', () => {
    let flippedBits = 0;
    const trials = 2000;
    for (let index = 0; index < trials; index++) {
      const changed = murmur3Hash32(`key-${index}`) ^ murmur3Hash32(`key-${index ^ 1}`);
      for (let bit = 0; bit < 32; bit++) flippedBits += (changed >>> bit) & 1;
    }
    const meanFlipped = flippedBits / trials;
    assert.ok(Math.abs(meanFlipped - 16) < 0.5, `mean flipped bits ${meanFlipped}`);
  });
});
