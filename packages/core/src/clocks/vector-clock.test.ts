import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { ClockFormatError } from './errors.js';
import { VectorClock } from './vector-clock.js';

/** Few replicas and small counters, so that equal, ordered and concurrent pairs all come up often. */
const clockArbitrary = fc
  .dictionary(fc.constantFrom('a', 'b', 'c', 'd'), fc.nat(3), { maxKeys: 4 })
  .map((counters) => VectorClock.from(counters));

const lessOrEqual = (left: VectorClock, right: VectorClock) => left.isDescendedBy(right);

describe('VectorClock order', () => {
  test('is reflexive', () => {
    fc.assert(fc.property(clockArbitrary, (clock) => assert.equal(clock.compare(clock), 'equal')));
  });

  test('is antisymmetric: a ≤ b and b ≤ a only when a and b are the same clock', () => {
    fc.assert(
      fc.property(clockArbitrary, clockArbitrary, (left, right) => {
        if (lessOrEqual(left, right) && lessOrEqual(right, left))
          assert.deepEqual(left.toJSON(), right.toJSON());
      }),
    );
  });

  test('is transitive', () => {
    fc.assert(
      fc.property(clockArbitrary, clockArbitrary, clockArbitrary, (first, second, third) => {
        if (lessOrEqual(first, second) && lessOrEqual(second, third)) assert.ok(lessOrEqual(first, third));
      }),
      { numRuns: 500 },
    );
    // Random triples rarely chain, so also build chains on purpose.
    fc.assert(
      fc.property(clockArbitrary, clockArbitrary, clockArbitrary, (first, step, otherStep) => {
        const second = first.merge(step);
        const third = second.merge(otherStep);
        assert.ok(lessOrEqual(first, third));
      }),
    );
  });

  test('is symmetric where it should be: concurrent both ways, before exactly when the other is after', () => {
    const mirror = { before: 'after', after: 'before', concurrent: 'concurrent', equal: 'equal' } as const;
    fc.assert(
      fc.property(clockArbitrary, clockArbitrary, (left, right) => {
        assert.equal(right.compare(left), mirror[left.compare(right)]);
      }),
    );
  });

  test('merge is the least upper bound', () => {
    fc.assert(
      fc.property(clockArbitrary, clockArbitrary, clockArbitrary, (left, right, other) => {
        const merged = left.merge(right);
        assert.ok(lessOrEqual(left, merged) && lessOrEqual(right, merged));
        if (lessOrEqual(left, other) && lessOrEqual(right, other)) assert.ok(lessOrEqual(merged, other));
        const upperBound = merged.merge(other);
        assert.ok(lessOrEqual(merged, upperBound));
      }),
      { numRuns: 500 },
    );
  });

  test('an increment happens after the clock it started from, and events on two replicas are concurrent', () => {
    const start = VectorClock.from({ a: 1, b: 2 });
    assert.equal(start.compare(start.increment('a')), 'before');
    assert.equal(start.increment('a').compare(start.increment('b')), 'concurrent');
    assert.equal(VectorClock.empty.compare(start), 'before');
  });
});

describe('VectorClock serialisation', () => {
  const replicaArbitrary = fc.string({ minLength: 1, maxLength: 12 });
  const wideClockArbitrary = fc
    .dictionary(replicaArbitrary, fc.maxSafeNat(), { maxKeys: 6 })
    .map((counters) => VectorClock.from(counters));

  test('round-trips through the compact binary form and through JSON', () => {
    fc.assert(
      fc.property(wideClockArbitrary, (clock) => {
        assert.equal(VectorClock.decode(clock.encode()).compare(clock), 'equal');
        assert.deepEqual(VectorClock.decode(clock.encode()).toJSON(), clock.toJSON());
        const json = JSON.parse(JSON.stringify(clock));
        assert.equal(VectorClock.fromJSON(json).compare(clock), 'equal');
      }),
    );
  });

  test('is compact: a three-replica clock with small counters takes a handful of bytes', () => {
    assert.equal(VectorClock.from({ n1: 5, n2: 1, n3: 300 }).encode().length, 1 + 3 * (1 + 2) + 1 + 1 + 2);
  });

  test('rejects truncated or trailing bytes and malformed JSON', () => {
    const bytes = VectorClock.from({ alpha: 7, beta: 9 }).encode();
    assert.throws(() => VectorClock.decode(bytes.subarray(0, bytes.length - 1)), ClockFormatError);
    assert.throws(() => VectorClock.decode(Uint8Array.from([...bytes, 0])), ClockFormatError);
    assert.throws(() => VectorClock.fromJSON({ a: -1 }), ClockFormatError);
    assert.throws(() => VectorClock.fromJSON([1, 2]), ClockFormatError);
  });

  test('prints readably for logs', () => {
    assert.equal(VectorClock.from({ b: 1, a: 3 }).toString(), '{a:3, b:1}');
  });
});
