import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { CountingBloomFilter } from './counting-bloom.js';

describe('CountingBloomFilter', () => {
  for (const counterBits of [4, 8] as const) {
    test(`${counterBits}-bit: adding then removing a multiset leaves the filter empty when no counter saturated`, () => {
      // Short keys from a small alphabet repeat often, so 4-bit counters do saturate in some runs.
      const keyArbitrary = fc.string({ unit: fc.constantFrom('a', 'b', 'c'), maxLength: 3 });
      fc.assert(
        fc.property(fc.array(keyArbitrary, { maxLength: 80, size: 'max' }), (keys) => {
          const filter = CountingBloomFilter.create(100, 0.01, counterBits);
          for (const key of keys) filter.add(key);
          for (const key of keys) assert.ok(filter.has(key));
          const saturated = filter.saturatedCounterCount() > 0;
          for (const key of keys) assert.equal(filter.remove(key), true);
          fc.pre(!saturated);
          assert.equal(filter.count, 0);
          assert.deepEqual(filter.toBytes().subarray(12), new Uint8Array(filter.toBytes().length - 12));
        }),
      );
    });
  }

  test('removing one key keeps the others', () => {
    const filter = CountingBloomFilter.create(1000, 0.001);
    for (let index = 0; index < 500; index++) filter.add(`key:${index}`);
    for (let index = 0; index < 250; index++) filter.remove(`key:${index}`);
    for (let index = 250; index < 500; index++) assert.ok(filter.has(`key:${index}`));
    const stillReported = Array.from({ length: 250 }, (_, index) => filter.has(`key:${index}`)).filter(
      Boolean,
    ).length;
    assert.ok(stillReported < 10, `${stillReported} removed keys still reported`);
  });

  test('a saturated 4-bit counter sticks at 15, so heavy duplicates never become false negatives', () => {
    const filter = new CountingBloomFilter(64, 3, 4);
    for (let round = 0; round < 20; round++) filter.add('hot');
    assert.ok(filter.saturatedCounterCount() >= 1);
    for (let round = 0; round < 20; round++) filter.remove('hot');
    assert.equal(filter.has('hot'), true);
  });

  test('refuses to remove a key that is certainly absent', () => {
    const filter = CountingBloomFilter.create(100, 0.01);
    filter.add('present');
    assert.equal(filter.remove('absent'), false);
    assert.equal(filter.has('present'), true);
  });

  test('round-trips through bytes', () => {
    for (const counterBits of [4, 8] as const) {
      const filter = CountingBloomFilter.create(300, 0.01, counterBits);
      for (let index = 0; index < 200; index++) filter.add(`key:${index % 50}`);
      const copy = CountingBloomFilter.fromBytes(filter.toBytes());
      assert.equal(copy.counterBits, counterBits);
      assert.equal(copy.count, 200);
      assert.deepEqual(copy.toBytes(), filter.toBytes());
    }
  });
});
