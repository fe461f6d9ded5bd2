import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { SimClock } from './clock.js';

function virtualTime(startMs = 0): { now: number } {
  return { now: startMs };
}

describe('SimClock', () => {
  test('with a constant offset and drift it reads offset + virtual × (1 + drift/1e6)', () => {
    const time = virtualTime();
    const clock = new SimClock({ time, offsetMs: 250, driftPpm: 200 });
    for (const virtualMs of [0, 1_000, 10_000, 123_456]) {
      time.now = virtualMs;
      assert.ok(Math.abs(clock.now() - (250 + virtualMs * (1 + 200 / 1e6))) < 1e-9);
    }
  });

  test('changing the drift bends the rate from that moment without a jump', () => {
    const time = virtualTime(10_000);
    const clock = new SimClock({ time, driftPpm: 1_000 });
    const before = clock.now();
    clock.setDriftPpm(-1_000);
    assert.equal(clock.now(), before);
    time.now = 20_000;
    assert.ok(Math.abs(clock.now() - (before + 10_000 * (1 - 1_000 / 1e6))) < 1e-9);
  });

  test('a forward offset step jumps at once; a backward step makes the clock stand still', () => {
    const time = virtualTime(1_000);
    const clock = new SimClock({ time });
    clock.setOffsetMs(500);
    assert.equal(clock.now(), 1_500);
    clock.setOffsetMs(0);
    time.now = 1_200;
    assert.equal(clock.now(), 1_500); // held: the unclamped reading (1 200) is behind
    assert.equal(clock.unclampedNow(), 1_200);
    time.now = 1_800;
    assert.equal(clock.now(), 1_800);
  });

  test('the clamp holds even if nobody read the clock before a backward step', () => {
    const time = virtualTime(0);
    const clock = new SimClock({ time, offsetMs: 1_000 });
    time.now = 100;
    clock.setOffsetMs(0);
    assert.equal(clock.now(), 1_100);
  });

  test('readings never decrease under any sequence of advances, steps and drift changes', () => {
    const change = fc.oneof(
      fc.record({ kind: fc.constant('advance' as const), byMs: fc.integer({ min: 0, max: 5_000 }) }),
      fc.record({
        kind: fc.constant('offset' as const),
        offsetMs: fc.integer({ min: -10_000, max: 10_000 }),
      }),
      fc.record({
        kind: fc.constant('drift' as const),
        driftPpm: fc.integer({ min: -100_000, max: 100_000 }),
      }),
    );
    fc.assert(
      fc.property(fc.array(change, { maxLength: 100 }), (changes) => {
        const time = virtualTime();
        const clock = new SimClock({ time });
        let previous = clock.now();
        for (const next of changes) {
          if (next.kind === 'advance') time.now += next.byMs;
          else if (next.kind === 'offset') clock.setOffsetMs(next.offsetMs);
          else clock.setDriftPpm(next.driftPpm);
          const reading = clock.now();
          assert.ok(reading >= previous, `${reading} < ${previous}`);
          assert.ok(reading >= clock.unclampedNow());
          previous = reading;
        }
      }),
      { numRuns: 300 },
    );
  });

  test('offsets and drifts outside sane bounds are refused', () => {
    const clock = new SimClock({ time: virtualTime() });
    assert.throws(() => clock.setDriftPpm(200_000), RangeError);
    assert.throws(() => clock.setOffsetMs(Number.POSITIVE_INFINITY), RangeError);
    assert.throws(() => new SimClock({ time: virtualTime(), driftPpm: Number.NaN }), RangeError);
  });
});
