import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { measureKeyMovement } from './movement.js';
import { RendezvousHash } from './rendezvous.js';

const keys = Array.from({ length: 20_000 }, (_, index) => `key:${index}`);

describe('RendezvousHash', () => {
  test('splits keys evenly among equal nodes', () => {
    const hrw = new RendezvousHash(['a', 'b', 'c', 'd']);
    const counts = new Map<string | undefined, number>();
    for (const key of keys) counts.set(hrw.ownerOf(key), (counts.get(hrw.ownerOf(key)) ?? 0) + 1);
    for (const count of counts.values()) assert.ok(Math.abs(count - 5000) < 5 * Math.sqrt(5000 * 0.75));
  });

  test('gives each node a share of keys proportional to its weight', () => {
    const hrw = new RendezvousHash([
      { id: 'a', weight: 1 },
      { id: 'b', weight: 2 },
      { id: 'c', weight: 5 },
    ]);
    const share = (id: string) => keys.filter((key) => hrw.ownerOf(key) === id).length / keys.length;
    assert.ok(Math.abs(share('a') - 1 / 8) < 0.015, `a: ${share('a')}`);
    assert.ok(Math.abs(share('b') - 2 / 8) < 0.015, `b: ${share('b')}`);
    assert.ok(Math.abs(share('c') - 5 / 8) < 0.015, `c: ${share('c')}`);
  });

  test('when a node joins, keys move only to it', () => {
    fc.assert(
      fc.property(fc.boolean(), fc.integer({ min: 1, max: 10 }), (weighted, nodeCount) => {
        const members = Array.from({ length: nodeCount }, (_, index) => ({
          id: `n${index}`,
          weight: weighted ? 1 + index : 1,
        }));
        const before = new RendezvousHash(members);
        const after = new RendezvousHash([...members, { id: 'joining', weight: weighted ? 2 : 1 }]);
        const movement = measureKeyMovement(
          keys.slice(0, 3000),
          (k) => before.ownerOf(k),
          (k) => after.ownerOf(k),
        );
        assert.ok([...movement.movedTo.keys()].every((owner) => owner === 'joining'));
      }),
      { numRuns: 20 },
    );
  });

  test('ownersOf ranks distinct nodes, the owner first', () => {
    const hrw = new RendezvousHash(['a', 'b', 'c', 'd', 'e']);
    fc.assert(
      fc.property(fc.string(), (key) => {
        const owners = hrw.ownersOf(key, 3);
        assert.equal(new Set(owners).size, 3);
        assert.equal(owners[0], hrw.ownerOf(key));
      }),
    );
  });

  test('removing a node hands its keys on and leaves the others in place', () => {
    const before = new RendezvousHash(['a', 'b', 'c']);
    const after = new RendezvousHash(['a', 'b', 'c']);
    assert.equal(after.remove('b'), true);
    const movement = measureKeyMovement(
      keys,
      (k) => before.ownerOf(k),
      (k) => after.ownerOf(k),
    );
    assert.deepEqual([...movement.movedFrom.keys()], ['b']);
    assert.equal(after.remove('b'), false);
  });
});
