// One scenario per Raft pitfall that production implementations fell into (the project's
// raft-pitfalls list, numbered as there) and that the pure core can be tested for, each citing the
// issue it guards against. Where the core has a test-only mutation that re-introduces the bug, the
// scenario is run with it too, to show the check can fail.
// Not testable here: application-level leases and fencing (pitfall 2, beyond step-down), the atomic
// consistent index (pitfall 8, etcd 3.5) and disk faults (pitfall 9): those belong to the simulator.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import type { Mutation } from './config.js';
import { resolveConfig } from './config.js';
import { decodeConfChange, isJoint } from './membership.js';
import type { Peer } from './network.fixture.js';
import { bytes, conf, messagesOf, Network, storageWithLog } from './network.fixture.js';
import type { Ready } from './raw-node.js';
import { RawNode } from './raw-node.js';
import { MemoryStorage } from './storage.js';
import type { ConfChange, Message } from './types.js';
import { NO_NODE } from './types.js';

const NO_MUTATIONS: ReadonlySet<Mutation> = new Set();
const ackTo = (ids: readonly string[]) => (message: Message) =>
  message.type === 'appendResponse' && ids.includes(message.to);
const addLearner = (node: string, transition: ConfChange['transition'] = 'auto'): ConfChange => ({
  changes: [{ type: 'addLearner', node }],
  transition,
});

/** The first index at which two members applied entries of different terms, described; undefined if none. */
function divergentApply(peers: ReadonlyMap<string, Peer>): string | undefined {
  const seen = new Map<number, { id: string; term: number }>();
  for (const [id, peer] of peers) {
    for (const entry of peer.committed) {
      const other = seen.get(entry.index);
      if (other && other.term !== entry.term) {
        return `index ${entry.index}: ${other.id} applied term ${other.term}, ${id} term ${entry.term}`;
      }
      seen.set(entry.index, { id, term: entry.term });
    }
  }
  return undefined;
}

/** Persists and advances one Ready of a hand-driven node. */
function persist(node: RawNode, storage: MemoryStorage): Ready {
  const ready = node.ready();
  if (ready.snapshot) storage.applySnapshot(ready.snapshot);
  storage.append(ready.entries);
  if (ready.hardState) storage.setHardState(ready.hardState);
  node.advance(ready);
  return ready;
}

describe('1. stale reads from a deposed leader', () => {
  /** a leads, is cut off, b takes over and commits a write; what read point does a hand out? */
  function readOnDeposedLeader(mutations: ReadonlySet<Mutation>) {
    const net = new Network(['a', 'b', 'c'], { checkQuorum: false, mutations });
    net.campaign('a');
    net.isolate('a');
    net.campaign('b'); // without check-quorum, a still believes it leads
    const write = net.node('b').propose(bytes('w'));
    assert.ok(write.ok);
    net.stabilize();
    net.node('a').readIndex('r');
    net.tick(3);
    return { served: net.peer('a').readStates[0]?.index, write: write.index };
  }

  test('a leader cut off from the majority never serves a read that misses the new leader write', () => {
    // Jepsen etcd 0.4.1: reads served locally without confirming leadership were stale.
    const correct = readOnDeposedLeader(NO_MUTATIONS);
    assert.equal(correct.served, undefined);
    const mutated = readOnDeposedLeader(new Set(['read-index-without-quorum']));
    assert.ok(
      mutated.served !== undefined && mutated.served < mutated.write,
      'the mutation serves a stale read',
    );
  });

  test('lease reads cannot be configured without check-quorum or with a drift of a whole election timeout', () => {
    // etcd-io/raft Config.ReadOnlyOption: lease reads rely on CheckQuorum and bounded clock drift.
    const random = { next: () => 0 };
    assert.throws(
      () => resolveConfig({ id: 'a', random, readMode: 'lease', checkQuorum: false }),
      /checkQuorum/,
    );
    assert.throws(
      () => resolveConfig({ id: 'a', random, readMode: 'lease', leaseDriftTicks: 10 }),
      /leaseDrift/,
    );
  });
});

