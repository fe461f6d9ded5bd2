// Many Raft groups in one process: every message carries its group id, so one transport per
// pair of processes can carry all groups, batched, and each group elects and replicates on its own.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { seededRandom } from './in-memory-cluster.js';
import { RawNode } from './raw-node.js';
import { MemoryStorage } from './storage.js';
import type { Message } from './types.js';

const PROCESSES = ['p1', 'p2', 'p3'];
const GROUPS = ['g0', 'g1', 'g2', 'g3', 'g4', 'g5', 'g6', 'g7'];

interface GroupMember {
  readonly node: RawNode;
  readonly storage: MemoryStorage;
  readonly applied: string[];
}

test('eight groups share three processes and one batched link per process pair', () => {
  const conf = { voters: PROCESSES, votersOutgoing: [], learners: [], learnersNext: [], autoLeave: false };
  const processes = new Map<string, Map<string, GroupMember>>();
  let seed = 1;
  for (const id of PROCESSES) {
    const groups = new Map<string, GroupMember>();
    for (const group of GROUPS) {
      const storage = new MemoryStorage(conf);
      groups.set(group, {
        node: new RawNode({ id, group, random: seededRandom(seed++) }, storage),
        storage,
        applied: [],
      });
    }
    processes.set(id, groups);
  }
  /** One outbox per directed process pair: all groups' messages travel together. */
  let links = new Map<string, Message[]>();
  let batchesSent = 0;
  let messagesSent = 0;
  const pump = () => {
    for (const [id, groups] of processes) {
      for (const member of groups.values()) {
        if (!member.node.hasReady()) continue;
        const ready = member.node.ready();
        member.storage.append(ready.entries);
        if (ready.hardState) member.storage.setHardState(ready.hardState);
        for (const entry of ready.committedEntries) {
          if (entry.data.byteLength > 0) member.applied.push(new TextDecoder().decode(entry.data));
        }
        for (const message of ready.messages) {
          const key = `${id}->${message.to}`;
          links.set(key, [...(links.get(key) ?? []), message]);
        }
        member.node.advance(ready);
      }
    }
    const delivering = links;
    links = new Map();
    for (const [key, batch] of delivering) {
      batchesSent++;
      messagesSent += batch.length;
      const to = key.split('->')[1]!;
      // The receiving process routes each message to its group by the group id it carries.
      for (const message of batch) processes.get(to)!.get(message.group)!.node.step(message);
    }
  };
  for (let tick = 0; tick < 60; tick++) {
    for (const groups of processes.values()) for (const member of groups.values()) member.node.tick();
    for (let round = 0; round < 5; round++) pump();
  }
  for (const group of GROUPS) {
    const leaders = PROCESSES.filter((id) => processes.get(id)!.get(group)!.node.raft.role === 'leader');
    assert.equal(leaders.length, 1, `group ${group} has ${leaders.length} leaders`);
    assert.ok(
      processes
        .get(leaders[0]!)!
        .get(group)!
        .node.propose(new TextEncoder().encode(`hello ${group}`)).ok,
    );
  }
  for (let round = 0; round < 10; round++) pump();
  for (const group of GROUPS) {
    for (const id of PROCESSES) assert.deepEqual(processes.get(id)!.get(group)!.applied, [`hello ${group}`]);
  }
  assert.ok(messagesSent > batchesSent * 2, 'messages of several groups share each batch');
});
