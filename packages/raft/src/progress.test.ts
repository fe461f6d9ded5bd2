// Flow control towards one follower: the in-flight window, probe/replicate/snapshot states, and
// how acknowledgements and rejections move matchIndex and nextIndex (etcd's tracker.Progress).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { messagesOf, Network } from './network.fixture.js';
import { Inflights, Progress } from './progress.js';
import type { Message } from './types.js';
import { RaftInvariantError } from './types.js';

describe('inflight window', () => {
  test('is full at maxMessages messages or at maxBytes bytes, whichever comes first', () => {
    const byCount = new Inflights(3, 1_000);
    byCount.add(1, 10);
    byCount.add(2, 10);
    assert.equal(byCount.full(), false);
    byCount.add(3, 10);
    assert.equal(byCount.full(), true);

    const byBytes = new Inflights(100, 50);
    byBytes.add(4, 30);
    assert.equal(byBytes.full(), false);
    byBytes.add(9, 30); // one message may overshoot the byte budget; then the window is closed
    assert.equal(byBytes.full(), true);
    assert.equal(byBytes.count(), 2);
  });

  test('an acknowledgement frees every message up to its index, and only those', () => {
    const inflights = new Inflights(4, 1_000);
    for (const lastIndex of [3, 6, 9, 12]) inflights.add(lastIndex, 10);
    inflights.freeTo(7);
    assert.equal(inflights.count(), 2);
    inflights.freeTo(5); // stale acknowledgement: nothing left at or below 5
    assert.equal(inflights.count(), 2);
    inflights.freeTo(12);
    assert.equal(inflights.count(), 0);
  });

  test('adding to a full window or out of index order is a bug and throws', () => {
    const full = new Inflights(1, 1_000);
    full.add(5, 1);
    assert.throws(() => full.add(6, 1), RaftInvariantError);
    const ordered = new Inflights(4, 1_000);
    ordered.add(7, 1);
    assert.throws(() => ordered.add(7, 1), RaftInvariantError);
  });
});

describe('progress', () => {
  const progressAt = (match: number, next: number) => {
    const progress = new Progress(next, 4, 1_000, false);
    progress.match = match;
    return progress;
  };

  test('a stale or duplicated acknowledgement never moves matchIndex or nextIndex back', () => {
    const progress = progressAt(5, 9);
    assert.equal(progress.maybeUpdate(3), false);
    assert.equal(progress.match, 5);
    assert.equal(progress.next, 9);
    assert.equal(progress.maybeUpdate(7), true);
    assert.equal(progress.match, 7);
    assert.equal(progress.next, 9);
  });

  test('a probe backs off to just after the follower hint', () => {
    const progress = progressAt(2, 11);
    progress.sentEntries(10, 0, 0);
    assert.equal(progress.isPaused(), true, 'one probe at a time');
    assert.equal(progress.maybeDecrease(10, 4), true);
    assert.equal(progress.next, 5);
    assert.equal(progress.isPaused(), false);
    progress.sentEntries(4, 0, 0);
    assert.equal(progress.maybeDecrease(4, 2), true);
    assert.equal(progress.next, 3);
  });

  test('a probe ignores a rejection of any append but the outstanding one', () => {
    const progress = progressAt(0, 8);
    assert.equal(progress.maybeDecrease(9, 1), false);
    assert.equal(progress.maybeDecrease(3, 1), false);
    assert.equal(progress.next, 8);
  });

  test('in replicate state a rejection below matchIndex is stale; a later one restarts from matchIndex + 1', () => {
    const progress = progressAt(6, 7);
    progress.becomeReplicate();
    progress.sentEntries(9, 3, 30);
    progress.sentEntries(12, 3, 30);
    assert.equal(progress.maybeDecrease(5, 3), false);
    assert.equal(progress.next, 13);
    assert.equal(progress.maybeDecrease(9, 6), true);
    assert.equal(progress.next, 7);
  });

  test('a rejection hinting below matchIndex means the follower lost what it acknowledged: matchIndex is forgotten', () => {
    const progress = progressAt(6, 7);
    progress.becomeReplicate();
    progress.sentEntries(9, 3, 30);
    assert.equal(progress.maybeDecrease(9, 0), true);
    assert.equal(progress.match, 0);
    assert.equal(progress.next, 1);
  });

  test('after a snapshot the follower is probed right after the snapshot index', () => {
    const progress = progressAt(3, 4);
    progress.becomeSnapshot(40);
    assert.equal(progress.isPaused(), true, 'no appends while a snapshot streams');
    progress.becomeProbe();
    assert.equal(progress.next, 41);
  });
});