describe('2. leases around leader change', () => {
  test('an isolated leader stops leading within two election timeouts and then refuses proposals', () => {
    // etcd #12528/#15247: an old leader kept acting (revoking leases) after it was deposed.
    const net = new Network(['a', 'b', 'c']);
    net.campaign('a');
    net.isolate('a');
    let ticks = 0;
    while (net.node('a').raft.role === 'leader' && ticks < 100) {
      net.tick();
      ticks++;
    }
    assert.ok(ticks <= 20, `stepped down after ${ticks} ticks`);
    const refused = net.node('a').propose(bytes('late'));
    assert.equal(refused.ok ? 'accepted' : refused.reason, 'notLeader');
  });
});

describe('3. liveness under partial partitions', () => {
  function oneCutLink(preVote: boolean, checkQuorum: boolean) {
    const net = new Network(['a', 'b', 'c'], { preVote, checkQuorum });
    net.campaign('a');
    const term = net.node('a').raft.term;
    net.cut('a', 'b'); // b still talks to c, only not to the leader
    for (let i = 0; i < 10; i++) {
      if (net.leader()) net.propose(`v${i}`);
      net.tick(10);
    }
    return { net, termRise: net.node('c').raft.term - term };
  }

  test('with pre-vote and check-quorum a follower that lost only its link to the leader does not disrupt it', () => {
    // Cloudflare 2020-11-02: a partially failed switch caused hours of repeated elections.
    const { net, termRise } = oneCutLink(true, true);
    assert.equal(termRise, 0);
    assert.equal(net.leader(), 'a');
    assert.equal(net.appliedTexts('c').length, 10, 'a commits through c the whole time');
    const disrupted = oneCutLink(false, false);
    assert.ok(disrupted.termRise > 0, 'without both, b keeps forcing elections');
  });
});

describe('4. pre-vote with check-quorum and terms', () => {
  test('a pre-candidate forgets its leader, so another pre-candidate can win its vote', () => {
    // etcd #8334 (tikv/raft-rs #84): a pre-candidate still counting on its old leader's lease
    // rejected every pre-vote, and the cluster stayed leaderless.
    const net = new Network(['a', 'b', 'c']);
    net.campaign('a');
    net.isolate('a');
    net.campaign('c');
    assert.equal(net.node('c').raft.role, 'preCandidate', 'b still follows a and ignores c');
    assert.equal(net.node('c').raft.lead, NO_NODE);
    net.campaign('b');
    assert.equal(net.node('b').raft.role, 'leader', 'c grants b its pre-vote and vote');
  });

  test('a partitioned node that keeps losing pre-votes raises no term, and so disrupts no one', () => {
    // Pre-vote (thesis §9.6): without it a node behind on the log inflates terms and deposes the leader.
    const rejoin = (preVote: boolean) => {
      const net = new Network(['a', 'b', 'c'], { preVote, checkQuorum: false });
      net.campaign('a');
      net.cut('a', 'c');
      net.propose('c-misses-this');
      net.stabilize();
      for (let i = 0; i < 5; i++) net.campaign('c'); // b refuses: c's log is behind
      return ['a', 'b', 'c'].map((id) => net.node(id).raft.term);
    };
    assert.deepEqual(rejoin(true), [1, 1, 1]);
    const [, b] = rejoin(false);
    assert.ok(b! > 1, 'without pre-vote b follows c to ever higher terms and drops its leader');
  });

  test('a node with a smaller term is not stuck as a pre-candidate when it rejoins as the leader fails', () => {
    // etcd #8243 (TestNodeWithSmallerTermCanCompleteElection): with pre-vote the cluster stood still.
    const net = new Network(['a', 'b', 'c'], { checkQuorum: false });
    net.cut('a', 'c');
    net.cut('b', 'c');
    net.campaign('a');
    net.campaign('c');
    assert.equal(net.node('c').raft.role, 'preCandidate');
    net.campaign('b'); // b takes over from a at a higher term while c is away
    assert.equal(net.node('b').raft.role, 'leader');
    assert.ok(net.node('c').raft.term < net.node('a').raft.term);
    net.heal(); // c is back, b is gone
    net.cut('b', 'a');
    net.cut('b', 'c');
    net.campaign('c'); // a refuses with its higher term, which c adopts
    net.campaign('a');
    assert.ok(
      ['a', 'c'].some((id) => net.node(id).raft.role === 'leader'),
      'a or c leads',
    );
  });

  test('every {preVote, checkQuorum} combination recovers from a partition of the leader into the minority', () => {
    // etcd #8498 (and #9586, #8499, #8501): some combinations used to stay leaderless.
    for (const preVote of [false, true]) {
      for (const checkQuorum of [false, true]) {
        const label = `preVote=${preVote} checkQuorum=${checkQuorum}`;
        const ids = ['a', 'b', 'c', 'd', 'e'];
        const net = new Network(ids, { preVote, checkQuorum });
        net.campaign('a');
        net.propose('before');
        net.stabilize();
        for (const minority of ['a', 'b'])
          for (const majority of ['c', 'd', 'e']) net.cut(minority, majority);
        const leadersByTerm = new Map<number, string>();
        for (let tick = 0; tick < 120; tick++) {
          if (tick === 60) net.heal();
          net.tick();
          for (const id of ids) {
            const raft = net.node(id).raft;
            if (raft.role !== 'leader') continue;
            const other = leadersByTerm.get(raft.term);
            assert.ok(!other || other === id, `${label}: two leaders in term ${raft.term}`);
            leadersByTerm.set(raft.term, id);
          }
        }
        const leaders = ids.filter((id) => net.node(id).raft.role === 'leader');
        assert.equal(leaders.length, 1, label);
        net.propose('after');
        net.tick(2);
        for (const id of ids) assert.deepEqual(net.appliedTexts(id), ['before', 'after'], `${label}: ${id}`);
      }
    }
  });
});

