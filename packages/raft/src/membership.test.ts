// Membership changes (Raft thesis §4): the pure configuration arithmetic, then what a running group
// does with it. Changes take effect when applied; learners follow the log without a say; a joint
// configuration needs both majorities for every decision until it is left.
// Pitfall-driven membership scenarios (Ongaro's bug, etcd-io/raft#83, openraft) are in pitfalls.test.ts.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  allMembers,
  applyConfChange,
  decodeConfChange,
  encodeConfChange,
  isJoint,
  isLearner,
  isVoter,
} from './membership.js';
import { bytes, conf, messagesOf, Network } from './network.fixture.js';
import { MemoryStorage } from './storage.js';
import type { ConfChange, ConfState } from './types.js';

const change = (
  changes: ConfChange['changes'],
  transition: ConfChange['transition'] = 'auto',
): ConfChange => ({ changes, transition });

function applied(current: ConfState, next: ConfChange): ConfState {
  const result = applyConfChange(current, next);
  if (!result.ok) throw new Error(result.reason);
  return result.confState;
}

describe('configuration arithmetic', () => {
  const abc = conf(['a', 'b', 'c']);

  test('adding or removing one voter is a simple change', () => {
    assert.deepEqual(applied(abc, change([{ type: 'addVoter', node: 'd' }])), conf(['a', 'b', 'c', 'd']));
    assert.deepEqual(applied(abc, change([{ type: 'removeNode', node: 'b' }])), conf(['a', 'c']));
    assert.deepEqual(applied(abc, change([{ type: 'addLearner', node: 'l' }])), conf(['a', 'b', 'c'], ['l']));
  });

  test('changing two voters at once goes through a joint configuration that the old voters keep a say in', () => {
    const joint = applied(
      abc,
      change([
        { type: 'removeNode', node: 'a' },
        { type: 'addVoter', node: 'd' },
      ]),
    );
    assert.deepEqual(joint.voters, ['b', 'c', 'd']);
    assert.deepEqual(joint.votersOutgoing, ['a', 'b', 'c']);
    assert.equal(joint.autoLeave, true);
    assert.equal(isVoter(joint, 'a'), true, 'a still votes in the outgoing half');
    const left = applied(joint, change([]));
    assert.deepEqual(left, conf(['b', 'c', 'd']));
  });

  test('a voter demoted through a joint configuration becomes a learner only when it is left', () => {
    const joint = applied(
      abc,
      change(
        [
          { type: 'addLearner', node: 'a' },
          { type: 'addVoter', node: 'd' },
        ],
        'joint',
      ),
    );
    assert.deepEqual(joint.learners, []);
    assert.deepEqual(joint.learnersNext, ['a']);
    assert.equal(isLearner(joint, 'a'), false);
    assert.equal(joint.autoLeave, false);
    const left = applied(joint, change([], 'joint'));
    assert.deepEqual(left, conf(['b', 'c', 'd'], ['a']));
  });

  test('a single change can be forced through a joint configuration', () => {
    const joint = applied(abc, change([{ type: 'addVoter', node: 'd' }], 'joint'));
    assert.equal(isJoint(joint), true);
    assert.deepEqual(allMembers(joint), ['a', 'b', 'c', 'd']);
  });

  test('invalid changes are refused with a reason, never applied', () => {
    const refused = (current: ConfState, next: ConfChange) => {
      const result = applyConfChange(current, next);
      return result.ok ? 'accepted' : result.reason;
    };
    assert.match(refused(conf(['a']), change([{ type: 'removeNode', node: 'a' }])), /no voters/);
    assert.match(refused(abc, change([{ type: 'addVoter', node: '' }])), /empty/);
    assert.match(refused(abc, change([])), /not in a joint/);
    const joint = applied(abc, change([{ type: 'addVoter', node: 'd' }], 'joint'));
    assert.match(refused(joint, change([{ type: 'addVoter', node: 'e' }])), /must be left/);
  });

  test('a change survives encoding into a config entry, and anything else is refused', () => {
    const original = change([{ type: 'addLearner', node: 'x' }], 'joint');
    assert.deepEqual(decodeConfChange(encodeConfChange(original)), original);
    assert.throws(() =>
      decodeConfChange(bytes('{"changes":[{"type":"promote","node":"x"}],"transition":"auto"}')),
    );
    assert.throws(() => decodeConfChange(bytes('[]')));
  });
});

const emptyConf = conf([]);

