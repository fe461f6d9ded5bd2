import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { InMemoryCluster } from './in-memory-cluster.js';
import { RawNode } from './raw-node.js';
import { MemoryStorage } from './storage.js';
import type { ConfState, Message } from './types.js';

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (data: Uint8Array) => new TextDecoder().decode(data);
const appliedTexts = (cluster: InMemoryCluster, id: string) =>
  cluster.member(id).applied.map((e) => text(e.data));

describe('election', () => {
  test('a three-node cluster elects exactly one leader and every member learns it', () => {
    const cluster = new InMemoryCluster(['a', 'b', 'c']);
    const leader = cluster.electLeader();
    cluster.tick(3);
    const leaders = [...cluster.members.values()].filter((m) => m.node.raft.role === 'leader');
    assert.equal(leaders.length, 1);
    for (const { node } of cluster.members.values()) assert.equal(node.raft.lead, leader);
  });

  test('a follower refuses its vote to a candidate whose log is behind (§5.4.1)', () => {
    const storage = new MemoryStorage(conf(['a', 'b']));
    storage.append([{ term: 2, index: 1, kind: 'normal', data: bytes('x') }]);
    storage.setHardState({ term: 2, vote: '', commit: 0 });
    const node = new RawNode({ id: 'a', random: { next: () => 0 }, preVote: false }, storage);
    node.step(voteRequest('b', 'a', 3, 1, 1));
    const ready = node.ready();
    assert.deepEqual(
      ready.messages.map((m) => [m.type, 'reject' in m && m.reject]),
      [['voteResponse', true]],
    );
  });

  test('an isolated follower with pre-vote does not raise its term, and rejoins without disrupting', () => {
    const cluster = new InMemoryCluster(['a', 'b', 'c']);
    const leader = cluster.electLeader();
    const follower = [...cluster.members.keys()].find((id) => id !== leader)!;
    const term = cluster.member(leader).node.raft.term;
    cluster.isolate(follower);
    cluster.tick(100);
    assert.equal(cluster.member(follower).node.raft.term, term, 'pre-vote keeps the term');
    cluster.heal();
    cluster.tick(5);
    assert.equal(cluster.leader(), leader);
    assert.equal(cluster.member(leader).node.raft.term, term);
  });

  test('a leader cut off from the quorum steps down (check-quorum) and a new leader takes over', () => {
    const cluster = new InMemoryCluster(['a', 'b', 'c']);
    const oldLeader = cluster.electLeader();
    cluster.isolate(oldLeader);
    cluster.tick(40);
    assert.notEqual(cluster.member(oldLeader).node.raft.role, 'leader');
    const newLeader = cluster.leader();
    assert.ok(newLeader && newLeader !== oldLeader);
    cluster.heal();
    cluster.tick(5);
    assert.equal(cluster.member(oldLeader).node.raft.lead, newLeader);
  });

  test('every {preVote, checkQuorum} combination elects a leader and recovers from an isolated leader', () => {
    for (const preVote of [false, true]) {
      for (const checkQuorum of [false, true]) {
        const cluster = new InMemoryCluster(['a', 'b', 'c'], { preVote, checkQuorum });
        const first = cluster.electLeader();
        cluster.isolate(first);
        cluster.tick(60);
        cluster.heal();
        cluster.tick(60);
        const leaders = [...cluster.members.values()].filter((m) => m.node.raft.role === 'leader');
        assert.equal(leaders.length, 1, `preVote=${preVote} checkQuorum=${checkQuorum}`);
        assert.ok(cluster.propose(bytes('after')).ok);
        cluster.tick(2);
        for (const id of ['a', 'b', 'c']) assert.deepEqual(appliedTexts(cluster, id), ['after']);
      }
    }
  });
});

