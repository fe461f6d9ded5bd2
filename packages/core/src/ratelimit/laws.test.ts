// Laws every limiter must obey, checked on random request sequences against the pure step
// functions. fast-check prints the seed and the shrunk sequence of any failure.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import type { RateLimitAlgorithm, RateLimitDecision } from './algorithm.js';
import { fixedWindowAlgorithm } from './fixed-window.js';
import { gcraAlgorithm } from './gcra.js';
import { leakyBucketAlgorithm, leakyBucketSchedule } from './leaky-bucket.js';
import { slidingWindowCounterAlgorithm } from './sliding-window-counter.js';
import { slidingWindowLogAlgorithm } from './sliding-window-log.js';
import { tokenBucketAlgorithm } from './token-bucket.js';

interface Request {
  readonly gapMs: number;
  readonly cost: number;
}
interface Admission {
  readonly atMs: number;
  readonly cost: number;
}

const requests = fc.array(
  fc.record({
    // Mostly bursts (gap 0) with occasional pauses, so limits are actually reached.
    gapMs: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 50 }), fc.integer({ min: 0, max: 3_000 })),
    cost: fc.integer({ min: 1, max: 3 }),
  }),
  { minLength: 1, maxLength: 150 },
);

/** Runs `sequence` through one algorithm; returns admissions and every decision with its inputs. */
function run<State, Config>(
  algorithm: RateLimitAlgorithm<State, Config>,
  config: Config,
  sequence: readonly Request[],
) {
  let nowMs = 1_000_000;
  let state = algorithm.initialState(config, nowMs);
  const admissions: Admission[] = [];
  const decisions: {
    before: State;
    nowMs: number;
    cost: number;
    decision: RateLimitDecision;
    after: State;
  }[] = [];
  for (const { gapMs, cost } of sequence) {
    nowMs += gapMs;
    const step = algorithm.acquire(state, nowMs, cost, config);
    decisions.push({ before: state, nowMs, cost, decision: step.decision, after: step.state });
    if (step.decision.allowed) admissions.push({ atMs: nowMs, cost });
    state = step.state;
  }
  return { admissions, decisions };
}

/** The largest total admitted in a closed interval [a, b], measured against `budget(b − a)`. */
function assertIntervalBudget(admissions: readonly Admission[], budget: (lengthMs: number) => number): void {
  for (let first = 0; first < admissions.length; first++) {
    let total = 0;
    for (let last = first; last < admissions.length; last++) {
      total += admissions[last]?.cost ?? 0;
      const lengthMs = (admissions[last]?.atMs ?? 0) - (admissions[first]?.atMs ?? 0);
      assert.ok(total <= budget(lengthMs) + 1e-6, `admitted ${total} within ${lengthMs} ms`);
    }
  }
}

/** Totals over half-open windows (t − windowMs, t] ending at each admission. */
function assertSlidingBudget(admissions: readonly Admission[], windowMs: number, limit: number): void {
  for (const end of admissions) {
    const total = admissions
      .filter((admission) => admission.atMs > end.atMs - windowMs && admission.atMs <= end.atMs)
      .reduce((sum, admission) => sum + admission.cost, 0);
    assert.ok(total <= limit, `admitted ${total} in the ${windowMs} ms ending at ${end.atMs}`);
  }
}

function assertAlignedBudget(admissions: readonly Admission[], windowMs: number, limit: number): void {
  const perWindow = new Map<number, number>();
  for (const { atMs, cost } of admissions) {
    const windowStartMs = Math.floor(atMs / windowMs) * windowMs;
    perWindow.set(windowStartMs, (perWindow.get(windowStartMs) ?? 0) + cost);
  }
  for (const [windowStartMs, total] of perWindow) {
    assert.ok(total <= limit, `admitted ${total} in the window starting at ${windowStartMs}`);
  }
}

/** Liveness: a denied request retried exactly `retryAfterMs` later (nothing else happening) passes. */
function assertRetryAfterIsHonoured<State, Config>(
  algorithm: RateLimitAlgorithm<State, Config>,
  config: Config,
  decisions: ReturnType<typeof run<State, Config>>['decisions'],
): void {
  for (const { nowMs, cost, decision, after } of decisions) {
    if (decision.allowed || decision.retryAfterMs === Number.POSITIVE_INFINITY) continue;
    assert.ok(decision.retryAfterMs > 0);
    const retried = algorithm.acquire(after, nowMs + decision.retryAfterMs, cost, config);
    assert.ok(retried.decision.allowed, `retry after ${decision.retryAfterMs} ms was refused`);
  }
}

