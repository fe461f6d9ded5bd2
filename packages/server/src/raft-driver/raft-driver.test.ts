import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Entry, Snapshot } from '@synod/raft';
import { startDriverCluster, waitFor } from './driver.fixture.js';
import type { StateMachine } from './raft-driver.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

class ListStateMachine implements StateMachine {
  readonly values: string[] = [];
  apply(entry: Entry): void {
    if (entry.kind === 'normal' && entry.data.byteLength > 0) this.values.push(decoder.decode(entry.data));
  }
  restore(snapshot: Snapshot): void {
    this.values.length = 0;
    this.values.push(...(JSON.parse(decoder.decode(snapshot.data)) as string[]));
  }
  snapshotData(): Uint8Array {
    return encoder.encode(JSON.stringify(this.values));
  }
}

function startCluster(ids: string[]) {
  return startDriverCluster(ids, () => new ListStateMachine());
}

describe('RaftDriver', () => {
  test('three drivers elect a leader, and proposals made on any member are applied everywhere in one order', async () => {
    const cluster = startCluster(['a', 'b', 'c']);
    try {
      await waitFor(
        () => [...cluster.drivers.values()].some((d) => d.node.raft.role === 'leader'),
        'a leader',
      );
      const follower = [...cluster.drivers.values()].find((d) => d.node.raft.role !== 'leader')!;
      await waitFor(() => follower.node.raft.lead !== '', 'the follower to learn the leader');
      for (let i = 0; i < 120; i++) {
        const driver =
          i % 2 === 0 ? follower : [...cluster.drivers.values()].find((d) => d.node.raft.role === 'leader')!;
        driver.propose(encoder.encode(`v${i}`));
      }
      await waitFor(
        () => [...cluster.machines.values()].every((m) => m.values.length === 120),
        'every member to apply',
      );
      const orders = [...cluster.machines.values()].map((m) => m.values.join(','));
      assert.equal(new Set(orders).size, 1, 'members applied different orders');
    } finally {
      cluster.stop();
    }
  });

  test('readIndex resolves on leader and followers once the read point is applied', async () => {
    const cluster = startCluster(['a', 'b', 'c']);
    try {
      await waitFor(
        () => [...cluster.drivers.values()].every((d) => d.node.raft.lead !== ''),
        'a known leader',
      );
      const leader = [...cluster.drivers.values()].find((d) => d.node.raft.role === 'leader')!;
      leader.propose(encoder.encode('x'));
      for (const driver of cluster.drivers.values()) {
        const index = await driver.readIndex();
        assert.ok(driver.appliedIndex >= index);
      }
    } finally {
      cluster.stop();
    }
  });
});
