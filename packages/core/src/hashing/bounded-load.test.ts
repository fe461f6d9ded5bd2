import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { BoundedLoadHash } from './bounded-load.js';

describe('BoundedLoadHash', () => {
  test('no node ever holds more than ceil(c·K/N) keys', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 1, max: 2000 }),
        fc.double({ min: 1, max: 2, noNaN: true }),
        (nodeCount, keyCount, loadFactor) => {
          const nodes = Array.from({ length: nodeCount }, (_, index) => `node-${index}`);
          const placement = new BoundedLoadHash(nodes, { loadFactor, virtualNodesPerWeight: 40 });
          for (let index = 0; index < keyCount; index++) {
            placement.assign(`key:${index}`);
            const bound = Math.ceil((loadFactor * (index + 1)) / nodeCount);
            for (const node of nodes) assert.ok(placement.loadOf(node) <= bound, `${node} over ${bound}`);
          }
        },
      ),
      { numRuns: 30 },
    );
  });

  test('with a load factor of 1 the split is as even as it can be', () => {
    const nodes = ['a', 'b', 'c'];
    const placement = new BoundedLoadHash(nodes, { loadFactor: 1 });
    for (let index = 0; index < 300; index++) placement.assign(`key:${index}`);
    assert.deepEqual(
      nodes.map((node) => placement.loadOf(node)),
      [100, 100, 100],
    );
  });

  test('assigning a key twice keeps its node, and release frees the slot', () => {
    const placement = new BoundedLoadHash(['a', 'b']);
    const owner = placement.assign('session');
    assert.equal(placement.assign('session'), owner);
    assert.equal(placement.assignedCount, 1);
    assert.equal(placement.release('session'), true);
    assert.equal(placement.ownerOf('session'), undefined);
    assert.equal(placement.loadOf(owner!), 0);
    assert.equal(placement.release('session'), false);
  });

  test('removing a node moves only its keys and keeps every load within the new bound', () => {
    const nodes = ['a', 'b', 'c', 'd'];
    const placement = new BoundedLoadHash(nodes, { loadFactor: 1.25 });
    const keys = Array.from({ length: 1000 }, (_, index) => `key:${index}`);
    for (const key of keys) placement.assign(key);
    const before = new Map(keys.map((key) => [key, placement.ownerOf(key)]));
    const moved = placement.removeNode('b');
    assert.deepEqual(new Set(moved), new Set(keys.filter((key) => before.get(key) === 'b')));
    for (const key of keys) {
      if (before.get(key) !== 'b') assert.equal(placement.ownerOf(key), before.get(key));
      else assert.notEqual(placement.ownerOf(key), 'b');
    }
    for (const node of placement.nodes)
      assert.ok(placement.loadOf(node) <= placement.capacityFor(keys.length));
  });

  test('rejects a load factor below 1', () => {
    assert.throws(() => new BoundedLoadHash(['a'], { loadFactor: 0.9 }), RangeError);
  });
});
