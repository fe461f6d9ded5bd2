import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Clock } from '../time.js';
import { IntervalClock } from './interval-clock.js';

function manualClock(startMs: number): Clock & { advance(ms: number): void } {
  let nowMs = startMs;
  return {
    now: () => nowMs,
    advance: (ms) => {
      nowMs += ms;
    },
  };
}

describe('IntervalClock', () => {
  test('now() is an interval of ± the uncertainty around the local clock', () => {
    const clock = manualClock(1000);
    const trueTime = new IntervalClock({ clock, uncertaintyMs: 4, driftPpm: 0 });
    assert.deepEqual(trueTime.now(), { earliest: 996, latest: 1004 });
  });

  test('the uncertainty grows with drift since the last synchronisation and falls back after one', () => {
    const clock = manualClock(0);
    const trueTime = new IntervalClock({ clock, uncertaintyMs: 1, driftPpm: 200 });
    clock.advance(30_000);
    assert.equal(trueTime.uncertaintyMs(), 1 + 6); // 200 µs/s × 30 s
    trueTime.synchronized();
    assert.equal(trueTime.uncertaintyMs(), 1);
  });

  test('after(t) holds only once t is certainly past, before(t) only while t is certainly ahead', () => {
    const clock = manualClock(1000);
    const trueTime = new IntervalClock({ clock, uncertaintyMs: 5, driftPpm: 0 });
    assert.equal(trueTime.after(995), true);
    assert.equal(trueTime.after(996), false);
    assert.equal(trueTime.before(1006), true);
    assert.equal(trueTime.before(1005), false);
    assert.equal(trueTime.after(1000) || trueTime.before(1000), false, 'the present is uncertain');
  });

  test('waiting the commit wait makes the commit timestamp certainly past, and no shorter wait does', () => {
    for (const driftPpm of [0, 200, 5000]) {
      const clock = manualClock(50_000);
      const trueTime = new IntervalClock({ clock, uncertaintyMs: 7, driftPpm });
      const commitTimestamp = trueTime.now().latest;
      const waitMs = trueTime.commitWaitMs(commitTimestamp);
      assert.ok(waitMs >= 14, `drift ${driftPpm}: wait ${waitMs}`);
      clock.advance(waitMs - 1);
      assert.equal(trueTime.after(commitTimestamp), false, `drift ${driftPpm}: certain too early`);
      clock.advance(1);
      assert.equal(
        trueTime.after(commitTimestamp),
        true,
        `drift ${driftPpm}: still uncertain after the wait`,
      );
      assert.equal(trueTime.commitWaitMs(commitTimestamp), 0);
    }
  });
});
