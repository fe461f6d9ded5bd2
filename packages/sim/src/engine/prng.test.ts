import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { Prng } from './prng.js';

function draws(prng: Prng, count: number): number[] {
  return Array.from({ length: count }, () => prng.nextUint32());
}

describe('Prng', () => {
  test('seed 42 yields the pinned first outputs (known answer)', () => {
    const prng = new Prng(42);
    assert.deepEqual(draws(prng, 4), [4239835689, 430560624, 958528215, 1929839346]);
    assert.deepEqual(draws(new Prng(42).fork('network'), 2), [1616976266, 732362709]);
    assert.equal(new Prng(0).next(), 0.1601601825095713);
  });

  test('the same seed gives the same stream and different seeds give different streams', () => {
    assert.deepEqual(draws(new Prng(7), 100), draws(new Prng(7), 100));
    assert.notDeepEqual(draws(new Prng(7), 10), draws(new Prng(8), 10));
    // Seeds that differ only above bit 32 must still differ.
    assert.notDeepEqual(draws(new Prng(5), 10), draws(new Prng(5 + 2 ** 32), 10));
  });

  test('a fork does not depend on how much the parent has drawn', () => {
    const fresh = new Prng(99);
    const used = new Prng(99);
    draws(used, 1_000);
    assert.deepEqual(draws(fresh.fork('disk'), 20), draws(used.fork('disk'), 20));
  });

  test('forks with different labels, and fork and parent, give different streams', () => {
    const root = new Prng(3);
    const network = draws(root.fork('network'), 10);
    assert.notDeepEqual(network, draws(root.fork('disk'), 10));
    assert.notDeepEqual(network, draws(new Prng(3), 10));
    assert.notDeepEqual(draws(root.fork('a').fork('b'), 10), draws(root.fork('b').fork('a'), 10));
    assert.equal(root.fork('a').fork('b').path, 'a/b');
    assert.equal(root.fork('a').seed, 3);
  });

  test('drawing from a fork does not perturb the parent stream', () => {
    const parent = new Prng(11);
    const twin = new Prng(11);
    draws(parent.fork('noise'), 500);
    assert.deepEqual(draws(parent, 20), draws(twin, 20));
  });

  test('next stays in [0, 1) and int stays in [0, max)', () => {
    fc.assert(
      fc.property(fc.nat(), fc.integer({ min: 1, max: 2 ** 32 }), (seed, max) => {
        const prng = new Prng(seed);
        for (let draw = 0; draw < 50; draw++) {
          const unit = prng.next();
          const value = prng.int(max);
          assert.ok(unit >= 0 && unit < 1);
          assert.ok(Number.isInteger(value) && value >= 0 && value < max);
        }
      }),
      { numRuns: 200 },
    );
  });

  test('int is close to uniform (seed 2024, 60 000 draws of a die)', () => {
    const prng = new Prng(2024);
    const counts = new Array<number>(6).fill(0);
    for (let draw = 0; draw < 60_000; draw++) counts[prng.int(6)]! += 1;
    for (const count of counts) assert.ok(Math.abs(count - 10_000) < 400, `counts ${counts.join(',')}`);
  });

  test('shuffle returns a permutation of its input', () => {
    fc.assert(
      fc.property(fc.nat(), fc.array(fc.integer(), { maxLength: 40 }), (seed, items) => {
        const shuffled = new Prng(seed).shuffle([...items]);
        assert.deepEqual(
          [...shuffled].sort((a, b) => a - b),
          [...items].sort((a, b) => a - b),
        );
      }),
      { numRuns: 200 },
    );
  });

  test('shuffle reaches every ordering of three items about equally (seed 5)', () => {
    const prng = new Prng(5);
    const counts = new Map<string, number>();
    for (let round = 0; round < 6_000; round++) {
      const key = prng.shuffle(['a', 'b', 'c']).join('');
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    assert.equal(counts.size, 6);
    for (const count of counts.values()) assert.ok(Math.abs(count - 1_000) < 150, `counts ${[...counts]}`);
  });

  test('chance(0) never fires, chance(1) always does, chance(0.3) about 30% (seed 17)', () => {
    const prng = new Prng(17);
    let hits = 0;
    for (let draw = 0; draw < 10_000; draw++) {
      assert.equal(prng.chance(0), false);
      assert.equal(prng.chance(1), true);
      if (prng.chance(0.3)) hits++;
    }
    assert.ok(Math.abs(hits - 3_000) < 200, `hits ${hits}`);
  });

  test('exponential has the requested mean and range has its bounds (seed 23)', () => {
    const prng = new Prng(23);
    let total = 0;
    for (let draw = 0; draw < 20_000; draw++) {
      const value = prng.exponential(5);
      assert.ok(value >= 0 && Number.isFinite(value));
      total += value;
      const ranged = prng.range(-2, 3);
      assert.ok(ranged >= -2 && ranged < 3);
    }
    assert.ok(Math.abs(total / 20_000 - 5) < 0.2, `mean ${total / 20_000}`);
  });

  test('pick chooses members and rejects an empty array', () => {
    const prng = new Prng(1);
    const items = ['n1', 'n2', 'n3'];
    for (let draw = 0; draw < 100; draw++) assert.ok(items.includes(prng.pick(items)));
    assert.throws(() => prng.pick([]), /non-empty/);
  });

  test('invalid arguments are refused loudly', () => {
    assert.throws(() => new Prng(-1), RangeError);
    assert.throws(() => new Prng(1.5), RangeError);
    const prng = new Prng(1);
    assert.throws(() => prng.int(0), RangeError);
    assert.throws(() => prng.int(2 ** 32 + 1), RangeError);
    assert.throws(() => prng.chance(1.5), RangeError);
    assert.throws(() => prng.range(2, 1), RangeError);
    assert.throws(() => prng.exponential(-1), RangeError);
  });
});