describe('5. membership changes', () => {
  test('a new leader refuses a membership change until an entry of its own term is committed', () => {
    // Ongaro, raft-dev 2015: the single-server change bug needs this rule.
    const net = new Network(['a', 'b', 'c']);
    net.fate = (message) => (ackTo(['a'])(message) ? 'hold' : 'deliver');
    net.campaign('a');
    const early = net.node('a').proposeConfChange(addLearner('x'));
    assert.equal(early.ok ? 'accepted' : early.reason, 'confChangePending');
    net.fate = () => 'deliver';
    net.release();
    net.stabilize();
    assert.ok(net.node('a').proposeConfChange(addLearner('x')).ok);
  });

  test('a change is validated against the configuration it follows: a predecessor change is applied first, never guessed at', () => {
    // etcd-io/raft#80: validating against a lagging configuration refused valid changes (CockroachDB
    // saw changes stuck indefinitely); etcd allows one pending change (pendingConfIndex).
    const net = new Network(['a', 'b', 'c']);
    net.campaign('a');
    net.fate = (message) => (ackTo(['a'])(message) ? 'drop' : 'deliver');
    assert.ok(net.node('a').proposeConfChange(addLearner('x', 'joint')).ok);
    net.stabilize(); // b and c hold the joint entry; nobody knows it is committed
    net.isolate('a');
    net.fate = (message) => (ackTo(['b', 'c'])(message) ? 'hold' : 'deliver');
    net.tick(25);
    const leader = net.leader()!;
    assert.ok(leader === 'b' || leader === 'c');
    const leave: ConfChange = { changes: [], transition: 'joint' };
    const refusal = (result: ReturnType<RawNode['proposeConfChange']>) =>
      result.ok ? 'accepted' : result.reason;
    assert.equal(refusal(net.node(leader).proposeConfChange(leave)), 'confChangePending');
    net.fate = () => 'deliver';
    net.release();
    net.deliver(); // committed now, but not yet applied
    assert.equal(refusal(net.node(leader).proposeConfChange(leave)), 'confChangePending');
    net.stabilize(); // applied: the configuration is joint, so leaving it is valid
    assert.equal(refusal(net.node(leader).proposeConfChange(leave)), 'accepted');
    net.stabilize();
    assert.deepEqual(net.node(leader).raft.confState, conf(['a', 'b', 'c'], ['x']));
  });

  test('removing the follower of a two-voter group: the leader then commits alone and the removed node cannot disrupt it', () => {
    // etcd-io/raft README: removing a node from a two-node cluster can wedge it if the removed
    // node is still needed; here b acknowledges the removal and is cut off before it learns of it.
    const net = new Network(['a', 'b']);
    net.campaign('a');
    assert.ok(
      net.node('a').proposeConfChange({ changes: [{ type: 'removeNode', node: 'b' }], transition: 'auto' })
        .ok,
    );
    net.processReady('a');
    net.deliver();
    net.processReady('b');
    net.deliver(); // a commits the removal with b's acknowledgement
    net.isolate('b');
    net.stabilize();
    assert.deepEqual(net.node('a').raft.confState.voters, ['a']);
    net.tick(40); // b campaigns in vain
    net.heal();
    net.tick(40);
    assert.equal(net.leader(), 'a');
    assert.equal(net.node('a').raft.term, 1);
    net.propose('alone');
    net.stabilize();
    assert.deepEqual(net.appliedTexts('a'), ['alone']);
  });

  test('a leader that demotes itself to learner steps down and never campaigns again', () => {
    // etcd-io/raft#83: a removed (or demoted) leader kept leading.
    const net = new Network(['a', 'b', 'c']);
    net.campaign('a');
    assert.ok(net.node('a').proposeConfChange(addLearner('a')).ok);
    net.stabilize();
    assert.notEqual(net.node('a').raft.role, 'leader');
    assert.deepEqual(net.node('a').raft.confState, conf(['b', 'c'], ['a']));
    const sentBefore = net.sent.length;
    net.tick(60);
    assert.ok(['b', 'c'].includes(net.leader()!));
    const campaigns = net.sent
      .slice(sentBefore)
      .filter((m) => m.from === 'a' && /^(pre)?[vV]ote$/.test(m.type));
    assert.deepEqual(campaigns, []);
  });

  test('a member restarted during a joint configuration is back in it before it can campaign', () => {
    // openraft (derived-from-async-raft): "consider joint config when starting up and committing".
    const net = new Network(['a', 'b', 'c'], { checkQuorum: false });
    net.add('d', new MemoryStorage(conf([])));
    net.campaign('a');
    const replaceC: ConfChange = {
      changes: [
        { type: 'addVoter', node: 'd' },
        { type: 'removeNode', node: 'c' },
      ],
      transition: 'joint',
    };
    assert.ok(net.node('a').proposeConfChange(replaceC).ok);
    net.tick(2);
    const joint = net.node('b').raft.confState;
    assert.equal(isJoint(joint), true);
    net.restart('b');
    net.processReady('b'); // replays the committed log, config entries included
    assert.deepEqual(net.node('b').raft.confState, joint);
    net.cut('b', 'a');
    net.cut('b', 'd');
    net.campaign('b');
    assert.notEqual(net.node('b').raft.role, 'leader', 'b and c are a majority of the old half only');
  });

  test('an unreachable learner does not hold back commits', () => {
    // openraft (derived-from-async-raft): "non-voter … should not block replication".
    const net = new Network(
      ['a', 'b', 'c', 'l'],
      { maxInflightMessages: 2 },
      1,
      conf(['a', 'b', 'c'], ['l']),
    );
    net.campaign('a');
    net.isolate('l');
    for (let i = 0; i < 10; i++) {
      net.propose(`v${i}`);
      net.stabilize();
    }
    assert.equal(net.appliedTexts('b').length, 10);
    net.heal();
    net.tick(3);
    assert.equal(net.appliedTexts('l').length, 10);
  });

  test('once a follower is removed the leader sends it nothing more', () => {
    // openraft (derived-from-async-raft): "when a follower is removed, leader should stop sending log to it".
    const net = new Network(['a', 'b', 'c']);
    net.campaign('a');
    assert.ok(
      net.node('a').proposeConfChange({ changes: [{ type: 'removeNode', node: 'c' }], transition: 'auto' })
        .ok,
    );
    net.stabilize();
    const sentBefore = net.sent.length;
    for (let i = 0; i < 5; i++) net.propose(`v${i}`);
    net.tick(5);
    assert.deepEqual(
      net.sent.slice(sentBefore).filter((m) => m.from === 'a' && m.to === 'c'),
      [],
    );
  });
});