describe('replication', () => {
  test('proposals are committed and applied in the same order on every member', () => {
    const cluster = new InMemoryCluster(['a', 'b', 'c']);
    cluster.electLeader();
    for (let i = 0; i < 50; i++) assert.ok(cluster.propose(bytes(`v${i}`)).ok);
    cluster.stabilize();
    const expected = Array.from({ length: 50 }, (_, i) => `v${i}`);
    for (const id of ['a', 'b', 'c']) assert.deepEqual(appliedTexts(cluster, id), expected);
  });

  test('a single voter commits an entry only after it is persisted (never in the Ready that persists it)', () => {
    const storage = new MemoryStorage(conf(['a']));
    const node = new RawNode({ id: 'a', random: { next: () => 0 } }, storage);
    node.campaign();
    let ready = node.ready();
    storage.append(ready.entries);
    node.advance(ready);
    ready = node.ready(); // the leader's empty entry commits now
    node.advance(ready);
    assert.ok(node.propose(bytes('x')).ok);
    ready = node.ready();
    assert.equal(ready.entries.length, 1);
    assert.equal(ready.committedEntries.length, 0, 'committed before it was durable');
    storage.append(ready.entries);
    node.advance(ready);
    ready = node.ready();
    assert.deepEqual(
      ready.committedEntries.map((e) => text(e.data)),
      ['x'],
    );
  });

  test('followers that missed many entries catch up with batched, bounded messages', () => {
    const cluster = new InMemoryCluster(['a', 'b', 'c'], { maxEntriesPerMessage: 8 });
    const leader = cluster.electLeader();
    const lagging = [...cluster.members.keys()].find((id) => id !== leader)!;
    cluster.isolate(lagging);
    for (let i = 0; i < 200; i++) cluster.propose(bytes(`v${i}`));
    cluster.stabilize();
    cluster.heal();
    cluster.tick(3);
    assert.equal(appliedTexts(cluster, lagging).length, 200);
  });

  test('a previous-term entry is not committed by counting replicas (§5.4.2)', () => {
    const storage = new MemoryStorage(conf(['a', 'b', 'c']));
    storage.append([{ term: 1, index: 1, kind: 'normal', data: bytes('old') }]);
    storage.setHardState({ term: 2, vote: 'a', commit: 0 });
    const node = new RawNode({ id: 'a', random: { next: () => 0 }, preVote: false }, storage);
    node.campaign();
    node.step({ ...voteGrant('b', 'a', 3) });
    assert.equal(node.raft.role, 'leader');
    const ready = node.ready();
    storage.append(ready.entries);
    node.advance(ready);
    // b acknowledges only the old entry: a majority holds index 1, but it is from term 1.
    node.step(appendAck('b', 'a', 3, 1));
    assert.equal(node.raft.log.committed, 0);
    node.step(appendAck('b', 'a', 3, 2));
    assert.equal(node.raft.log.committed, 2, 'committing the term-3 entry commits index 1 too');
  });

  test('the commit-previous-term-by-counting mutation does commit it (the test switch works)', () => {
    const storage = new MemoryStorage(conf(['a', 'b', 'c']));
    storage.append([{ term: 1, index: 1, kind: 'normal', data: bytes('old') }]);
    storage.setHardState({ term: 2, vote: 'a', commit: 0 });
    const mutations = new Set(['commit-previous-term-by-counting'] as const);
    const node = new RawNode({ id: 'a', random: { next: () => 0 }, preVote: false, mutations }, storage);
    node.campaign();
    node.step({ ...voteGrant('b', 'a', 3) });
    const ready = node.ready();
    storage.append(ready.entries);
    node.advance(ready);
    node.step(appendAck('b', 'a', 3, 1));
    assert.equal(node.raft.log.committed, 1);
  });
});

