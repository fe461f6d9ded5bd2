// Linearizable reads (Raft thesis §6.4): ReadIndex waits for an entry of the leader's own term to
// commit, then for a heartbeat round acknowledged by a quorum; lease reads skip the round only while
// followers are bound to refuse votes. A read that can no longer be served is dropped, never lost.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { messagesOf, Network } from './network.fixture.js';
import { ReadOnlyQueue } from './read-only.js';
import type { Message } from './types.js';
import { RaftInvariantError } from './types.js';

const ackTo = (leader: string) => (message: Message) =>
  message.type === 'appendResponse' && message.to === leader;

describe('read queue', () => {
  test('a quorum for a later read releases every read queued before it, in order', () => {
    const queue = new ReadOnlyQueue(8);
    queue.add('r1', 5, 'a');
    queue.add('r2', 6, 'b');
    queue.add('r3', 6, 'a');
    assert.equal(queue.lastContext(), 'r3');
    assert.deepEqual(
      queue.releaseThrough('r2').map((read) => [read.context, read.index, read.requester]),
      [
        ['r1', 5, 'a'],
        ['r2', 6, 'b'],
      ],
    );
    assert.deepEqual(queue.releaseThrough('r2'), [], 'released once');
    assert.equal(queue.size(), 1);
  });

  test('the queue is bounded and refuses a context twice', () => {
    const queue = new ReadOnlyQueue(1);
    queue.add('r1', 1, 'a');
    assert.equal(queue.full(), true);
    assert.throws(() => queue.add('r2', 1, 'a'), RaftInvariantError);
    assert.deepEqual(
      queue.drain().map((read) => read.context),
      ['r1'],
    );
    queue.add('r1', 2, 'a');
    assert.throws(() => queue.add('r1', 2, 'a'), RaftInvariantError);
  });
});

describe('ReadIndex', () => {
  test('a new leader serves no read before an entry of its term commits; reads queued meanwhile are served after', () => {
    const net = new Network(['a', 'b', 'c']);
    net.fate = (message) => (ackTo('a')(message) ? 'hold' : 'deliver');
    net.campaign('a');
    assert.equal(net.leader(), 'a');
    assert.ok(net.node('a').readIndex('own').ok);
    assert.ok(net.node('b').readIndex('forwarded').ok);
    net.tick(3); // heartbeat rounds complete, but the empty entry of term 1 is not committed
    assert.deepEqual(net.peer('a').readStates, []);
    assert.deepEqual(net.peer('b').readStates, []);
    assert.equal(net.node('a').raft.log.committed, 0);

    net.fate = () => 'deliver';
    net.release();
    net.stabilize();
    const committed = net.node('a').raft.log.committed;
    assert.ok(committed >= 1);
    assert.deepEqual(net.peer('a').readStates, [{ index: committed, context: 'own' }]);
    assert.deepEqual(net.peer('b').readStates, [{ index: committed, context: 'forwarded' }]);
  });

  test('the read point of a new leader covers a write the previous leader committed but never announced', () => {
    const net = new Network(['a', 'b', 'c']);
    net.campaign('a');
    const write = net.propose('w');
    net.processReady('a');
    net.deliver(); // b and c receive the entry
    net.processReady('b');
    net.processReady('c');
    net.deliver(); // a counts their acknowledgements and commits, then is cut off before telling anyone
    assert.equal(net.node('a').raft.log.committed, write);
    net.isolate('a');
    assert.ok(net.node('b').raft.log.committed < write, 'b does not know the write is committed');

    net.fate = (message) => (ackTo('b')(message) || ackTo('c')(message) ? 'hold' : 'deliver');
    net.tick(25); // c's and b's lease on a expires, one of them wins
    const leader = net.leader();
    assert.ok(leader === 'b' || leader === 'c', `leader ${leader}`);
    assert.ok(net.node(leader).readIndex('after-failover').ok);
    net.tick(2);
    assert.deepEqual(net.peer(leader).readStates, [], 'its commit index still predates the write');
    net.fate = () => 'deliver';
    net.release();
    net.stabilize();
    const [state] = net.peer(leader).readStates;
    assert.ok(state && state.index >= write, `read point ${state?.index} misses write ${write}`);
  });

  test('a leader that loses its quorum drops pending reads: its own in droppedReads, forwarded ones with index -1', () => {
    const net = new Network(['a', 'b', 'c']);
    net.campaign('a');
    net.fate = (message) => (message.type === 'heartbeatResponse' ? 'drop' : 'deliver');
    assert.ok(net.node('a').readIndex('own').ok);
    assert.ok(net.node('b').readIndex('forwarded').ok);
    net.stabilize();
    assert.equal(net.node('a').raft.readOnly.size(), 2, 'both wait for a quorum that never answers');
    net.tick(20); // check-quorum; a new leader counts everyone as active in its first round
    assert.notEqual(net.node('a').raft.role, 'leader');
    assert.deepEqual(net.peer('a').droppedReads, ['own']);
    assert.deepEqual(net.peer('b').droppedReads, ['forwarded']);
    const refusals = messagesOf(net.sent, 'readIndexResponse', 'a', 'b');
    assert.deepEqual(
      refusals.map((m) => m.index),
      [-1],
    );
    assert.deepEqual(net.peer('a').readStates, []);
  });

  test('a deposed leader refuses the reads waiting for its first commit, and a requester that won meanwhile drops its own', () => {
    const net = new Network(['a', 'b', 'c'], { checkQuorum: false });
    net.fate = (message) => (ackTo('a')(message) ? 'hold' : 'deliver');
    net.campaign('a');
    assert.ok(net.node('a').readIndex('from-a').ok);
    assert.ok(net.node('b').readIndex('from-b').ok);
    assert.ok(net.node('c').readIndex('from-c').ok);
    net.stabilize();
    net.held = [];
    // b's higher term deposes a before it committed anything; a's refusals reach b once b leads.
    net.fate = (message) => (message.type === 'readIndexResponse' ? 'hold' : 'deliver');
    net.campaign('b');
    assert.equal(net.leader(), 'b');
    net.fate = () => 'deliver';
    net.release();
    net.stabilize();
    assert.deepEqual(net.peer('a').droppedReads, ['from-a']);
    assert.deepEqual(net.peer('b').droppedReads, ['from-b']);
    assert.deepEqual(net.peer('c').droppedReads, ['from-c']);
    for (const id of ['a', 'b', 'c']) assert.deepEqual(net.peer(id).readStates, []);
  });

  test('a context already waiting for the first commit is refused as a duplicate, so no accepted read is silently lost', () => {
    const net = new Network(['a', 'b', 'c']);
    net.fate = (message) => (ackTo('a')(message) ? 'hold' : 'deliver');
    net.campaign('a');
    assert.ok(net.node('a').readIndex('same').ok);
    const second = net.node('a').readIndex('same');
    assert.deepEqual(second, { ok: false, reason: 'duplicateContext' });
    net.fate = () => 'deliver';
    net.release();
    net.stabilize();
    assert.deepEqual(
      net.peer('a').readStates.map((s) => s.context),
      ['same'],
    );
  });

  test('a follower that knows no leader refuses a read at once', () => {
    const net = new Network(['a', 'b', 'c']);
    assert.deepEqual(net.node('b').readIndex('r'), { ok: false, reason: 'noLeader' });
  });
});