/** `remaining` is exact for unit requests: that many more pass at the same instant, and no more. */
function assertRemainingIsExact<State, Config>(
  algorithm: RateLimitAlgorithm<State, Config>,
  config: Config,
  decisions: ReturnType<typeof run<State, Config>>['decisions'],
): void {
  for (const { nowMs, decision, after } of decisions.slice(-5)) {
    let state = after;
    for (let unit = 0; unit < decision.remaining; unit++) {
      const step = algorithm.acquire(state, nowMs, 1, config);
      assert.ok(step.decision.allowed, `unit ${unit + 1} of ${decision.remaining} remaining was refused`);
      state = step.state;
    }
    assert.equal(
      algorithm.acquire(state, nowMs, 1, config).decision.allowed,
      false,
      'one past remaining passed',
    );
  }
}

describe('rate limiter laws', () => {
  const bucketConfigs = fc.record({
    capacity: fc.integer({ min: 1, max: 20 }),
    ratePerSecond: fc.oneof(fc.integer({ min: 1, max: 100 }), fc.double({ min: 0.1, max: 50, noNaN: true })),
  });

  test('token bucket: over any interval of length t, admitted ≤ capacity + rate · t', () => {
    fc.assert(
      fc.property(bucketConfigs, requests, ({ capacity, ratePerSecond }, sequence) => {
        const config = { capacity, refillPerSecond: ratePerSecond };
        const { admissions, decisions } = run(tokenBucketAlgorithm, config, sequence);
        assertIntervalBudget(admissions, (lengthMs) => capacity + (ratePerSecond * lengthMs) / 1000);
        assertRetryAfterIsHonoured(tokenBucketAlgorithm, config, decisions);
        assertRemainingIsExact(tokenBucketAlgorithm, config, decisions);
      }),
    );
  });

  test('GCRA: over any interval of length t, admitted ≤ burst + rate · t', () => {
    fc.assert(
      fc.property(bucketConfigs, requests, ({ capacity, ratePerSecond }, sequence) => {
        const config = { burst: capacity, ratePerSecond };
        const { admissions, decisions } = run(gcraAlgorithm, config, sequence);
        assertIntervalBudget(admissions, (lengthMs) => capacity + (ratePerSecond * lengthMs) / 1000);
        assertRetryAfterIsHonoured(gcraAlgorithm, config, decisions);
        assertRemainingIsExact(gcraAlgorithm, config, decisions);
      }),
    );
  });

  test('GCRA and the token bucket admit exactly the same requests', () => {
    fc.assert(
      fc.property(bucketConfigs, requests, ({ capacity, ratePerSecond }, sequence) => {
        const gcra = run(gcraAlgorithm, { burst: capacity, ratePerSecond }, sequence);
        const bucket = run(tokenBucketAlgorithm, { capacity, refillPerSecond: ratePerSecond }, sequence);
        assert.deepEqual(gcra.admissions, bucket.admissions);
      }),
    );
  });

  test('leaky bucket meter: over any interval of length t, admitted ≤ capacity + leak rate · t', () => {
    fc.assert(
      fc.property(bucketConfigs, requests, ({ capacity, ratePerSecond }, sequence) => {
        const config = { capacity, leakPerSecond: ratePerSecond };
        const { admissions, decisions } = run(leakyBucketAlgorithm, config, sequence);
        assertIntervalBudget(admissions, (lengthMs) => capacity + (ratePerSecond * lengthMs) / 1000);
        assertRetryAfterIsHonoured(leakyBucketAlgorithm, config, decisions);
        assertRemainingIsExact(leakyBucketAlgorithm, config, decisions);
      }),
    );
  });

  test('leaky bucket queue: admitted work starts in order, spaced by its cost at the leak rate, never over capacity', () => {
    fc.assert(
      fc.property(bucketConfigs, requests, ({ capacity, ratePerSecond }, sequence) => {
        const config = { capacity, leakPerSecond: ratePerSecond };
        let nowMs = 0;
        let state = leakyBucketAlgorithm.initialState(config, nowMs);
        let previous: { startMs: number; cost: number } | undefined;
        for (const { gapMs, cost } of sequence) {
          nowMs += gapMs;
          const { state: next, decision } = leakyBucketSchedule(state, nowMs, cost, config);
          state = next;
          if (!decision.allowed) continue;
          const startMs = nowMs + decision.delayMs;
          const waitingWork = (decision.delayMs * ratePerSecond) / 1000;
          assert.ok(waitingWork + cost <= capacity + 1e-6, 'the queue holds no more than its capacity');
          if (previous !== undefined) {
            const spacingMs = (previous.cost * 1000) / ratePerSecond;
            assert.ok(startMs >= previous.startMs + spacingMs - 1e-6, 'starts are spaced by cost / rate');
          }
          previous = { startMs, cost };
        }
      }),
    );
  });

  const windowConfigs = fc.record({
    limit: fc.integer({ min: 1, max: 20 }),
    windowMs: fc.integer({ min: 1, max: 2_000 }),
  });

  test('sliding window log: no window of its length ever holds more than the limit', () => {
    fc.assert(
      fc.property(windowConfigs, requests, (config, sequence) => {
        const { admissions, decisions } = run(slidingWindowLogAlgorithm, config, sequence);
        assertSlidingBudget(admissions, config.windowMs, config.limit);
        assertRetryAfterIsHonoured(slidingWindowLogAlgorithm, config, decisions);
        assertRemainingIsExact(slidingWindowLogAlgorithm, config, decisions);
        const kept = decisions.at(-1)?.after.entries.length ?? 0;
        assert.ok(kept <= config.limit, 'the log keeps at most one entry per admitted unit');
      }),
    );
  });

  test('fixed window: each aligned window holds at most the limit; any window of its length at most twice that', () => {
    fc.assert(
      fc.property(windowConfigs, requests, (config, sequence) => {
        const { admissions, decisions } = run(fixedWindowAlgorithm, config, sequence);
        assertAlignedBudget(admissions, config.windowMs, config.limit);
        assertSlidingBudget(admissions, config.windowMs, 2 * config.limit);
        assertRetryAfterIsHonoured(fixedWindowAlgorithm, config, decisions);
        assertRemainingIsExact(fixedWindowAlgorithm, config, decisions);
      }),
    );
  });

  test('sliding window counter: each aligned window holds at most the limit; any window of its length at most twice that', () => {
    fc.assert(
      fc.property(windowConfigs, requests, (config, sequence) => {
        const { admissions, decisions } = run(slidingWindowCounterAlgorithm, config, sequence);
        assertAlignedBudget(admissions, config.windowMs, config.limit);
        assertSlidingBudget(admissions, config.windowMs, 2 * config.limit);
        assertRetryAfterIsHonoured(slidingWindowCounterAlgorithm, config, decisions);
        assertRemainingIsExact(slidingWindowCounterAlgorithm, config, decisions);
      }),
    );
  });

  test('a step never mutates the state it was given', () => {
    const limiters: { algorithm: RateLimitAlgorithm<unknown, unknown>; config: unknown }[] = [
      {
        algorithm: tokenBucketAlgorithm as RateLimitAlgorithm<unknown, unknown>,
        config: { capacity: 3, refillPerSecond: 1 },
      },
      {
        algorithm: leakyBucketAlgorithm as RateLimitAlgorithm<unknown, unknown>,
        config: { capacity: 3, leakPerSecond: 1 },
      },
      {
        algorithm: gcraAlgorithm as RateLimitAlgorithm<unknown, unknown>,
        config: { burst: 3, ratePerSecond: 1 },
      },
      {
        algorithm: fixedWindowAlgorithm as RateLimitAlgorithm<unknown, unknown>,
        config: { limit: 3, windowMs: 100 },
      },
      {
        algorithm: slidingWindowLogAlgorithm as RateLimitAlgorithm<unknown, unknown>,
        config: { limit: 3, windowMs: 100 },
      },
      {
        algorithm: slidingWindowCounterAlgorithm as RateLimitAlgorithm<unknown, unknown>,
        config: { limit: 3, windowMs: 100 },
      },
    ];
    fc.assert(
      fc.property(requests, (sequence) => {
        for (const { algorithm, config } of limiters) {
          let nowMs = 0;
          let state = algorithm.initialState(config, nowMs);
          for (const { gapMs, cost } of sequence) {
            nowMs += gapMs;
            const before = structuredClone(state);
            const step = algorithm.acquire(state, nowMs, cost, config);
            assert.deepEqual(state, before, `${algorithm.name} mutated its input state`);
            state = step.state;
          }
        }
      }),
    );
  });
});
