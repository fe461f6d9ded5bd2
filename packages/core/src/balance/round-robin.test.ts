import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { RoundRobin, SmoothWeightedRoundRobin } from './round-robin.js';

describe('RoundRobin', () => {
  test('visits every endpoint in turn', () => {
    const balancer = new RoundRobin(['a', 'b', 'c']);
    assert.deepEqual(
      Array.from({ length: 7 }, () => balancer.pick()),
      ['a', 'b', 'c', 'a', 'b', 'c', 'a'],
    );
  });

  test('skips endpoints the filter refuses and returns undefined when none is eligible', () => {
    const balancer = new RoundRobin(['a', 'b', 'c']);
    const notB = (endpoint: string) => endpoint !== 'b';
    assert.deepEqual(
      Array.from({ length: 4 }, () => balancer.pick(notB)),
      ['a', 'c', 'a', 'c'],
    );
    assert.equal(
      balancer.pick(() => false),
      undefined,
    );
    assert.equal(new RoundRobin<string>([]).pick(), undefined);
  });

  test('refuses duplicate endpoints', () => {
    assert.throws(() => new RoundRobin(['a', 'a']), RangeError);
  });
});

describe('SmoothWeightedRoundRobin', () => {
  test('interleaves picks as nginx does for weights 5, 1, 1', () => {
    const balancer = new SmoothWeightedRoundRobin([
      { endpoint: 'a', weight: 5 },
      { endpoint: 'b', weight: 1 },
      { endpoint: 'c', weight: 1 },
    ]);
    assert.deepEqual(
      Array.from({ length: 14 }, () => balancer.pick()),
      ['a', 'a', 'b', 'a', 'c', 'a', 'a', 'a', 'a', 'b', 'a', 'c', 'a', 'a'],
    );
  });

  test('over each cycle of Σweights picks, every endpoint is chosen exactly its weight in times', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 10 }), { minLength: 1, maxLength: 6 }), (weights) => {
        const balancer = new SmoothWeightedRoundRobin(
          weights.map((weight, index) => ({ endpoint: index, weight })),
        );
        const cycle = weights.reduce((sum, weight) => sum + weight, 0);
        for (let round = 0; round < 3; round++) {
          const counts = weights.map(() => 0);
          for (let pick = 0; pick < cycle; pick++) counts[balancer.pick()!]!++;
          assert.deepEqual(counts, weights);
        }
      }),
    );
  });

  test('shares out the weight of an ineligible endpoint among the rest', () => {
    const balancer = new SmoothWeightedRoundRobin([
      { endpoint: 'a', weight: 2 },
      { endpoint: 'b', weight: 1 },
      { endpoint: 'c', weight: 3 },
    ]);
    const counts = new Map<string, number>();
    for (let pick = 0; pick < 30; pick++) {
      const endpoint = balancer.pick((candidate) => candidate !== 'c')!;
      counts.set(endpoint, (counts.get(endpoint) ?? 0) + 1);
    }
    assert.deepEqual(Object.fromEntries(counts), { a: 20, b: 10 });
  });
});
