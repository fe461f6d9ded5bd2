import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { SketchFormatError, SketchMismatchError } from './errors.js';
import { HyperLogLog, hyperLogLogStandardError } from './hyperloglog.js';

describe('HyperLogLog', () => {
  test('relative error stays within 3 standard errors (1.04/√m) for cardinalities up to 1e6', () => {
    for (const precision of [10, 14, 16]) {
      const sketch = new HyperLogLog(precision);
      const bound = 3 * hyperLogLogStandardError(precision);
      let added = 0;
      for (const cardinality of [100, 1000, 20_000, 100_000, 1_000_000]) {
        for (; added < cardinality; added++) sketch.add(`user:${added}`);
        const relativeError = sketch.count() / cardinality - 1;
        assert.ok(
          Math.abs(relativeError) <= bound,
          `p=${precision} n=${cardinality}: error ${relativeError}`,
        );
      }
    }
  });

  test('duplicates do not change the estimate', () => {
    const sketch = new HyperLogLog(12);
    for (let index = 0; index < 1000; index++) sketch.add(`key:${index}`);
    const once = sketch.count();
    for (let index = 0; index < 1000; index++) sketch.add(`key:${index}`);
    assert.equal(sketch.count(), once);
  });

  test('an empty sketch counts zero at every precision', () => {
    for (let precision = 4; precision <= 18; precision++) assert.equal(new HyperLogLog(precision).count(), 0);
  });

  test('merging equals sketching the union, and is commutative and idempotent', () => {
    fc.assert(
      fc.property(fc.array(fc.string()), fc.array(fc.string()), (leftKeys, rightKeys) => {
        const left = new HyperLogLog(8);
        const right = new HyperLogLog(8);
        const union = new HyperLogLog(8);
        for (const key of leftKeys) left.add(key);
        for (const key of rightKeys) right.add(key);
        for (const key of [...leftKeys, ...rightKeys]) union.add(key);
        const leftThenRight = HyperLogLog.fromBytes(left.toBytes()).merge(right);
        const rightThenLeft = HyperLogLog.fromBytes(right.toBytes()).merge(left);
        assert.deepEqual(leftThenRight.toBytes(), union.toBytes());
        assert.deepEqual(rightThenLeft.toBytes(), union.toBytes());
        assert.deepEqual(leftThenRight.merge(right).toBytes(), union.toBytes());
      }),
      { numRuns: 50 },
    );
    assert.throws(() => new HyperLogLog(8).merge(new HyperLogLog(9)), SketchMismatchError);
  });

  test('round-trips through bytes and rejects malformed ones', () => {
    const sketch = new HyperLogLog(6);
    for (let index = 0; index < 500; index++) sketch.add(`key:${index}`);
    const bytes = sketch.toBytes();
    assert.equal(bytes.length, 2 + 64);
    assert.equal(HyperLogLog.fromBytes(bytes).count(), sketch.count());
    assert.throws(() => HyperLogLog.fromBytes(bytes.subarray(0, 10)), SketchFormatError);
    const badRank = bytes.slice();
    badRank[2] = 40;
    assert.throws(() => HyperLogLog.fromBytes(badRank), SketchFormatError);
    const badPrecision = bytes.slice();
    badPrecision[1] = 3;
    assert.throws(() => HyperLogLog.fromBytes(badPrecision), SketchFormatError);
  });

  test('refuses a precision outside 4..18', () => {
    assert.throws(() => new HyperLogLog(3), RangeError);
    assert.throws(() => new HyperLogLog(19), RangeError);
  });
});