describe('membership in a running group', () => {
  test('a change takes effect when its entry is applied, not when it is appended', () => {
    const net = new Network(['a', 'b', 'c']);
    net.campaign('a');
    const leader = net.node('a');
    assert.ok(leader.proposeConfChange(change([{ type: 'addLearner', node: 'l' }])).ok);
    assert.deepEqual(leader.raft.confState, conf(['a', 'b', 'c']), 'appended only');
    net.processReady('a');
    net.deliver();
    assert.deepEqual(net.node('b').raft.confState.learners, [], 'b holds the entry but has not applied it');
    net.stabilize();
    for (const id of ['a', 'b', 'c']) assert.deepEqual(net.node(id).raft.confState.learners, ['l']);
  });

  test('only one change is pending at a time; the next is accepted once the first is applied', () => {
    const net = new Network(['a', 'b', 'c']);
    net.campaign('a');
    const leader = net.node('a');
    assert.ok(leader.proposeConfChange(change([{ type: 'addLearner', node: 'x' }])).ok);
    const second = leader.proposeConfChange(change([{ type: 'addLearner', node: 'y' }]));
    assert.equal(second.ok ? 'accepted' : second.reason, 'confChangePending');
    net.stabilize();
    assert.ok(leader.proposeConfChange(change([{ type: 'addLearner', node: 'y' }])).ok);
  });

  test('a learner follows the log but its acknowledgement never commits anything', () => {
    const net = new Network(['a', 'b', 'c', 'l'], {}, 1, conf(['a', 'b', 'c'], ['l']));
    net.campaign('a');
    net.cut('a', 'b');
    net.cut('a', 'c');
    const index = net.propose('only-a-and-the-learner');
    net.stabilize();
    assert.equal(net.node('l').raft.log.lastIndex(), index, 'the learner has it');
    assert.ok(net.node('a').raft.log.committed < index, 'one voter of three is no quorum');
    net.heal();
    net.tick(1);
    assert.equal(net.node('a').raft.log.committed, index);
    assert.deepEqual(net.appliedTexts('l'), ['only-a-and-the-learner']);
  });

  test('a learner never campaigns, is never asked for its vote, and its vote does not count', () => {
    const net = new Network(['a', 'b', 'c', 'l'], { preVote: false }, 1, conf(['a', 'b', 'c'], ['l']));
    net.isolate('l');
    net.tick(60);
    assert.equal(net.node('l').raft.role, 'follower');
    assert.equal(messagesOf(net.sent, 'vote', 'l').length, 0);
    assert.equal(
      messagesOf(net.sent, 'vote').filter((m) => m.to === 'l').length,
      0,
      'candidates do not ask learners',
    );

    const lone = new Network(['a', 'b', 'c', 'l'], { preVote: false }, 1, conf(['a', 'b', 'c'], ['l']));
    lone.isolate('a');
    lone.node('a').campaign();
    const term = lone.node('a').raft.term;
    lone.node('a').step({ type: 'voteResponse', group: 'default', from: 'l', to: 'a', term, reject: false });
    assert.equal(
      lone.node('a').raft.role,
      'candidate',
      'its own vote and a learner vote are not a majority of a, b, c',
    );
  });

  test('a member that joined without a snapshot never takes itself for the only voter', () => {
    const net = new Network(['a', 'b', 'c']);
    net.add('d', new MemoryStorage(emptyConf));
    net.campaign('a');
    assert.ok(net.node('a').proposeConfChange(change([{ type: 'addVoter', node: 'd' }])).ok);
    net.tick(2);
    assert.deepEqual(net.node('a').raft.confState.voters, ['a', 'b', 'c', 'd']);
    assert.equal(net.appliedTexts('d').length, 0);
    assert.equal(net.node('d').raft.log.committed, net.node('a').raft.log.committed, 'd follows the log');
    assert.deepEqual(
      net.node('d').raft.confState.voters,
      [],
      'the bootstrap configuration is not in the log',
    );
    net.isolate('d');
    net.tick(40);
    assert.notEqual(net.node('d').raft.role, 'leader', 'alone it must never elect itself');
    assert.equal(net.node('d').propose(bytes('split-brain')).ok, false);
  });

  test('a member that joined without a snapshot learns the configuration from the first snapshot it gets', () => {
    const net = new Network(['a', 'b', 'c']);
    net.add('d', new MemoryStorage(emptyConf));
    net.campaign('a');
    assert.ok(net.node('a').proposeConfChange(change([{ type: 'addLearner', node: 'd' }])).ok);
    net.tick(1);
    net.isolate('d');
    for (let i = 0; i < 5; i++) net.propose(`v${i}`);
    net.stabilize();
    const { node, storage } = net.peer('a');
    storage.createSnapshot(node.raft.log.applied, node.raft.confState, bytes('state'));
    storage.compact(node.raft.log.applied);
    net.heal();
    net.tick(2);
    assert.deepEqual(net.node('d').raft.confState, conf(['a', 'b', 'c'], ['d']));
  });

  describe('joint configuration', () => {
    // Replacing {a, b, c} by {c, d, e}: decisions need two of a, b, c and two of c, d, e.
    const joint: ConfState = { ...conf(['c', 'd', 'e']), votersOutgoing: ['a', 'b', 'c'] };

    test('an entry commits only when a majority of the old and a majority of the new voters hold it', () => {
      const net = new Network(['a', 'b', 'c', 'd', 'e'], {}, 1, joint);
      net.campaign('a');
      assert.equal(net.leader(), 'a', 'a member of the outgoing half may lead');
      net.cut('a', 'd');
      net.cut('a', 'e');
      const index = net.propose('w');
      net.stabilize();
      assert.ok(net.node('a').raft.log.committed < index, 'a, b, c are 3 of 5 but only c of the new half');
      net.heal();
      net.cut('a', 'e');
      net.tick(1);
      assert.equal(net.node('a').raft.log.committed, index, 'c and d are a majority of the new half');
    });

    test('a candidate needs a majority of both halves', () => {
      const net = new Network(['a', 'b', 'c', 'd', 'e'], { preVote: false }, 1, joint);
      net.cut('a', 'c');
      net.cut('a', 'd');
      net.cut('a', 'e');
      net.campaign('a');
      assert.equal(net.node('a').raft.role, 'candidate', 'a and b win the old half, nobody the new one');
      net.heal();
      net.cut('a', 'b');
      net.cut('a', 'c');
      net.campaign('a');
      assert.equal(net.node('a').raft.role, 'candidate', 'd and e win the new half, only a the old one');
      net.heal();
      net.cut('a', 'b');
      net.cut('a', 'e');
      net.campaign('a');
      assert.equal(net.node('a').raft.role, 'leader', 'c and d complete both halves');
    });

    test('a joint change asked for explicitly stays joint until the leave is proposed', () => {
      const net = new Network(['a', 'b', 'c']);
      net.add('d', new MemoryStorage(emptyConf));
      net.campaign('a');
      const leader = net.node('a');
      assert.ok(leader.proposeConfChange(change([{ type: 'addVoter', node: 'd' }], 'joint')).ok);
      net.tick(3);
      assert.equal(isJoint(leader.raft.confState), true);
      assert.ok(leader.proposeConfChange(change([], 'joint')).ok);
      net.tick(2);
      for (const id of ['a', 'b', 'c'])
        assert.deepEqual(net.node(id).raft.confState, conf(['a', 'b', 'c', 'd']));
    });

    test('a new leader leaves an auto-leave joint configuration its predecessor entered but could not leave', () => {
      const net = new Network(['a', 'b', 'c']);
      net.add('d', new MemoryStorage(emptyConf));
      net.add('e', new MemoryStorage(emptyConf));
      net.campaign('a');
      const isLeave = (entries: readonly { kind: string; data: Uint8Array }[]) =>
        entries.some((entry) => entry.kind === 'config' && decodeConfChange(entry.data).changes.length === 0);
      // a enters the joint configuration, proposes the leave, and is cut off before anyone sees it.
      net.fate = (message) => (message.type === 'append' && isLeave(message.entries) ? 'drop' : 'deliver');
      const proposed = net.node('a').proposeConfChange(
        change([
          { type: 'addVoter', node: 'd' },
          { type: 'addVoter', node: 'e' },
        ]),
      );
      assert.ok(proposed.ok);
      net.tick(1);
      assert.equal(isJoint(net.node('b').raft.confState), true, 'b applied the joint configuration');
      net.isolate('a');
      net.fate = () => 'deliver';
      net.tick(40);
      const leader = net.leader();
      assert.ok(leader && leader !== 'a');
      assert.deepEqual(
        net.node(leader).raft.confState,
        conf(['a', 'b', 'c', 'd', 'e']),
        'the new leader left the joint configuration',
      );
    });
  });
});
