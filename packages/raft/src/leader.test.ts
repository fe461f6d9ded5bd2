// The leader's client-facing side: leadership transfer (thesis §3.10), which must finish within an
// election timeout or be abandoned and refuses proposals meanwhile, and proposal flow control
// (one append per follower per Ready for a burst, back-pressure on uncommitted bytes).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ProposeResult } from './leader.js';
import { bytes, conf, messagesOf, Network } from './network.fixture.js';

const outcome = (result: ProposeResult) => (result.ok ? 'accepted' : result.reason);

describe('leadership transfer', () => {
  test('a lagging target is caught up first, then told to campaign at once, and wins without an election timeout', () => {
    const net = new Network(['a', 'b', 'c']);
    net.campaign('a');
    net.cut('a', 'b');
    for (let i = 0; i < 3; i++) net.propose(`v${i}`);
    net.stabilize();
    net.heal();
    const sentBefore = net.sent.length;
    assert.ok(net.node('a').transferLeadership('b'));
    net.stabilize(); // no tick: nothing waits for a timeout
    assert.equal(net.node('b').raft.role, 'leader');
    assert.equal(net.node('a').raft.role, 'follower');
    const sent = net.sent.slice(sentBefore);
    const caughtUp = sent.findIndex(
      (m) =>
        m.type === 'appendResponse' && m.from === 'b' && m.index === net.node('a').raft.log.lastIndex() - 1,
    );
    const timeoutNow = sent.findIndex((m) => m.type === 'timeoutNow');
    assert.ok(caughtUp >= 0 && timeoutNow > caughtUp, 'TimeoutNow only once b holds the whole log');
    assert.equal(messagesOf(sent, 'preVote').length, 0, 'the target skips pre-vote');
  });

  test('voters grant a transfer vote although they still hear from the leader', () => {
    const net = new Network(['a', 'b', 'c']);
    net.campaign('a');
    net.tick(1);
    net.campaign('b');
    assert.equal(net.leader(), 'a', 'an ordinary pre-vote is refused while c follows a');
    net.tick(1); // a's heartbeat turns the pre-candidate b back into its follower
    assert.ok(net.node('a').transferLeadership('b'));
    net.stabilize();
    assert.equal(net.leader(), 'b');
  });

  test('a transfer to an unreachable target is abandoned after an election timeout; proposals are refused until then', () => {
    const net = new Network(['a', 'b', 'c']);
    net.campaign('a');
    net.cut('a', 'b');
    net.propose('w');
    net.stabilize();
    const leader = net.node('a');
    assert.ok(leader.transferLeadership('b'));
    assert.equal(outcome(leader.propose(bytes('during'))), 'transferring');
    net.tick(leader.raft.config.electionTicks - 1);
    assert.equal(leader.raft.leadTransferee, 'b');
    assert.equal(outcome(leader.propose(bytes('still-during'))), 'transferring');
    net.tick(1);
    assert.equal(leader.raft.leadTransferee, '', 'abandoned');
    assert.equal(leader.raft.role, 'leader', 'a keeps leading with c');
    assert.equal(outcome(leader.propose(bytes('after'))), 'accepted');
  });

  test('a transfer is refused to the leader itself, to a learner, to a non-member, and by a follower', () => {
    const net = new Network(['a', 'b', 'c', 'l'], {}, 1, conf(['a', 'b', 'c'], ['l']));
    net.campaign('a');
    for (const target of ['a', 'l', 'z'])
      assert.equal(net.node('a').transferLeadership(target), false, target);
    assert.equal(net.node('b').transferLeadership('c'), false);
    assert.equal(net.node('a').raft.leadTransferee, '');
  });
});

describe('proposal flow', () => {
  test('a burst of proposals goes out as one append per follower', () => {
    const net = new Network(['a', 'b', 'c']);
    net.campaign('a');
    for (let i = 0; i < 10; i++) net.propose(`v${i}`);
    const ready = net.processReady('a')!;
    const appends = messagesOf(ready.messages, 'append');
    assert.deepEqual(
      appends.map((m) => [m.to, m.entries.length]),
      [
        ['b', 10],
        ['c', 10],
      ],
    );
  });

  test('proposals beyond maxUncommittedBytes are refused as overloaded until earlier ones commit', () => {
    const net = new Network(['a', 'b', 'c'], { maxUncommittedBytes: 100 });
    net.campaign('a');
    net.fate = (message) => (message.type === 'appendResponse' ? 'hold' : 'deliver');
    const leader = net.node('a');
    const payload = bytes('x'.repeat(40)); // 64 bytes with the entry overhead
    assert.equal(outcome(leader.propose(payload)), 'accepted');
    assert.equal(outcome(leader.propose(payload)), 'overloaded');
    net.fate = () => 'deliver';
    net.release();
    net.stabilize();
    assert.equal(leader.raft.uncommittedBytes, 0);
    assert.equal(outcome(leader.propose(payload)), 'accepted');
  });

  test('one proposal larger than maxUncommittedBytes is still accepted when nothing is uncommitted', () => {
    const net = new Network(['a', 'b', 'c'], { maxUncommittedBytes: 10 });
    net.campaign('a');
    assert.equal(outcome(net.node('a').propose(bytes('x'.repeat(100)))), 'accepted');
  });

  test('a follower or candidate refuses proposals and names the leader it knows', () => {
    const net = new Network(['a', 'b', 'c']);
    net.campaign('a');
    const refused = net.node('b').propose(bytes('x'));
    assert.deepEqual(refused, { ok: false, reason: 'notLeader', leader: 'a' });
  });
});
