import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import type { RandomSource } from '../time.js';
import { constantBackoff, exponentialBackoff } from './backoff.js';

const fixedRandom = (value: number): RandomSource => ({ next: () => value });

describe('exponentialBackoff', () => {
  test('without jitter, delays double from the initial delay until the cap', () => {
    const backoff = exponentialBackoff({ initialDelayMs: 100, maxDelayMs: 1_000, jitter: 'none' });
    const delays = [1, 2, 3, 4, 5, 6].map((attempt) => backoff(attempt, 0, fixedRandom(0.5)));
    assert.deepEqual(delays, [100, 200, 400, 800, 1_000, 1_000]);
  });

  test('full jitter stays within [0, capped exponential delay)', () => {
    const backoff = exponentialBackoff({ initialDelayMs: 10, maxDelayMs: 5_000, factor: 3, jitter: 'full' });
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (attempt, draw) => {
          const delayMs = backoff(attempt, 0, fixedRandom(draw));
          return delayMs >= 0 && delayMs < Math.min(5_000, 10 * 3 ** (attempt - 1));
        },
      ),
    );
  });

  test('decorrelated jitter stays between the initial delay and three times the previous one, capped', () => {
    const backoff = exponentialBackoff({ initialDelayMs: 50, maxDelayMs: 2_000, jitter: 'decorrelated' });
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 5_000, noNaN: true }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (previousDelayMs, draw) => {
          const delayMs = backoff(2, previousDelayMs, fixedRandom(draw));
          return delayMs >= 50 && delayMs <= Math.min(2_000, Math.max(50, previousDelayMs * 3));
        },
      ),
    );
  });

  test('rejects a cap below the initial delay', () => {
    assert.throws(() => exponentialBackoff({ initialDelayMs: 500, maxDelayMs: 100 }), RangeError);
  });
});

test('constantBackoff waits the same delay before every retry', () => {
  const backoff = constantBackoff(250);
  assert.deepEqual(
    [1, 5, 9].map((attempt) => backoff(attempt, 0, fixedRandom(0.9))),
    [250, 250, 250],
  );
});