describe('6. log truncation and commit', () => {
  /** b holds 1..4 of term 1 (3 committed); a stale duplicate of the append that carried entry 2 arrives. */
  function staleAppend(mutations: ReadonlySet<Mutation>): number {
    const storage = storageWithLog(conf(['a', 'b', 'c']), [1, 1, 1, 1], { term: 1, commit: 3 });
    const node = new RawNode({ id: 'b', random: { next: () => 0 }, mutations }, storage);
    node.step({
      type: 'append',
      group: 'default',
      from: 'a',
      to: 'b',
      term: 1,
      prevLogIndex: 3,
      prevLogTerm: 1,
      entries: [],
      commit: 3,
    });
    node.step({
      type: 'append',
      group: 'default',
      from: 'a',
      to: 'b',
      term: 1,
      prevLogIndex: 3,
      prevLogTerm: 1,
      entries: [],
      commit: 1,
    });
    return node.raft.log.lastIndex();
  }

  test('a stale append that matches our log never truncates entries after it', () => {
    // openraft 9540c904: deleting entries after prev-log-id without a conflict lost committed entries.
    assert.equal(staleAppend(NO_MUTATIONS), 4);
    assert.equal(staleAppend(new Set(['truncate-without-conflict'])), 3, 'the mutation cuts entry 4');
  });

  test('a vote compares the last log entry by (term, index) in dictionary order', () => {
    // openraft a48a3282: handle-vote must compare last_log_id in dictionary order (Raft §5.4.1).
    const voteFor = (lastLogIndex: number, lastLogTerm: number, mutations = NO_MUTATIONS) => {
      const storage = storageWithLog(conf(['a', 'b', 'c']), [1, 2, 2], { term: 2, commit: 1 });
      const node = new RawNode({ id: 'b', random: { next: () => 0 }, preVote: false, mutations }, storage);
      node.step({
        type: 'vote',
        group: 'default',
        from: 'c',
        to: 'b',
        term: 3,
        lastLogIndex,
        lastLogTerm,
        transfer: false,
      });
      return messagesOf(node.ready().messages, 'voteResponse')[0]!.reject ? 'rejected' : 'granted';
    };
    assert.equal(voteFor(1, 3), 'granted', 'a higher last term wins with a shorter log');
    assert.equal(voteFor(9, 1), 'rejected', 'a longer log with a lower last term loses');
    assert.equal(voteFor(3, 2), 'granted');
    assert.equal(voteFor(2, 2), 'rejected');
    assert.equal(voteFor(9, 1, new Set(['vote-without-log-check'])), 'granted', 'the mutation grants it');
  });

  /** Raft Figure 8 with five members; returns the first divergence between applied entries. */
  function figure8(mutations: ReadonlySet<Mutation>): string | undefined {
    const ids = ['s1', 's2', 's3', 's4', 's5'];
    const net = new Network(ids, { preVote: false, checkQuorum: false, maxEntriesPerMessage: 1, mutations });
    const campaignUntilLeader = (id: string) => {
      for (let round = 0; round < 5 && net.node(id).raft.role !== 'leader'; round++) net.campaign(id);
      assert.equal(net.node(id).raft.role, 'leader', `${id} should win`);
    };
    net.campaign('s1'); // term 1; the empty entry 1 is committed everywhere
    for (const id of ['s3', 's4', 's5']) net.cut('s1', id);
    net.propose('x'); // 2@1 reaches s2 only
    net.stabilize();
    // s1 crashes; s5 wins term 2 with s3 and s4, appends 2@2 and crashes before sending it.
    net.isolate('s1');
    net.cut('s2', 's5');
    net.fate = (message) => (message.from === 's5' && message.type === 'append' ? 'drop' : 'deliver');
    campaignUntilLeader('s5');
    // s1 restarts and wins term 3; it copies 2@1 to s3 and s4 (now on a majority), but its own 3@3 only to s2.
    net.heal();
    net.isolate('s5');
    net.restart('s1');
    net.fate = (message) =>
      message.type === 'append' &&
      message.from === 's1' &&
      ['s3', 's4'].includes(message.to) &&
      net.node(message.to).raft.log.term(2) === 1 && // it already copied 2@1
      message.entries.some((entry) => entry.term === 3)
        ? 'drop'
        : 'deliver';
    try {
      campaignUntilLeader('s1');
      assert.equal(net.node('s3').raft.log.term(2), 1, '2@1 is on s1, s2, s3 and s4');
      // s1 crashes again; s5 restarts and wins with s3 and s4 (its last term 2 beats their 1).
      net.heal();
      net.isolate('s1');
      net.restart('s5');
      net.fate = () => 'deliver';
      campaignUntilLeader('s5');
      net.tick(2);
    } catch (error) {
      return `broken invariant: ${(error as Error).message}`;
    }
    return divergentApply(net.peers);
  }

  test('an entry of an earlier term is never committed by counting replicas (Figure 8)', () => {
    // Raft §5.4.2, Figure 8: 2@1 on a majority is still overwritten by a leader that never had it.
    assert.equal(figure8(NO_MUTATIONS), undefined);
    assert.ok(figure8(new Set(['commit-previous-term-by-counting'])), 'the mutation commits and loses 2@1');
  });

  test('the commit index is what a majority acknowledged, whatever the order of acknowledgements', () => {
    // openraft#1802: the quorum tracker lost its sorted-prefix invariant and committed without a quorum.
    const lastIndex = 11;
    const acks = fc.array(
      fc.record({ from: fc.constantFrom('b', 'c', 'd', 'e'), index: fc.nat(lastIndex) }),
      {
        maxLength: 30,
      },
    );
    const law = (mutations: ReadonlySet<Mutation>) =>
      fc.property(acks, (sequence) => {
        const storage = new MemoryStorage(conf(['a', 'b', 'c', 'd', 'e']));
        const node = new RawNode({ id: 'a', random: { next: () => 0 }, preVote: false, mutations }, storage);
        node.campaign();
        for (const from of ['b', 'c'])
          node.step({ type: 'voteResponse', group: 'default', from, to: 'a', term: 1, reject: false });
        for (let i = 0; i < 10; i++) node.propose(bytes(`v${i}`));
        persist(node, storage);
        const matched = new Map([['a', lastIndex]]);
        for (const { from, index } of sequence) {
          node.step({
            type: 'appendResponse',
            group: 'default',
            from,
            to: 'a',
            term: 1,
            reject: false,
            index,
            rejectHint: 0,
            hintTerm: 0,
          });
          matched.set(from, Math.max(matched.get(from) ?? 0, index));
          const held = (i: number) => [...matched.values()].filter((match) => match >= i).length;
          let majority = 0;
          for (let i = 1; i <= lastIndex; i++) if (held(i) >= 3) majority = i;
          if (node.raft.log.committed !== majority) return false;
        }
        return true;
      });
    fc.assert(law(NO_MUTATIONS), { numRuns: 100 });
    const planted = fc.check(law(new Set(['commit-quorum-off-by-one'])), { numRuns: 100, seed: 7 });
    assert.equal(planted.failed, true, 'the off-by-one mutation is caught');
  });
});