/** The leader's view: appends carrying entries sent from `leader` to `follower` beyond what the leader saw acknowledged. */
function unacknowledgedAppends(net: Network, leader: string, follower: string): number {
  const acknowledged = net.node(leader).raft.progress.get(follower)!.match;
  return messagesOf(net.sent, 'append', leader, follower).filter(
    (message) =>
      message.entries.length > 0 && message.entries[message.entries.length - 1]!.index > acknowledged,
  ).length;
}

const isAckFrom = (from: string) => (message: Message) =>
  message.type === 'appendResponse' && message.from === from && message.to === 'a';

describe('pipelining', () => {
  test('a follower that acknowledges nothing receives exactly maxInflightMessages appends, then the rest once it answers', () => {
    const net = new Network(['a', 'b', 'c'], { maxInflightMessages: 4, maxEntriesPerMessage: 1 });
    net.campaign('a');
    net.fate = (message) => (isAckFrom('b')(message) ? 'hold' : 'deliver');
    for (let i = 0; i < 20; i++) {
      net.propose(`v${i}`);
      net.stabilize();
    }
    assert.equal(unacknowledgedAppends(net, 'a', 'b'), 4);
    assert.equal(net.peer('c').committed.length, 21, 'c keeps the quorum going meanwhile');
    net.fate = () => 'deliver';
    net.release();
    net.stabilize();
    assert.equal(net.appliedTexts('b').length, 20);
  });

  test('a new leader probes a follower with one append at a time until it answers', () => {
    const net = new Network(['a', 'b', 'c']);
    net.fate = (message) => (isAckFrom('b')(message) ? 'hold' : 'deliver');
    net.campaign('a');
    for (let i = 0; i < 5; i++) {
      net.propose(`v${i}`);
      net.stabilize();
    }
    const withEntries = messagesOf(net.sent, 'append', 'a', 'b').filter((m) => m.entries.length > 0);
    assert.equal(withEntries.length, 1);
  });

  test('the window never holds more than maxInflightMessages unacknowledged appends, whatever the timing of acknowledgements', () => {
    const action = fc.oneof(
      fc.record({ kind: fc.constant('propose' as const), count: fc.integer({ min: 1, max: 4 }) }),
      fc.record({ kind: fc.constant('releaseSome' as const), count: fc.integer({ min: 1, max: 3 }) }),
      fc.record({ kind: fc.constant('dropHeld' as const) }),
      fc.record({ kind: fc.constant('tick' as const) }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5 }), fc.array(action, { maxLength: 40 }), (window, actions) => {
        const net = new Network(['a', 'b', 'c'], { maxInflightMessages: window, maxEntriesPerMessage: 2 });
        net.campaign('a');
        net.fate = (message) => (isAckFrom('b')(message) ? 'hold' : 'deliver');
        for (const step of actions) {
          if (step.kind === 'propose') for (let i = 0; i < step.count; i++) net.propose('x');
          else if (step.kind === 'releaseSome') {
            const released = new Set(net.held.slice(0, step.count));
            net.release((message) => released.has(message));
          } else if (step.kind === 'dropHeld') net.held = [];
          else net.tick();
          net.stabilize();
          assert.ok(unacknowledgedAppends(net, 'a', 'b') <= window);
        }
        // Liveness: once b's answers flow again, b catches up, even if earlier answers were lost.
        net.fate = () => 'deliver';
        net.release();
        net.tick(3);
        assert.equal(net.node('b').raft.log.committed, net.node('a').raft.log.lastIndex());
      }),
      { numRuns: 60 },
    );
  });

  test('a follower whose answers were all lost while the window was full still catches up', () => {
    const net = new Network(['a', 'b', 'c'], { maxInflightMessages: 2, maxEntriesPerMessage: 1 });
    net.campaign('a');
    net.fate = (message) => (isAckFrom('b')(message) ? 'drop' : 'deliver');
    for (let i = 0; i < 6; i++) {
      net.propose(`v${i}`);
      net.stabilize();
    }
    net.fate = () => 'deliver';
    net.tick(3);
    assert.equal(net.appliedTexts('b').length, 6);
  });
});
