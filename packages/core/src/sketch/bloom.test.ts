import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { BloomFilter, optimalBloomParameters } from './bloom.js';
import { SketchFormatError, SketchMismatchError } from './errors.js';

describe('BloomFilter', () => {
  test('sizes itself with the optimal m and k', () => {
    assert.deepEqual(optimalBloomParameters(100_000, 0.01), { bitCount: 958_506, hashCount: 7 });
    assert.deepEqual(optimalBloomParameters(1000, 0.001), { bitCount: 14_378, hashCount: 10 });
  });

  test('measured false-positive rate for n = 1e5 is within 20% of the 1% target, with no false negatives', () => {
    const expectedItems = 100_000;
    const targetRate = 0.01;
    const filter = BloomFilter.create(expectedItems, targetRate);
    for (let index = 0; index < expectedItems; index++) filter.add(`member:${index}`);
    for (let index = 0; index < expectedItems; index++) assert.ok(filter.has(`member:${index}`));
    const probes = 200_000;
    let falsePositives = 0;
    for (let index = 0; index < probes; index++) if (filter.has(`absent:${index}`)) falsePositives++;
    const measuredRate = falsePositives / probes;
    // σ of the measurement is √(p(1−p)/probes) ≈ 2.2% of p, so 20% is a real bound on the design.
    assert.ok(Math.abs(measuredRate - targetRate) <= 0.2 * targetRate, `measured ${measuredRate}`);
    assert.ok(Math.abs(filter.expectedFalsePositiveRate() - targetRate) < 0.1 * targetRate);
  });

  test('never forgets a key it was given', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.string(), fc.uint8Array())), (keys) => {
        const filter = BloomFilter.create(Math.max(1, keys.length), 0.05);
        for (const key of keys) filter.add(key);
        for (const key of keys) assert.ok(filter.has(key));
      }),
    );
  });

  test('round-trips through bytes with its header', () => {
    const filter = BloomFilter.create(1000, 0.01);
    for (let index = 0; index < 500; index++) filter.add(`key:${index}`);
    const bytes = filter.toBytes();
    assert.equal(bytes[0], 1);
    assert.equal(bytes[1], filter.hashCount);
    const copy = BloomFilter.fromBytes(bytes);
    assert.equal(copy.bitCount, filter.bitCount);
    assert.equal(copy.hashCount, filter.hashCount);
    assert.equal(copy.count, 500);
    assert.deepEqual(copy.toBytes(), bytes);
    for (let index = 0; index < 2000; index++)
      assert.equal(copy.has(`key:${index}`), filter.has(`key:${index}`));
  });

  test('rejects bytes that are truncated, of another version, or with a lying header', () => {
    const bytes = BloomFilter.create(100, 0.01).toBytes();
    assert.throws(() => BloomFilter.fromBytes(bytes.subarray(0, 5)), SketchFormatError);
    assert.throws(() => BloomFilter.fromBytes(bytes.subarray(0, bytes.length - 1)), SketchFormatError);
    const wrongVersion = bytes.slice();
    wrongVersion[0] = 9;
    assert.throws(() => BloomFilter.fromBytes(wrongVersion), SketchFormatError);
  });

  test('the union of two filters holds the keys of both; filters of other shapes refuse', () => {
    const left = BloomFilter.create(1000, 0.01);
    const right = BloomFilter.create(1000, 0.01);
    left.add('a');
    right.add('b');
    left.union(right);
    assert.ok(left.has('a') && left.has('b'));
    assert.throws(() => left.union(BloomFilter.create(10, 0.01)), SketchMismatchError);
  });
});
