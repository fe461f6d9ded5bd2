import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { loadImbalance, measureKeyMovement } from './movement.js';
import { ConsistentHashRing } from './ring.js';

const keys = Array.from({ length: 20_000 }, (_, index) => `key:${index}`);
/** A joining node takes K/(N+1) keys in expectation; with 160 points per node the share of a
 * single node deviates by about 8% (1σ), so 30% leaves a wide margin without hiding a bug. */
const joinMovementTolerance = 0.3;

const nodeNames = (prefix: string, count: number) =>
  Array.from({ length: count }, (_, index) => `${prefix}-${index}`);

describe('ConsistentHashRing', () => {
  test('when a node joins a ring of N nodes, about K/(N+1) keys move, all of them to the new node', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 12 }),
        fc.string({ minLength: 1, maxLength: 8 }),
        (nodeCount, prefix) => {
          const members = nodeNames(prefix, nodeCount);
          const before = new ConsistentHashRing(members);
          const after = new ConsistentHashRing([...members, `${prefix}-joining`]);
          const movement = measureKeyMovement(
            keys,
            (key) => before.ownerOf(key),
            (key) => after.ownerOf(key),
          );
          assert.deepEqual([...movement.movedTo.keys()], [`${prefix}-joining`]);
          const expected = keys.length / (nodeCount + 1);
          assert.ok(
            Math.abs(movement.movedCount - expected) <= joinMovementTolerance * expected,
            `moved ${movement.movedCount}, expected ≈${expected.toFixed(0)}`,
          );
        },
      ),
      { numRuns: 25 },
    );
  });

  test('when a node leaves, only its own keys move', () => {
    const members = nodeNames('node', 8);
    const before = new ConsistentHashRing(members);
    const after = new ConsistentHashRing(members);
    after.remove('node-3');
    const movement = measureKeyMovement(
      keys,
      (key) => before.ownerOf(key),
      (key) => after.ownerOf(key),
    );
    assert.deepEqual([...movement.movedFrom.keys()], ['node-3']);
    assert.equal(movement.movedCount, keys.filter((key) => before.ownerOf(key) === 'node-3').length);
  });

  test('with enough virtual nodes the max/mean load over 100k keys stays within 1.3 (160 points) and 1.15 (1000)', () => {
    const manyKeys = Array.from({ length: 100_000 }, (_, index) => `k${index}`);
    const members = nodeNames('server', 10);
    const ring160 = new ConsistentHashRing(members);
    const ring1000 = new ConsistentHashRing(members, { virtualNodesPerWeight: 1000 });
    const imbalance160 = loadImbalance(manyKeys, members, (key) => ring160.ownerOf(key));
    const imbalance1000 = loadImbalance(manyKeys, members, (key) => ring1000.ownerOf(key));
    assert.ok(imbalance160 < 1.3, `160 points: max/mean ${imbalance160}`);
    assert.ok(imbalance1000 < 1.15, `1000 points: max/mean ${imbalance1000}`);
  });

  test('a node of weight 3 receives about three times the keys of a node of weight 1', () => {
    const ring = new ConsistentHashRing(['light', { id: 'heavy', weight: 3 }], {
      virtualNodesPerWeight: 400,
    });
    const heavyShare = keys.filter((key) => ring.ownerOf(key) === 'heavy').length / keys.length;
    assert.ok(Math.abs(heavyShare - 0.75) < 0.04, `heavy share ${heavyShare}`);
  });

  test('ownersOf returns distinct nodes, primary first, and no more than the ring holds', () => {
    const ring = new ConsistentHashRing(nodeNames('replica', 5));
    fc.assert(
      fc.property(fc.string(), fc.integer({ min: 1, max: 8 }), (key, count) => {
        const owners = ring.ownersOf(key, count);
        assert.equal(owners.length, Math.min(count, 5));
        assert.equal(new Set(owners).size, owners.length);
        assert.equal(owners[0], ring.ownerOf(key));
      }),
    );
  });

  test('the placement does not depend on the order nodes were added in', () => {
    const members = nodeNames('node', 6);
    const forward = new ConsistentHashRing(members);
    const backward = new ConsistentHashRing([...members].reverse());
    for (const key of keys.slice(0, 2000))
      assert.deepEqual(forward.ownersOf(key, 3), backward.ownersOf(key, 3));
  });

  test('an empty ring owns nothing', () => {
    const ring = new ConsistentHashRing();
    assert.equal(ring.ownerOf('key'), undefined);
    assert.deepEqual(ring.ownersOf('key', 3), []);
  });

  test('rejects a non-positive weight', () => {
    assert.throws(() => new ConsistentHashRing([{ id: 'a', weight: 0 }]), RangeError);
  });
});