describe('snapshots and membership', () => {
  test('a new learner catches up from a snapshot sent in chunks, is promoted, and then votes', () => {
    const cluster = new InMemoryCluster(['a', 'b', 'c'], { snapshotChunkBytes: 16 });
    const leader = cluster.electLeader();
    for (let i = 0; i < 30; i++) cluster.propose(bytes(`v${i}`));
    cluster.stabilize();
    // Every member snapshots and compacts at its applied index.
    for (const member of cluster.members.values()) {
      const applied = member.node.raft.log.applied;
      member.storage.createSnapshot(applied, member.node.raft.confState, bytes('state-'.repeat(20)));
      member.storage.compact(applied);
    }
    cluster.addMember('d', emptyConf());
    const leaderNode = cluster.member(leader).node;
    assert.ok(
      leaderNode.proposeConfChange({ changes: [{ type: 'addLearner', node: 'd' }], transition: 'auto' }).ok,
    );
    cluster.tick(3);
    const learner = cluster.member('d');
    assert.ok(learner.node.raft.log.committed >= 31, 'learner caught up via snapshot');
    assert.equal(learner.storage.snapshot().data.byteLength, 120);
    assert.deepEqual(learner.node.raft.confState.learners, ['d']);
    cluster.tick(2);
    assert.ok(
      leaderNode.proposeConfChange({ changes: [{ type: 'addVoter', node: 'd' }], transition: 'auto' }).ok,
    );
    cluster.tick(3);
    for (const member of cluster.members.values())
      assert.deepEqual(member.node.raft.confState.voters, ['a', 'b', 'c', 'd']);
  });

  test('replacing two voters at once goes through a joint configuration and leaves it automatically', () => {
    const cluster = new InMemoryCluster(['a', 'b', 'c']);
    const leader = cluster.electLeader();
    cluster.addMember('d', emptyConf());
    cluster.addMember('e', emptyConf());
    const leaderNode = cluster.member(leader).node;
    const others = ['a', 'b', 'c'].filter((id) => id !== leader);
    const result = leaderNode.proposeConfChange({
      changes: [
        { type: 'removeNode', node: others[0]! },
        { type: 'addVoter', node: 'd' },
        { type: 'addVoter', node: 'e' },
      ],
      transition: 'auto',
    });
    assert.ok(result.ok);
    cluster.tick(1);
    cluster.tick(5);
    const final = cluster.member(cluster.leader()!).node.raft.confState;
    assert.deepEqual(final.votersOutgoing, []);
    assert.deepEqual(final.voters, [leader, others[1]!, 'd', 'e'].sort());
    assert.ok(cluster.propose(bytes('after-joint')).ok);
    cluster.tick(2);
    assert.deepEqual(appliedTexts(cluster, 'e').slice(-1), ['after-joint']);
  });

  test('a removed leader steps down and the rest elect a new one', () => {
    const cluster = new InMemoryCluster(['a', 'b', 'c']);
    const leader = cluster.electLeader();
    cluster.tick(1);
    assert.ok(
      cluster
        .member(leader)
        .node.proposeConfChange({ changes: [{ type: 'removeNode', node: leader }], transition: 'auto' }).ok,
    );
    cluster.tick(1);
    assert.notEqual(cluster.member(leader).node.raft.role, 'leader');
    cluster.isolate(leader);
    cluster.tick(50);
    const next = cluster.leader();
    assert.ok(next && next !== leader);
  });

  test('a second membership change is refused while one is pending', () => {
    const cluster = new InMemoryCluster(['a', 'b', 'c']);
    const leader = cluster.electLeader();
    cluster.tick(1);
    const node = cluster.member(leader).node;
    assert.ok(
      node.proposeConfChange({ changes: [{ type: 'addLearner', node: 'x' }], transition: 'auto' }).ok,
    );
    const second = node.proposeConfChange({
      changes: [{ type: 'addLearner', node: 'y' }],
      transition: 'auto',
    });
    assert.equal(second.ok ? 'ok' : second.reason, 'confChangePending');
  });
});