describe('7. snapshots', () => {
  const CHUNK_BYTES = 16;

  /** a leads a, b, c; c missed 20 entries that a has compacted away behind a 100-byte snapshot. */
  function followerBehindSnapshot(options = {}) {
    const net = new Network(['a', 'b', 'c'], { snapshotChunkBytes: CHUNK_BYTES, ...options });
    net.campaign('a');
    net.isolate('c');
    for (let i = 0; i < 20; i++) net.propose(`v${i}`);
    net.stabilize();
    net.snapshotAndCompact('a', 'old:'.padEnd(100, '#'));
    return net;
  }

  test('a far-behind follower that gets chunks of a newer snapshot discards the older partial one', () => {
    // hashicorp/raft#212 (Consul #3201): stale snapshot data was not discarded and the follower looped forever.
    const net = followerBehindSnapshot();
    net.fate = (message) => (message.type === 'snapshotResponse' ? 'hold' : 'deliver');
    net.heal();
    net.tick(1);
    for (let answered = 0; answered < 2; answered++) {
      net.fate = () => 'deliver';
      net.release();
      net.fate = (message) => (message.type === 'snapshotResponse' ? 'hold' : 'deliver');
      net.stabilize();
    }
    assert.equal(net.peer('c').storage.snapshot().metadata.index, 0, 'c is mid-transfer');
    for (let i = 0; i < 5; i++) net.propose(`w${i}`);
    net.stabilize();
    const newer = 'new:'.padEnd(70, '*');
    const newerIndex = net.snapshotAndCompact('a', newer);
    net.fate = () => 'deliver';
    net.release();
    net.tick(1);
    const offsetsOfNewer = messagesOf(net.sent, 'snapshot', 'a', 'c')
      .filter((m) => m.metadata.index === newerIndex)
      .map((m) => m.offset);
    assert.deepEqual(offsetsOfNewer, [0, 16, 32, 48, 64], 'the newer snapshot is sent from its start');
    assert.equal(new TextDecoder().decode(net.peer('c').storage.snapshot().data), newer);
    assert.equal(net.node('c').raft.log.committed, net.node('a').raft.log.committed);
  });

  test('a follower that lost its data after installing a snapshot gets the snapshot again', () => {
    // atomix#1028: the leader remembered the follower's old progress and never re-sent the snapshot.
    const net = followerBehindSnapshot();
    net.heal();
    net.tick(1);
    const snapshotIndex = net.peer('c').storage.snapshot().metadata.index;
    assert.ok(snapshotIndex > 0);
    net.add('c', new MemoryStorage(conf(['a', 'b', 'c']))); // same member, empty disk
    net.tick(2);
    net.propose('after-loss');
    net.tick(2);
    assert.equal(
      net.peer('c').storage.snapshot().metadata.index,
      snapshotIndex,
      'the snapshot was sent again',
    );
    assert.equal(net.node('c').raft.log.committed, net.node('a').raft.log.committed);
    assert.deepEqual(net.appliedTexts('c'), ['after-loss']);
  });

  test('a snapshot the follower refuses is retried once per stall timeout, not in a tight loop', () => {
    // redpanda PR #3245: a snapshot that was never accepted was re-sent in a tight loop.
    const net = followerBehindSnapshot();
    net.add('c', net.peer('c').storage, { maxSnapshotBytes: 50 }); // c cannot take the 100-byte snapshot
    net.heal();
    net.tick(30);
    const attempts = messagesOf(net.sent, 'snapshot', 'a', 'c').length;
    assert.ok(attempts >= 2 && attempts <= 4, `${attempts} attempts in 30 ticks`);
  });

  test('a follower never hands out log entries in the Ready that installs a snapshot replacing them', () => {
    // openraft eed681d5: a race between installing a snapshot and applying entries.
    const storage = storageWithLog(conf(['a', 'b']), [1, 1, 1], { term: 1, commit: 3 });
    const node = new RawNode({ id: 'b', random: { next: () => 0 } }, storage);
    const metadata = { index: 10, term: 2, confState: conf(['a', 'b']) };
    const chunk = bytes('state');
    node.step({
      type: 'snapshot',
      group: 'default',
      from: 'a',
      to: 'b',
      term: 2,
      metadata,
      offset: 0,
      totalBytes: chunk.byteLength,
      chunk,
      done: true,
    });
    const ready = persist(node, storage);
    assert.equal(ready.snapshot?.metadata.index, 10);
    assert.deepEqual(ready.committedEntries, []);
    assert.equal(node.raft.log.applied, 10, 'the snapshot stands for entries 1..10');
  });

  test('a deposed leader whose log is replaced by a snapshot never adopts its own uncommitted config entry, even after a restart', () => {
    // openraft 447dc11c: membership was loaded from log entries that the snapshot overrides.
    const net = new Network(['a', 'b', 'c'], { snapshotChunkBytes: CHUNK_BYTES });
    net.campaign('a');
    net.isolate('a');
    assert.ok(net.node('a').proposeConfChange(addLearner('ghost')).ok);
    net.stabilize(); // only a has it
    net.tick(25);
    const leader = net.leader()!;
    assert.ok(leader === 'b' || leader === 'c');
    for (let i = 0; i < 5; i++) net.propose(`v${i}`);
    net.stabilize();
    net.snapshotAndCompact(leader, 'state');
    net.heal();
    net.tick(3);
    assert.ok(net.peer('a').storage.snapshot().metadata.index > 0, 'a got the snapshot');
    assert.deepEqual(net.node('a').raft.confState, conf(['a', 'b', 'c']));
    net.restart('a');
    net.processReady('a');
    assert.deepEqual(net.node('a').raft.confState, conf(['a', 'b', 'c']));
    assert.ok(
      !net
        .peer('a')
        .storage.allEntries()
        .some((e) => e.kind === 'config' && decodeConfChange(e.data).changes[0]?.node === 'ghost'),
    );
  });
});

