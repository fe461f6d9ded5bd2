import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { bucketMiddleUs, bucketOf, HISTOGRAM_BUCKETS, LatencyHistogram } from './latency-histogram.js';

/** The bucket's middle is within this fraction of any value in it (1/64 of the bucket's low end). */
const RELATIVE_ERROR_MAX = 1 / 64;

test('every value up to 2^40 µs lands in a bucket whose middle is within 1.6% of it', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 2 ** 40 - 1 }), (value) => {
      const bucket = bucketOf(value);
      assert.ok(bucket >= 0 && bucket < HISTOGRAM_BUCKETS);
      assert.ok(Math.abs(bucketMiddleUs(bucket) - value) <= Math.max(0.5, value * RELATIVE_ERROR_MAX));
    }),
  );
});

test('buckets are ordered as their values are, including around powers of two', () => {
  for (let power = 6; power < 40; power++) {
    const edge = 2 ** power;
    assert.equal(bucketOf(edge - 1) + 1, bucketOf(edge), `around 2^${power}`);
  }
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 2 ** 40 }), fc.integer({ min: 0, max: 2 ** 40 }), (a, b) => {
      if (a <= b) assert.ok(bucketOf(a) <= bucketOf(b));
    }),
  );
});

test('quantiles agree with the sorted samples within the bucket error; merged halves equal the whole', () => {
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: 0, max: 10_000_000 }), { minLength: 1, maxLength: 500 }),
      fc.constantFrom(0.5, 0.9, 0.99, 1),
      (values, quantile) => {
        const whole = new LatencyHistogram();
        const left = new LatencyHistogram();
        const right = new LatencyHistogram();
        values.forEach((value, index) => {
          whole.record(value);
          (index % 2 === 0 ? left : right).record(value);
        });
        const merged = new LatencyHistogram();
        merged.add(left.toData());
        merged.add(right.toData());
        const sorted = [...values].sort((x, y) => x - y);
        const exact = sorted[Math.max(0, Math.ceil(quantile * values.length) - 1)]!;
        const estimate = whole.quantileUs(quantile);
        assert.ok(
          Math.abs(estimate - exact) <= Math.max(0.5, exact * RELATIVE_ERROR_MAX),
          `${estimate} vs ${exact}`,
        );
        assert.equal(merged.quantileUs(quantile), estimate);
        assert.equal(merged.size, values.length);
      },
    ),
  );
});

test('an empty histogram has no quantile', () => {
  assert.ok(Number.isNaN(new LatencyHistogram().quantileUs(0.5)));
});