describe('lease reads', () => {
  /** Three members in lease mode with a leader whose lease is fresh. */
  function leasedCluster() {
    const net = new Network(['a', 'b', 'c'], { readMode: 'lease' });
    net.tick(10); // in lease mode a freshly booted voter refuses votes for an election timeout
    if (!net.leader()) net.campaign('a');
    net.tick(1);
    const leader = net.leader()!;
    const [near, far] = ['a', 'b', 'c'].filter((id) => id !== leader) as [string, string];
    return { net, leader, near, far };
  }

  test('a leader whose quorum echoed recently serves a read at once, without a heartbeat round', () => {
    const { net, leader } = leasedCluster();
    const before = net.sent.length;
    assert.ok(net.node(leader).readIndex('fast').ok);
    net.stabilize();
    assert.deepEqual(net.peer(leader).readStates, [
      { index: net.node(leader).raft.log.committed, context: 'fast' },
    ]);
    assert.equal(
      messagesOf(net.sent.slice(before), 'heartbeat').filter((m) => m.context === 'fast').length,
      0,
    );
  });

  test('the lease expires electionTicks − leaseDriftTicks after the last echo', () => {
    const { net, leader } = leasedCluster();
    net.isolate(leader);
    net.tick(7);
    net.node(leader).readIndex('fresh');
    net.tick(1); // now the last echo is 8 ticks old
    net.node(leader).readIndex('stale');
    net.stabilize();
    assert.equal(net.node(leader).raft.role, 'leader');
    assert.deepEqual(
      net.peer(leader).readStates.map((s) => s.context),
      ['fresh'],
      'an expired lease falls back to a round that cannot finish',
    );
  });

  test('lease reads are refused during a leadership transfer: the read waits for a heartbeat round', () => {
    const { net, leader, near, far } = leasedCluster();
    net.cut(leader, far);
    assert.ok(net.node(leader).transferLeadership(far));
    assert.ok(net.node(leader).readIndex('during-transfer').ok);
    const raft = net.node(leader).raft;
    assert.deepEqual(raft.readStates, [], 'not served from the lease');
    assert.ok(
      raft.messages.some((m) => m.type === 'heartbeat' && m.context === 'during-transfer' && m.to === near),
      'a quorum round confirms it instead',
    );
    net.stabilize();
    assert.deepEqual(
      net.peer(leader).readStates.map((s) => s.context),
      ['during-transfer'],
    );
  });

  test('a rebooted voter refuses votes for an election timeout, so no leader is elected while the old lease holds', () => {
    const { net, leader, near, far } = leasedCluster();
    net.isolate(leader); // the leader keeps its lease for 8 more ticks
    net.restart(near); // near forgets it follows the leader
    net.campaign(far);
    assert.equal(net.leader(), leader, `${near} refused ${far} right after booting`);
    for (let tick = 0; tick < 40; tick++) {
      net.tick();
      const context = `read-${tick}`;
      net.node(leader).readIndex(context);
      const servedFromLease = net.node(leader).raft.readStates.some((s) => s.context === context);
      const otherLeader = [near, far].some((id) => net.node(id).raft.role === 'leader');
      assert.ok(!(servedFromLease && otherLeader), `tick ${tick}: a lease read next to a newer leader`);
      net.stabilize();
    }
    assert.ok([near, far].includes(net.leader()!), 'the others elect a leader once the lease has expired');
  });

  test('without lease reads a rebooted voter grants its vote at once (the wait above is what protects the lease)', () => {
    const net = new Network(['a', 'b', 'c']);
    net.campaign('a');
    net.tick(1);
    net.isolate('a');
    net.restart('b');
    net.campaign('c');
    assert.equal(net.node('c').raft.role, 'leader');
  });
});
