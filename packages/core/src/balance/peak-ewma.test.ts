import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { RandomSource } from '../time.js';
import { PeakEwma } from './peak-ewma.js';

/** mulberry32: a small seeded generator, so every run of these tests is reproducible. */
function seededRandom(seed: number): RandomSource {
  let state = seed >>> 0;
  return {
    next: () => {
      state = (state + 0x6d2b79f5) | 0;
      let mixed = Math.imul(state ^ (state >>> 15), 1 | state);
      mixed = (mixed + Math.imul(mixed ^ (mixed >>> 7), 61 | mixed)) ^ mixed;
      return ((mixed ^ (mixed >>> 14)) >>> 0) / 4294967296;
    },
  };
}

function manualClock() {
  let nowMs = 0;
  return {
    now: () => nowMs,
    advance: (ms: number) => {
      nowMs += ms;
    },
  };
}

describe('PeakEwma', () => {
  test('sends most traffic to the faster endpoint', () => {
    const clock = manualClock();
    const latencyMs: Record<string, number> = { fast: 10, slow: 100, medium: 40 };
    const balancer = new PeakEwma(Object.keys(latencyMs), { clock, random: seededRandom(42) });
    const counts: Record<string, number> = { fast: 0, slow: 0, medium: 0 };
    for (let request = 0; request < 3000; request++) {
      const endpoint = balancer.pick()!;
      counts[endpoint]!++;
      clock.advance(5);
      balancer.report(endpoint, latencyMs[endpoint]!, true);
    }
    assert.ok(counts.fast! > 0.6 * 3000, JSON.stringify(counts));
    assert.ok(counts.slow! < counts.medium!, JSON.stringify(counts));
  });

  test('a slower sample raises the estimate at once; faster ones lower it gradually', () => {
    const clock = manualClock();
    const balancer = new PeakEwma(['a'], { clock, decayMs: 1000 });
    balancer.report('a', 20, true);
    balancer.report('a', 200, true);
    assert.equal(balancer.latencyMs('a'), 200);
    clock.advance(1000);
    balancer.report('a', 20, true);
    const expected = 200 * Math.exp(-1) * Math.exp(-1) + 20 * (1 - Math.exp(-1));
    assert.ok(Math.abs(balancer.latencyMs('a') - expected) < 1e-9);
    assert.ok(balancer.latencyMs('a') > 20 && balancer.latencyMs('a') < 200);
  });

  test('an idle endpoint decays toward zero and is tried again', () => {
    const clock = manualClock();
    const balancer = new PeakEwma(['a'], { clock, decayMs: 1000 });
    balancer.report('a', 500, true);
    clock.advance(5000);
    assert.ok(balancer.latencyMs('a') < 500 * Math.exp(-4));
  });

  test('a failure counts as slow even when it was fast', () => {
    const clock = manualClock();
    const balancer = new PeakEwma(['a', 'b'], { clock, failureLatencyMs: 1000, random: seededRandom(1) });
    balancer.report('a', 1, false);
    balancer.report('b', 50, true);
    assert.equal(balancer.latencyMs('a'), 1000);
    assert.equal(balancer.pick(), 'b');
  });

  test('weighs requests in flight, and avoids a busy endpoint that has no measurement yet', () => {
    const clock = manualClock();
    const balancer = new PeakEwma(['a', 'b'], { clock, random: seededRandom(9) });
    const first = balancer.pick()!;
    const other = first === 'a' ? 'b' : 'a';
    assert.equal(balancer.pick(), other);
    balancer.report(other, 10, true);
    assert.equal(balancer.cost(other), 10);
    assert.ok(balancer.cost(first) > 1e15);
  });
});
