import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FixedWindow } from './fixed-window.js';
import { Gcra } from './gcra.js';
import { LeakyBucket } from './leaky-bucket.js';
import { SlidingWindowCounter } from './sliding-window-counter.js';
import { SlidingWindowLog } from './sliding-window-log.js';
import { TokenBucket } from './token-bucket.js';

function manualClock(startMs = 0) {
  return {
    nowMs: startMs,
    now() {
      return this.nowMs;
    },
  };
}

describe('token bucket', () => {
  test('spends a full bucket as a burst, then admits at the refill rate', () => {
    const clock = manualClock();
    const limiter = new TokenBucket({ capacity: 3, refillPerSecond: 2 }, clock);
    assert.deepEqual(
      [1, 2, 3].map(() => limiter.tryAcquire().remaining),
      [2, 1, 0],
    );
    assert.deepEqual(limiter.tryAcquire(), { allowed: false, remaining: 0, retryAfterMs: 500 });
    clock.nowMs = 500;
    assert.equal(limiter.tryAcquire().allowed, true);
  });

  test('a cost above capacity is refused forever, and the state is a plain object', () => {
    const limiter = new TokenBucket({ capacity: 2, refillPerSecond: 1 }, manualClock(10));
    assert.equal(limiter.tryAcquire(3).retryAfterMs, Number.POSITIVE_INFINITY);
    assert.deepEqual(JSON.parse(JSON.stringify(limiter.state)), { tokens: 2, updatedAtMs: 10 });
  });

  test('rejects a configuration or cost that would corrupt the state', () => {
    assert.throws(() => new TokenBucket({ capacity: 0, refillPerSecond: 1 }), /capacity/);
    assert.throws(() => new TokenBucket({ capacity: 1, refillPerSecond: Number.NaN }), /refillPerSecond/);
    assert.throws(() => new TokenBucket({ capacity: 1, refillPerSecond: 1 }).tryAcquire(-1), /cost/);
  });

  test('a clock stepping backwards refills nothing', () => {
    const clock = manualClock(1_000);
    const limiter = new TokenBucket({ capacity: 1, refillPerSecond: 1 }, clock);
    limiter.tryAcquire();
    clock.nowMs = 0;
    assert.equal(limiter.tryAcquire().allowed, false);
    clock.nowMs = 2_000;
    assert.equal(limiter.tryAcquire().allowed, true, 'one second after the latest reading, one token');
  });
});

describe('leaky bucket', () => {
  test('as a queue, spaces admitted requests by the leak interval and refuses when full', () => {
    const limiter = new LeakyBucket({ capacity: 3, leakPerSecond: 10 }, manualClock());
    const delays = [1, 2, 3].map(() => limiter.schedule().delayMs);
    assert.deepEqual(delays, [0, 100, 200]);
    const refused = limiter.schedule();
    assert.equal(refused.allowed, false);
    assert.equal(refused.retryAfterMs, 100);
  });

  test('as a meter, admits a burst up to capacity at once', () => {
    const clock = manualClock();
    const limiter = new LeakyBucket({ capacity: 2, leakPerSecond: 1 }, clock);
    assert.equal(limiter.tryAcquire().allowed, true);
    assert.equal(limiter.tryAcquire().allowed, true);
    assert.equal(limiter.tryAcquire().retryAfterMs, 1_000);
  });
});

describe('fixed window', () => {
  test('resets at each aligned window boundary', () => {
    const clock = manualClock(950);
    const limiter = new FixedWindow({ limit: 2, windowMs: 1_000 }, clock);
    limiter.tryAcquire(2);
    assert.deepEqual(limiter.tryAcquire(), { allowed: false, remaining: 0, retryAfterMs: 50 });
    clock.nowMs = 1_000;
    assert.equal(limiter.tryAcquire(2).allowed, true, 'a new window: the boundary burst of 2 · limit');
  });
});

describe('sliding window log', () => {
  test('admits again exactly when the oldest admission leaves the window', () => {
    const clock = manualClock();
    const limiter = new SlidingWindowLog({ limit: 2, windowMs: 1_000 }, clock);
    limiter.tryAcquire();
    clock.nowMs = 400;
    limiter.tryAcquire();
    assert.equal(limiter.tryAcquire().retryAfterMs, 600);
    clock.nowMs = 999;
    assert.equal(limiter.tryAcquire().allowed, false);
    clock.nowMs = 1_000;
    assert.equal(limiter.tryAcquire().allowed, true);
    assert.deepEqual(limiter.state.entries, [
      { atMs: 400, cost: 1 },
      { atMs: 1_000, cost: 1 },
    ]);
  });
});

describe('sliding window counter', () => {
  test('weighs the previous window by the share of it still covered', () => {
    const clock = manualClock();
    const limiter = new SlidingWindowCounter({ limit: 10, windowMs: 1_000 }, clock);
    limiter.tryAcquire(10);
    clock.nowMs = 1_250; // 75 % of the previous window still counts: 7.5 units
    assert.equal(limiter.tryAcquire(2).allowed, true);
    assert.equal(limiter.tryAcquire(1).allowed, false);
  });

  test('under steady overload it admits the limit per window', () => {
    const clock = manualClock();
    const limiter = new SlidingWindowCounter({ limit: 100, windowMs: 1_000 }, clock);
    const admittedPerWindow = new Map<number, number>();
    for (let atMs = 0; atMs < 10_000; atMs++) {
      clock.nowMs = atMs;
      if (!limiter.tryAcquire().allowed) continue;
      const window = Math.floor(atMs / 1_000);
      admittedPerWindow.set(window, (admittedPerWindow.get(window) ?? 0) + 1);
    }
    for (let window = 2; window < 10; window++) {
      assert.ok(Math.abs((admittedPerWindow.get(window) ?? 0) - 100) <= 1, `window ${window}`);
    }
  });
});

describe('GCRA', () => {
  test('allows a burst, then one request per emission interval', () => {
    const clock = manualClock();
    const limiter = new Gcra({ ratePerSecond: 4, burst: 2 }, clock);
    assert.equal(limiter.tryAcquire().allowed, true);
    assert.equal(limiter.tryAcquire().allowed, true);
    assert.deepEqual(limiter.tryAcquire(), { allowed: false, remaining: 0, retryAfterMs: 250 });
    clock.nowMs = 250;
    assert.equal(limiter.tryAcquire().allowed, true);
    assert.deepEqual(limiter.state, { theoreticalArrivalMs: 750 });
  });
});
