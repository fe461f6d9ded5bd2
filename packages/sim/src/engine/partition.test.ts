import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  type DirectedLink,
  type Partition,
  partitionBridge,
  partitionHalves,
  partitionIsolate,
  partitionMajorityMinority,
  partitionOneWay,
} from './partition.js';
import { Prng } from './prng.js';

function clusterOf(size: number): string[] {
  return Array.from({ length: size }, (_, index) => `n${index + 1}`);
}

function isBlocked(partition: Partition, from: string, to: string): boolean {
  return partition.blockedLinks.some((link) => link.from === from && link.to === to);
}

/** Groups of nodes that can reach each other both ways (connected through open links). */
function sidesOf(partition: Partition, nodes: readonly string[]): string[][] {
  const sides: string[][] = [];
  for (const node of nodes) {
    const side = sides.find((members) =>
      members.every((member) => !isBlocked(partition, member, node) && !isBlocked(partition, node, member)),
    );
    if (side) side.push(node);
    else sides.push([node]);
  }
  return sides;
}

function assertWellFormed(links: readonly DirectedLink[]): void {
  const keys = links.map((link) => `${link.from}>${link.to}`);
  assert.equal(new Set(keys).size, keys.length, 'each link once');
  assert.deepEqual(keys, [...keys].sort(), 'sorted');
  for (const link of links) assert.notEqual(link.from, link.to, 'no self-links');
}

const clusterSize = fc.integer({ min: 3, max: 9 });

describe('partitions', () => {
  test('halves splits into two groups of ⌊n/2⌋ and ⌈n/2⌉ that cannot talk either way', () => {
    fc.assert(
      fc.property(fc.nat(), clusterSize, (seed, size) => {
        const nodes = clusterOf(size);
        const partition = partitionHalves(nodes, new Prng(seed));
        assertWellFormed(partition.blockedLinks);
        const sizes = sidesOf(partition, nodes)
          .map((side) => side.length)
          .sort((a, b) => a - b);
        assert.deepEqual(sizes, [Math.floor(size / 2), Math.ceil(size / 2)]);
        assert.equal(partition.blockedLinks.length, 2 * Math.floor(size / 2) * Math.ceil(size / 2));
      }),
      { numRuns: 100 },
    );
  });

  test('majority-minority leaves a strict majority together', () => {
    fc.assert(
      fc.property(fc.nat(), clusterSize, (seed, size) => {
        const nodes = clusterOf(size);
        const partition = partitionMajorityMinority(nodes, new Prng(seed));
        assertWellFormed(partition.blockedLinks);
        const sides = sidesOf(partition, nodes).map((side) => side.length);
        assert.equal(sides.length, 2);
        assert.ok(Math.max(...sides) > size / 2);
      }),
      { numRuns: 100 },
    );
  });

  test('bridge leaves one node that reaches both sides while the sides cannot reach each other', () => {
    fc.assert(
      fc.property(fc.nat(), clusterSize, (seed, size) => {
        const nodes = clusterOf(size);
        const partition = partitionBridge(nodes, new Prng(seed));
        assertWellFormed(partition.blockedLinks);
        const touched = new Set(partition.blockedLinks.flatMap((link) => [link.from, link.to]));
        const bridges = nodes.filter((node) => !touched.has(node));
        assert.equal(bridges.length, 1);
        assert.match(partition.description, new RegExp(`bridge ${bridges[0]}\\)`));
        const others = nodes.filter((node) => node !== bridges[0]);
        assert.equal(sidesOf(partition, others).length, 2);
      }),
      { numRuns: 100 },
    );
  });

  test('one-way blocks only its direction and isolate cuts a node off both ways', () => {
    const oneWay = partitionOneWay(['n1', 'n2'], 'n3');
    assert.deepEqual(oneWay.blockedLinks, [
      { from: 'n1', to: 'n3' },
      { from: 'n2', to: 'n3' },
    ]);
    const isolated = partitionIsolate('n2', clusterOf(3));
    assert.deepEqual(
      isolated.blockedLinks.map((link) => `${link.from}>${link.to}`),
      ['n1>n2', 'n2>n1', 'n2>n3', 'n3>n2'],
    );
    assert.equal(isolated.description, 'n2 isolated');
  });

  test('the same seed gives the same partition', () => {
    const nodes = clusterOf(5);
    assert.deepEqual(partitionHalves(nodes, new Prng(8)), partitionHalves(nodes, new Prng(8)));
    assert.throws(() => partitionBridge(['n1', 'n2'], new Prng(1)), /at least 3/);
    assert.throws(() => partitionHalves(['n1', 'n1'], new Prng(1)), /distinct/);
  });
});
