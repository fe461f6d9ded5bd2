import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Entry, Snapshot } from '@synod/raft';
import { startDriverCluster, waitFor, waitForLeader } from './driver.fixture.js';
import type { SnapshotBuilder, StateMachine } from './raft-driver.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

class ListStateMachine implements StateMachine {
  readonly values: string[] = [];
  apply(entry: Entry): void {
    if (entry.kind !== 'normal' || entry.data.byteLength === 0) return;
    this.values.push(decoder.decode(entry.data));
    this.indexes.push(entry.index);
  }
  restore(snapshot: Snapshot): void {
    const held = JSON.parse(decoder.decode(snapshot.data)) as { values: string[]; indexes: number[] };
    this.values.splice(0, this.values.length, ...held.values);
    this.indexes.splice(0, this.indexes.length, ...held.indexes);
  }
  /** Snapshots made; the first `staleSnapshots` of them turn stale halfway (as a compaction would). */
  snapshotsBegun = 0;
  staleSnapshots = 0;
  /** Values applied with the index of their entry, to check what a snapshot holds. */
  readonly indexes: number[] = [];
  /** Built over SNAPSHOT_STEPS steps, the values as they were when it began. */
  beginSnapshot(): SnapshotBuilder {
    const held = { values: [...this.values], indexes: [...this.indexes] };
    const stale = ++this.snapshotsBegun <= this.staleSnapshots;
    let steps = 0;
    return {
      step: () => ++steps >= SNAPSHOT_STEPS,
      get stale() {
        return stale && steps >= 2;
      },
      finish: () => encoder.encode(JSON.stringify(held)),
    };
  }
}

const SNAPSHOT_STEPS = 5;

function startCluster(ids: string[]) {
  return startDriverCluster(ids, () => new ListStateMachine());
}

describe('RaftDriver', () => {
  test('three drivers elect a leader, and proposals made on any member are applied everywhere in one order', async () => {
    const cluster = startCluster(['a', 'b', 'c']);
    try {
      await waitForLeader(cluster.drivers);
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

  test('a snapshot built over several turns holds the state at its index while entries keep applying; a stale one is retried', async () => {
    const cluster = startCluster(['a', 'b', 'c']);
    for (const machine of cluster.machines.values()) machine.staleSnapshots = 2;
    try {
      const leader = await waitForLeader(cluster.drivers);
      for (let i = 0; i < 400; i++) {
        leader.propose(encoder.encode(`v${i}`));
        if (i % 40 === 0) await new Promise((resolve) => setImmediate(resolve));
      }
      await waitFor(
        () => [...cluster.machines.values()].every((m) => m.values.length === 400),
        'every member to apply',
      );
      for (const id of cluster.drivers.keys()) {
        const machine = cluster.machines.get(id)!;
        const memory = cluster.storages.get(id)!.memory;
        await waitFor(() => memory.snapshot().metadata.index > 1, `a snapshot on ${id}`);
        const snapshot = memory.snapshot();
        const held = JSON.parse(decoder.decode(snapshot.data)) as { values: string[] };
        const expected = machine.values.filter((_, i) => machine.indexes[i]! <= snapshot.metadata.index);
        assert.ok(expected.length > 0, `snapshot at ${snapshot.metadata.index} holds values`);
        assert.deepEqual(held.values, expected, `snapshot at ${snapshot.metadata.index} on ${id}`);
        assert.ok(machine.snapshotsBegun > 2, `stale snapshots were retried on ${id}`);
      }
    } finally {
      cluster.stop();
    }
  });

  test('once the state outgrows the log, a snapshot waits until the log since the last one is as large as it', async () => {
    const cluster = startCluster(['a', 'b', 'c']);
    try {
      const leader = await waitForLeader(cluster.drivers);
      const proposals = 1_500;
      for (let i = 0; i < proposals; i++) {
        leader.propose(encoder.encode(`v${i}`));
        if (i % 40 === 0) await new Promise((resolve) => setImmediate(resolve));
      }
      await waitFor(
        () => [...cluster.machines.values()].every((m) => m.values.length === proposals),
        'every member to apply',
      );
      for (const [id, storage] of cluster.storages) {
        const machine = cluster.machines.get(id)!;
        const logBytesBetween = (after: number, through: number) =>
          machine.values.reduce((sum, value, i) => {
            const index = machine.indexes[i]!;
            return index > after && index <= through ? sum + encoder.encode(value).byteLength : sum;
          }, 0);
        const indexes = storage.saved.map((snapshot) => snapshot.metadata.index);
        assert.ok(storage.saved.length >= 2, `snapshots at ${indexes.join(', ')} on ${id}`);
        for (let i = 1; i < storage.saved.length; i++) {
          const previous = storage.saved[i - 1]!;
          const current = storage.saved[i]!;
          assert.ok(
            current.metadata.index - previous.metadata.index >= 50,
            `every 50 entries at least: ${indexes}`,
          );
          const logBytes = logBytesBetween(previous.metadata.index, current.metadata.index);
          assert.ok(
            logBytes >= previous.data.byteLength,
            `snapshot at ${current.metadata.index} after ${logBytes} log bytes, the previous one was ${previous.data.byteLength} bytes`,
          );
        }
        // Without the wait it would have been one per 50 entries.
        assert.ok(storage.saved.length < proposals / 200, `snapshots at ${indexes.join(', ')} on ${id}`);
      }
    } finally {
      cluster.stop();
    }
  });
});
