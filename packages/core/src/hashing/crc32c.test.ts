import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { crc32c, crc32cCombine } from './crc32c.js';

/** Bit-at-a-time reference: the definition, with no tables to get wrong. */
function crc32cBitwise(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return ~crc >>> 0;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const joined = new Uint8Array(a.length + b.length);
  joined.set(a);
  joined.set(b, a.length);
  return joined;
}

describe('crc32c', () => {
  test('matches the check value of the CRC catalogue ("123456789")', () => {
    assert.equal(crc32c(new TextEncoder().encode('123456789')), 0xe3069283);
  });

  test('matches the known answers of RFC 3720 appendix B.4', () => {
    const ascending = Uint8Array.from({ length: 32 }, (_, i) => i);
    const descending = Uint8Array.from({ length: 32 }, (_, i) => 31 - i);
    assert.equal(crc32c(new Uint8Array(32)), 0x8a9136aa);
    assert.equal(crc32c(new Uint8Array(32).fill(0xff)), 0x62a8ab43);
    assert.equal(crc32c(ascending), 0x46dd794e);
    assert.equal(crc32c(descending), 0x113fdb5c);
  });

  test('the empty input has CRC 0', () => {
    assert.equal(crc32c(new Uint8Array(0)), 0);
  });

  test('slicing-by-8 agrees with the bitwise definition at every length and alignment', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(16), (bytes, skip) => {
        const start = Math.min(skip, bytes.length);
        assert.equal(crc32c(bytes, 0, start), crc32cBitwise(bytes.subarray(start)));
      }),
      { seed: 0x5eed, numRuns: 500 },
    );
  });

  test('continuing a running CRC equals the CRC of the concatenation', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), fc.uint8Array({ maxLength: 100 }), (a, b) => {
        assert.equal(crc32c(b, crc32c(a)), crc32c(concat(a, b)));
      }),
      { seed: 0x5eed, numRuns: 300 },
    );
  });

  test('detects every single-bit flip', () => {
    const bytes = new TextEncoder().encode('the quick brown fox jumps over the lazy dog');
    const expected = crc32c(bytes);
    for (let bit = 0; bit < bytes.length * 8; bit++) {
      const flipped = Uint8Array.from(bytes);
      flipped[bit >> 3]! ^= 1 << (bit & 7);
      assert.notEqual(crc32c(flipped), expected, `bit ${bit}`);
    }
  });
});

describe('crc32cCombine', () => {
  test('joins the CRCs of two pieces into the CRC of their concatenation', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.uint8Array({ maxLength: 600 }), (a, b) => {
        assert.equal(crc32cCombine(crc32c(a), crc32c(b), b.length), crc32c(concat(a, b)));
      }),
      { seed: 0x5eed, numRuns: 300 },
    );
  });

  test('is associative, also for lengths past 2^32 bytes (large snapshot bodies)', () => {
    // Pieces too large to checksum in a test: combining a, b, c either way round must agree, which
    // fails if the length arithmetic breaks above 32 bits.
    fc.assert(
      fc.property(
        fc.tuple(fc.nat(), fc.nat(), fc.nat()).map((crcs) => crcs.map((crc) => crc >>> 0)),
        fc.constantFrom(1, 7, 2 ** 31, 2 ** 32 + 7, 2 ** 40 + 3),
        fc.constantFrom(5, 2 ** 31 - 1, 2 ** 33 + 1),
        ([a, b, c], lengthB, lengthC) => {
          const left = crc32cCombine(crc32cCombine(a!, b!, lengthB), c!, lengthC);
          const right = crc32cCombine(a!, crc32cCombine(b!, c!, lengthC), lengthB + lengthC);
          assert.equal(left, right);
        },
      ),
      { seed: 0x5eed, numRuns: 100 },
    );
  });

  test('refuses a negative or fractional length', () => {
    assert.throws(() => crc32cCombine(0, 0, -1), RangeError);
    assert.throws(() => crc32cCombine(0, 0, 1.5), RangeError);
  });
});
