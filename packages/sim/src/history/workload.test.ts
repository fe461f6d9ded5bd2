import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { validateHistory } from './history.js';
import { generateLinearizableHistory, KvWorkload, seededRandom } from './workload.js';

const propertySeed = 0x770a;

describe('seededRandom', () => {
  test('replays the same numbers in [0, 1) from the same seed, and others from another seed', () => {
    const draw = (seed: number): number[] => {
      const random = seededRandom(seed);
      return Array.from({ length: 1000 }, () => random.next());
    };
    const first = draw(5);
    assert.deepEqual(draw(5), first);
    assert.notDeepEqual(draw(6), first);
    assert.ok(first.every((value) => value >= 0 && value < 1));
    const mean = first.reduce((sum, value) => sum + value, 0) / first.length;
    assert.ok(Math.abs(mean - 0.5) < 0.05, `mean ${mean}`);
  });
});

describe('KvWorkload', () => {
  test('generates calls on keys k0..k{n-1} with a unique value for every write', () => {
    const workload = new KvWorkload({ random: seededRandom(1), keys: 3, readRatio: 0.2, casRatio: 0.3 });
    const values = new Set<string>();
    for (let index = 0; index < 3000; index += 1) {
      const call = workload.nextCall(index % 7);
      assert.match(call.key, /^k[0-2]$/);
      if (call.kind === 'get') continue;
      assert.equal(values.has(call.value), false, `value ${call.value} written twice`);
      assert.match(call.value, new RegExp(`^p${index % 7}-\\d+$`));
      values.add(call.value);
    }
  });

  test('mixes reads, cas and puts in the configured proportions', () => {
    const workload = new KvWorkload({ random: seededRandom(2), readRatio: 0.5, casRatio: 0.2 });
    const counts = { get: 0, cas: 0, put: 0 };
    const total = 10_000;
    for (let index = 0; index < total; index += 1) counts[workload.nextCall(0).kind] += 1;
    assert.ok(Math.abs(counts.get / total - 0.5) < 0.03, JSON.stringify(counts));
    assert.ok(Math.abs(counts.cas / total - 0.2) < 0.03, JSON.stringify(counts));
    assert.ok(Math.abs(counts.put / total - 0.3) < 0.03, JSON.stringify(counts));
  });

  test('makes cas expect a recently observed value of its key, or absence', () => {
    const workload = new KvWorkload({
      random: seededRandom(3),
      keys: 1,
      readRatio: 0,
      casRatio: 1,
      recentValuesPerKeyMax: 2,
    });
    const expectations = new Set<string | null>();
    workload.observe({ kind: 'get', key: 'k0' }, { value: 'old' });
    workload.observe({ kind: 'put', key: 'k0', value: 'p1-0' }, {});
    workload.observe({ kind: 'get', key: 'k0' }, { value: 'p2-5' });
    workload.observe({ kind: 'cas', key: 'k0', expected: null, value: 'p3-1' }, { succeeded: false });
    for (let index = 0; index < 500; index += 1) {
      const call = workload.nextCall(0);
      assert.equal(call.kind, 'cas');
      if (call.kind === 'cas') expectations.add(call.expected);
    }
    // "old" has been pushed out by two newer values; the failed cas's value was never current.
    assert.deepEqual([...expectations].sort(), [null, 'p1-0', 'p2-5'].sort());
  });

  test('expects absence while nothing has been observed', () => {
    const workload = new KvWorkload({ random: seededRandom(4), readRatio: 0, casRatio: 1 });
    for (let index = 0; index < 100; index += 1) {
      const call = workload.nextCall(1);
      assert.ok(call.kind === 'cas' && call.expected === null);
    }
  });

  test('refuses options that make no sense', () => {
    const random = seededRandom(1);
    assert.throws(() => new KvWorkload({ random, keys: 0 }), /keys must be a positive integer/);
    assert.throws(() => new KvWorkload({ random, readRatio: 1.5 }), /readRatio must be within/);
    assert.throws(() => new KvWorkload({ random, readRatio: 0.7, casRatio: 0.5 }), /must not exceed 1/);
    assert.throws(() => new KvWorkload({ random, recentValuesPerKeyMax: 0 }), /recentValuesPerKeyMax/);
  });

  test('refuses a random source that leaves [0, 1)', () => {
    const workload = new KvWorkload({ random: { next: () => 1 } });
    assert.throws(() => workload.nextCall(0), /outside \[0, 1\)/);
  });
});

describe('generateLinearizableHistory', () => {
  test('produces valid histories with the requested number of operations, replayable from the seed', () => {
    fc.assert(
      fc.property(
        fc.integer(),
        fc.integer({ min: 0, max: 300 }),
        fc.integer({ min: 1, max: 12 }),
        (seed, operations, processes) => {
          const history = generateLinearizableHistory({ random: seededRandom(seed), operations, processes });
          assert.equal(history.length, operations);
          validateHistory(history);
          assert.ok(history.every((operation) => operation.process < processes));
          assert.deepEqual(
            generateLinearizableHistory({ random: seededRandom(seed), operations, processes }),
            history,
          );
        },
      ),
      { seed: propertySeed, numRuns: 60 },
    );
  });

  test('includes failed and indeterminate operations in about the requested shares', () => {
    const history = generateLinearizableHistory({
      random: seededRandom(9),
      operations: 5000,
      failRatio: 0.05,
      indeterminateRatio: 0.1,
    });
    const share = (outcome: string): number =>
      history.filter((operation) => operation.outcome === outcome).length / history.length;
    // Failures are drawn once per operation; indeterminate outcomes before and after it takes effect.
    assert.ok(Math.abs(share('fail') - 0.05) < 0.02, `fail ${share('fail')}`);
    assert.ok(
      share('indeterminate') > 0.1 && share('indeterminate') < 0.25,
      `indeterminate ${share('indeterminate')}`,
    );
  });
});
