import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { jumpHash } from './jump.js';

describe('jumpHash', () => {
  test('matches the values of the reference implementation', () => {
    assert.equal(jumpHash(1n, 1), 0);
    assert.equal(jumpHash(42n, 57), 43);
    assert.equal(jumpHash(0xdead10ccn, 1), 0);
    assert.equal(jumpHash(0xdead10ccn, 666), 361);
    assert.equal(jumpHash(256n, 1024), 520);
  });

  test('growing from n to n+1 buckets moves keys only to the new bucket, about 1/(n+1) of them', () => {
    const keys = Array.from({ length: 10_000 }, (_, index) => `key:${index}`);
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 200 }), (bucketCount) => {
        let moved = 0;
        for (const key of keys) {
          const before = jumpHash(key, bucketCount);
          const after = jumpHash(key, bucketCount + 1);
          if (before === after) continue;
          moved++;
          assert.equal(after, bucketCount, `key ${key} moved to ${after}, not to the new bucket`);
        }
        const expected = keys.length / (bucketCount + 1);
        // Binomial noise: 5σ around the expectation, plus one key of slack for tiny expectations.
        assert.ok(
          Math.abs(moved - expected) <= 5 * Math.sqrt(expected) + 1,
          `moved ${moved}, expected ≈${expected}`,
        );
      }),
      { numRuns: 20 },
    );
  });

  test('spreads keys evenly over the buckets', () => {
    const counts = new Array<number>(10).fill(0);
    for (let index = 0; index < 50_000; index++) counts[jumpHash(BigInt(index) * 0x9e3779b97f4a7c15n, 10)]!++;
    for (const count of counts)
      assert.ok(Math.abs(count - 5000) < 5 * Math.sqrt(5000), `bucket count ${count}`);
  });

  test('takes bigint keys modulo 2^64', () => {
    assert.equal(jumpHash(-1n, 1000), jumpHash(2n ** 64n - 1n, 1000));
  });

  test('rejects a bucket count outside [1, 2^31 − 1]', () => {
    assert.throws(() => jumpHash(1n, 0), RangeError);
    assert.throws(() => jumpHash(1n, 2 ** 31), RangeError);
  });
});