describe('leadership transfer and reads', () => {
  test('leadership transfer hands over to the target within an election timeout', () => {
    const cluster = new InMemoryCluster(['a', 'b', 'c']);
    const leader = cluster.electLeader();
    const target = [...cluster.members.keys()].find((id) => id !== leader)!;
    assert.ok(cluster.member(leader).node.transferLeadership(target));
    cluster.tick(2);
    assert.equal(cluster.leader(), target);
  });

  test('ReadIndex answers after a quorum confirms leadership, and never on an isolated leader', () => {
    const cluster = new InMemoryCluster(['a', 'b', 'c']);
    const leader = cluster.electLeader();
    cluster.tick(1);
    const node = cluster.member(leader).node;
    assert.ok(cluster.propose(bytes('w')).ok);
    cluster.stabilize();
    assert.ok(node.readIndex('r1').ok);
    const first = node.ready();
    assert.equal(first.readStates.length, 0, 'not before the heartbeat round');
    node.advance(first);
    deliver(cluster, first.messages);
    const states = drainReadStates(cluster, leader);
    assert.deepEqual(states, [{ index: node.raft.log.committed, context: 'r1' }]);
    cluster.isolate(leader);
    assert.ok(node.readIndex('r2').ok);
    cluster.stabilize();
    assert.equal(node.raft.readOnly.size(), 1, 'an isolated leader cannot confirm r2');
  });

  test('a follower forwards ReadIndex to the leader and gets the read point back', () => {
    const cluster = new InMemoryCluster(['a', 'b', 'c']);
    const leader = cluster.electLeader();
    cluster.tick(1);
    const follower = [...cluster.members.keys()].find((id) => id !== leader)!;
    const node = cluster.member(follower).node;
    assert.ok(node.readIndex('f1').ok);
    const sent = node.ready();
    assert.deepEqual(
      sent.messages.map((m) => [m.type, m.to]),
      [['readIndex', leader]],
    );
    node.advance(sent);
    deliver(cluster, sent.messages);
    // Leader heartbeats, followers answer, leader replies to the follower.
    const states = drainReadStates(cluster, follower);
    assert.equal(states.length, 1);
    assert.equal(states[0]!.context, 'f1');
    assert.equal(states[0]!.index, cluster.member(leader).node.raft.log.committed);
  });
});

describe('groups', () => {
  test('a message for another group is ignored', () => {
    const storage = new MemoryStorage(conf(['a', 'b']));
    const node = new RawNode({ id: 'a', group: 'g1', random: { next: () => 0 } }, storage);
    node.step({ ...voteRequest('b', 'a', 5, 0, 0), group: 'g2' });
    assert.equal(node.raft.term, 0);
    assert.equal(node.hasReady(), false);
  });
});

function conf(voters: string[]): ConfState {
  return { voters, votersOutgoing: [], learners: [], learnersNext: [], autoLeave: false };
}

function emptyConf(): ConfState {
  return conf([]);
}

function voteRequest(
  from: string,
  to: string,
  term: number,
  lastLogIndex: number,
  lastLogTerm: number,
): Message {
  return { type: 'vote', group: 'default', from, to, term, lastLogIndex, lastLogTerm, transfer: false };
}

function voteGrant(from: string, to: string, term: number): Message {
  return { type: 'voteResponse', group: 'default', from, to, term, reject: false };
}

function appendAck(from: string, to: string, term: number, index: number): Message {
  return {
    type: 'appendResponse',
    group: 'default',
    from,
    to,
    term,
    reject: false,
    index,
    rejectHint: 0,
    hintTerm: 0,
  };
}

/** Delivers messages and runs every member's Ready loop by hand, collecting `id`'s read states. */
function drainReadStates(cluster: InMemoryCluster, id: string): { index: number; context: string }[] {
  const states: { index: number; context: string }[] = [];
  for (let round = 0; round < 20; round++) {
    for (const [memberId, member] of cluster.members) {
      if (!member.node.hasReady()) continue;
      const ready = member.node.ready();
      member.storage.append(ready.entries);
      if (memberId === id) states.push(...ready.readStates);
      member.node.advance(ready);
      deliver(cluster, ready.messages);
    }
  }
  return states;
}

function deliver(cluster: InMemoryCluster, messages: readonly Message[]): void {
  for (const message of messages) cluster.members.get(message.to)?.node.step(message);
}