describe('8. durability between the log and the state machine', () => {
  test('no Ready hands out as committed an entry it is still asking to persist, single voter or not', () => {
    // etcd-io/etcd#14370: a single voter emitted entries as committed in the Ready that persisted them.
    const action = fc.oneof(
      fc.record({ kind: fc.constant('propose' as const), count: fc.integer({ min: 1, max: 5 }) }),
      fc.record({ kind: fc.constant('ready' as const) }),
      fc.record({ kind: fc.constant('tick' as const) }),
    );
    fc.assert(
      fc.property(
        fc.constantFrom(['a'], ['a', 'b', 'c']),
        fc.array(action, { maxLength: 40 }),
        (ids, actions) => {
          const net = new Network(ids);
          net.campaign('a');
          const check = () => {
            const { node, storage } = net.peer('a');
            if (!node.hasReady()) return;
            const persistedBefore = storage.lastIndex();
            const ready = net.processReady('a')!;
            for (const entry of ready.committedEntries) {
              assert.ok(
                entry.index <= persistedBefore,
                `entry ${entry.index} committed before it was persisted`,
              );
            }
          };
          for (const step of actions) {
            if (step.kind === 'propose') for (let i = 0; i < step.count; i++) net.propose('x');
            else if (step.kind === 'tick') net.node('a').tick();
            check();
            for (const id of ids.slice(1)) net.processReady(id);
            net.deliver();
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  test('a follower that crashes before persisting is not counted, and the leader sends it the entries again', () => {
    // raft-pitfalls §8: crash points between append, fsync and apply must lose nothing acknowledged.
    const net = new Network(['a', 'b', 'c']);
    net.campaign('a');
    net.isolate('c');
    const index = net.propose('w');
    net.processReady('a');
    net.deliver(); // b has the entry in memory; its Ready (persist, then acknowledge) never runs
    net.restart('b');
    net.stabilize();
    assert.ok(net.node('a').raft.log.committed < index, 'a alone is no quorum');
    assert.equal(net.peer('b').storage.lastIndex(), index - 1);
    net.tick(2);
    assert.equal(net.node('a').raft.log.committed, index);
    assert.deepEqual(net.appliedTexts('b'), ['w']);
  });
});

describe('9. slow disks and heartbeats', () => {
  test('a Ready that only carries heartbeats or a commit index needs no fsync before it is sent', () => {
    // etcd FAQ, hashicorp/raft docs/divergence.md: heartbeats must not wait behind a slow disk.
    const net = new Network(['a', 'b', 'c']);
    net.campaign('a');
    net.node('a').tick();
    const leaderReady = net.processReady('a')!;
    assert.ok(messagesOf(leaderReady.messages, 'heartbeat').length > 0);
    assert.equal(leaderReady.mustSync, false);
    net.deliver();
    const followerReady = net.processReady('b')!;
    assert.equal(followerReady.mustSync, false);
  });
});

describe('10. replication livelock on divergent logs', () => {
  const cases = [
    // leader: 10 of term 1, 100 of term 3; follower: 10 of term 1, 1000 of term 2
    {
      leader: [...Array(10).fill(1), ...Array(100).fill(3)],
      follower: [...Array(10).fill(1), ...Array(1000).fill(2)],
    },
    // leader: 10 of term 1, 50 of term 2, 10 of term 4; follower: 10 of term 1, 500 of term 3
    {
      leader: [...Array(10).fill(1), ...Array(50).fill(2), ...Array(10).fill(4)],
      follower: [...Array(10).fill(1), ...Array(500).fill(3)],
    },
  ];

  test('a follower with a long divergent tail converges in a bounded number of round trips', () => {
    // openraft 6d53aa12: many inconsistent entries live-locked append-entries; etcd's findConflictByTerm.
    for (const { leader, follower } of cases) {
      const net = new Network([], { preVote: false, maxEntriesPerMessage: 1_000 });
      const voters = conf(['a', 'b']);
      net.add('a', storageWithLog(voters, leader, { term: leader.at(-1)!, commit: 10 }));
      net.add('b', storageWithLog(voters, follower, { term: follower.at(-1)!, commit: 10 }));
      net.campaign('a');
      assert.equal(net.leader(), 'a');
      const rejections = messagesOf(net.sent, 'appendResponse', 'b').filter((m) => m.reject).length;
      assert.ok(rejections <= 2, `${rejections} rejected probes`);
      const termsOf = (id: string) =>
        net
          .peer(id)
          .storage.allEntries()
          .map((e) => e.term);
      assert.deepEqual(termsOf('b'), termsOf('a'));
      assert.equal(net.node('b').raft.log.committed, leader.length + 1);
    }
  });

  test('a whole group restarted at once elects a leader within two election timeouts', () => {
    // openraft 228077a6: a restarted follower waited too long to elect and the cluster hung.
    const net = new Network(['a', 'b', 'c']);
    net.campaign('a');
    net.propose('before');
    net.stabilize();
    for (const id of ['a', 'b', 'c']) net.restart(id);
    let ticks = 0;
    while (!net.leader() && ticks < 100) {
      net.tick();
      ticks++;
    }
    assert.ok(ticks <= 20, `leader after ${ticks} ticks`);
  });
});
