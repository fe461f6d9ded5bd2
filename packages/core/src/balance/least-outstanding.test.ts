import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import type { RandomSource } from '../time.js';
import { LeastOutstanding, PowerOfTwoChoices } from './least-outstanding.js';
import { RandomBalancer } from './random.js';

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

describe('LeastOutstanding', () => {
  test('sends each request to the endpoint with the fewest in flight', () => {
    const balancer = new LeastOutstanding(['a', 'b', 'c'], { random: seededRandom(1) });
    const first = balancer.pick()!;
    const second = balancer.pick()!;
    const third = balancer.pick()!;
    assert.equal(new Set([first, second, third]).size, 3);
    balancer.report(second, 5, true);
    assert.equal(balancer.pick(), second);
    balancer.release(first);
    assert.equal(balancer.pick(), first);
  });

  test('spreads ties over all idle endpoints instead of always the first', () => {
    const balancer = new LeastOutstanding(['a', 'b', 'c', 'd'], { random: seededRandom(7) });
    const counts = new Map<string, number>();
    for (let request = 0; request < 4000; request++) {
      const endpoint = balancer.pick()!;
      counts.set(endpoint, (counts.get(endpoint) ?? 0) + 1);
      balancer.report(endpoint, 1, true);
    }
    for (const count of counts.values()) assert.ok(Math.abs(count - 1000) < 150, `count ${count}`);
  });
});

describe('PowerOfTwoChoices', () => {
  test('never picks a loaded endpoint while an idle one is sampled beside it', () => {
    fc.assert(
      fc.property(fc.integer(), (seed) => {
        const endpoints = ['busy', 'a', 'b', 'c'];
        const balancer = new PowerOfTwoChoices(endpoints, { random: seededRandom(seed) });
        // Load 'busy' with five requests in flight by picking until it has them.
        let guard = 0;
        while (balancer.outstanding('busy') < 5 && guard++ < 10_000) {
          const endpoint = balancer.pick()!;
          if (endpoint !== 'busy') balancer.release(endpoint);
        }
        for (let request = 0; request < 200; request++) {
          const endpoint = balancer.pick()!;
          assert.notEqual(endpoint, 'busy');
          balancer.report(endpoint, 1, true);
        }
      }),
      { numRuns: 20 },
    );
  });

  test('keeps the most loaded endpoint far lighter than random choice does', () => {
    // A discrete-time queue: each step one request arrives and every endpoint completes at most one.
    const maxBacklog = (
      balancer: PowerOfTwoChoices<number> | RandomBalancer<number>,
      endpoints: number[],
    ) => {
      const backlog = endpoints.map(() => 0);
      let worst = 0;
      for (let step = 0; step < 20_000; step++) {
        for (let arrival = 0; arrival < 9; arrival++) {
          const endpoint = balancer.pick()!;
          backlog[endpoint]!++;
          worst = Math.max(worst, backlog[endpoint]!);
        }
        endpoints.forEach((endpoint) => {
          if (backlog[endpoint]! > 0) {
            backlog[endpoint]!--;
            balancer.report(endpoint, 1, true);
          }
        });
      }
      return worst;
    };
    const endpoints = Array.from({ length: 10 }, (_, index) => index);
    const twoChoices = maxBacklog(new PowerOfTwoChoices(endpoints, { random: seededRandom(3) }), endpoints);
    const random = maxBacklog(new RandomBalancer(endpoints, { random: seededRandom(3) }), endpoints);
    assert.ok(twoChoices * 3 < random, `two choices ${twoChoices}, random ${random}`);
  });

  test('with a single eligible endpoint picks it, with none returns undefined', () => {
    const balancer = new PowerOfTwoChoices(['a', 'b'], { random: seededRandom(5) });
    assert.equal(
      balancer.pick((endpoint) => endpoint === 'b'),
      'b',
    );
    assert.equal(
      balancer.pick(() => false),
      undefined,
    );
  });
});

describe('RandomBalancer', () => {
  test('chooses uniformly among eligible endpoints', () => {
    const balancer = new RandomBalancer(['a', 'b', 'c', 'd'], { random: seededRandom(11) });
    const counts = new Map<string, number>();
    for (let request = 0; request < 8000; request++) {
      const endpoint = balancer.pick((candidate) => candidate !== 'd')!;
      counts.set(endpoint, (counts.get(endpoint) ?? 0) + 1);
    }
    assert.equal(counts.has('d'), false);
    for (const count of counts.values())
      assert.ok(Math.abs(count - 8000 / 3) < 5 * Math.sqrt(8000 * (2 / 9)));
  });
});
