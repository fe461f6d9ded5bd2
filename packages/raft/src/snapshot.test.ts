// InstallSnapshot in bounded chunks (Raft §7): the follower assembles one snapshot at a time and
// never mixes chunks of two; the leader streams chunk by chunk and re-sends a chunk whose answer
// never came after a stall timeout. Pitfall scenarios (hashicorp/raft#212, atomix#1028,
// redpanda#3245) are in pitfalls.test.ts.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { bytes, conf, messagesOf, Network, storageWithLog, text } from './network.fixture.js';
import { RawNode } from './raw-node.js';
import { SnapshotReceiver } from './snapshot.js';
import type { SnapshotChunkMessage, SnapshotMetadata } from './types.js';

const metadataAt = (index: number, term = 1): SnapshotMetadata => ({
  index,
  term,
  confState: conf(['a', 'b']),
});

/** The chunk of `data` at [offset, offset + size) as the leader would send it. */
function chunkOf(
  metadata: SnapshotMetadata,
  data: string,
  offset: number,
  size: number,
): SnapshotChunkMessage {
  const all = bytes(data);
  const end = Math.min(all.byteLength, offset + size);
  return {
    type: 'snapshot',
    group: 'default',
    from: 'a',
    to: 'b',
    term: 1,
    metadata,
    offset,
    totalBytes: all.byteLength,
    chunk: all.subarray(offset, end),
    done: end === all.byteLength,
  };
}

describe('snapshot receiver', () => {
  test('chunks received in order assemble into the snapshot', () => {
    const receiver = new SnapshotReceiver(1_000);
    const metadata = metadataAt(10);
    assert.deepEqual(receiver.receive(chunkOf(metadata, 'abcdefgh', 0, 3)), {
      kind: 'progress',
      receivedBytes: 3,
    });
    assert.deepEqual(receiver.receive(chunkOf(metadata, 'abcdefgh', 3, 3)), {
      kind: 'progress',
      receivedBytes: 6,
    });
    const outcome = receiver.receive(chunkOf(metadata, 'abcdefgh', 6, 3));
    assert.equal(outcome.kind, 'complete');
    assert.equal(outcome.kind === 'complete' && text(outcome.snapshot.data), 'abcdefgh');
  });

  test('the first chunk of a different snapshot discards what was received of the old one', () => {
    const receiver = new SnapshotReceiver(1_000);
    receiver.receive(chunkOf(metadataAt(10), 'OLDOLDOLD', 0, 3));
    receiver.receive(chunkOf(metadataAt(10), 'OLDOLDOLD', 3, 3));
    assert.deepEqual(receiver.receive(chunkOf(metadataAt(20), 'newnew', 0, 3)), {
      kind: 'progress',
      receivedBytes: 3,
    });
    const outcome = receiver.receive(chunkOf(metadataAt(20), 'newnew', 3, 3));
    assert.equal(outcome.kind === 'complete' && text(outcome.snapshot.data), 'newnew');
    assert.equal(outcome.kind === 'complete' && outcome.snapshot.metadata.index, 20);
  });

  test('a chunk from the middle of a snapshot the receiver has not started asks the leader to restart', () => {
    const receiver = new SnapshotReceiver(1_000);
    receiver.receive(chunkOf(metadataAt(10), 'OLDOLDOLD', 0, 3));
    assert.deepEqual(receiver.receive(chunkOf(metadataAt(20), 'newnew', 3, 3)), { kind: 'restart' });
    assert.deepEqual(receiver.receive(chunkOf(metadataAt(10), 'OLDOLDOLD', 3, 3)), { kind: 'restart' });
  });

  test('a duplicated or skipped chunk changes nothing and tells the leader where to resume', () => {
    const receiver = new SnapshotReceiver(1_000);
    const metadata = metadataAt(10);
    receiver.receive(chunkOf(metadata, 'abcdefgh', 0, 3));
    assert.deepEqual(receiver.receive(chunkOf(metadata, 'abcdefgh', 0, 3)), {
      kind: 'progress',
      receivedBytes: 3,
    });
    assert.deepEqual(receiver.receive(chunkOf(metadata, 'abcdefgh', 6, 3)), {
      kind: 'progress',
      receivedBytes: 3,
    });
    receiver.receive(chunkOf(metadata, 'abcdefgh', 3, 3));
    const outcome = receiver.receive(chunkOf(metadata, 'abcdefgh', 6, 3));
    assert.equal(outcome.kind === 'complete' && text(outcome.snapshot.data), 'abcdefgh');
  });

  test('a snapshot above the size limit, or whose chunks disagree with its declared size, is refused', () => {
    assert.deepEqual(new SnapshotReceiver(4).receive(chunkOf(metadataAt(10), 'abcdefgh', 0, 3)), {
      kind: 'restart',
    });
    const receiver = new SnapshotReceiver(1_000);
    const overflowing = { ...chunkOf(metadataAt(10), 'abcdefgh', 0, 8), totalBytes: 5 };
    assert.deepEqual(receiver.receive(overflowing), { kind: 'restart' });
    const shortDone = { ...chunkOf(metadataAt(10), 'abcdefgh', 0, 3), done: true };
    assert.deepEqual(receiver.receive(shortDone), { kind: 'restart' });
  });
});

const CHUNK_BYTES = 16;
const STATE = 'state:'.padEnd(100, '#'); // 7 chunks of 16 bytes

/** a leads a, b, c; c missed 20 entries that a has compacted away behind a snapshot. */
function followerBehindSnapshot() {
  const net = new Network(['a', 'b', 'c'], { snapshotChunkBytes: CHUNK_BYTES });
  net.campaign('a');
  net.isolate('c');
  for (let i = 0; i < 20; i++) net.propose(`v${i}`);
  net.stabilize();
  const snapshotIndex = net.snapshotAndCompact('a', STATE);
  return { net, snapshotIndex };
}

describe('snapshot streaming', () => {
  test('a follower behind the compacted log gets the snapshot in chunks, then the log after it', () => {
    const { net, snapshotIndex } = followerBehindSnapshot();
    net.heal();
    net.tick(1);
    const chunks = messagesOf(net.sent, 'snapshot', 'a', 'c');
    assert.deepEqual(
      chunks.map((m) => m.offset),
      [0, 16, 32, 48, 64, 80, 96],
    );
    assert.ok(chunks.every((m) => m.chunk.byteLength <= CHUNK_BYTES));
    const follower = net.peer('c');
    assert.equal(text(follower.storage.snapshot().data), STATE);
    assert.equal(follower.storage.snapshot().metadata.index, snapshotIndex);
    net.propose('after');
    net.stabilize(); // no tick: replication resumes right after the snapshot, not at the next heartbeat
    assert.deepEqual(net.appliedTexts('c'), ['after'], 'entries after the snapshot come from the log');
    assert.equal(follower.node.raft.log.committed, net.node('a').raft.log.committed);
  });

  test('a lost chunk is re-sent after the stall timeout, and nothing is re-sent before it', () => {
    const { net } = followerBehindSnapshot();
    let dropped = false;
    net.fate = (message) => {
      if (message.type !== 'snapshot' || message.offset !== 16 || dropped) return 'deliver';
      dropped = true;
      return 'drop';
    };
    net.heal();
    net.tick(1);
    assert.ok(dropped);
    const sentAfterLoss = () => messagesOf(net.sent, 'snapshot', 'a', 'c').length;
    assert.equal(sentAfterLoss(), 2);
    let ticks = 0;
    while (sentAfterLoss() === 2 && ticks < 30) {
      net.tick();
      ticks++;
    }
    assert.equal(
      ticks,
      net.node('a').raft.config.electionTicks,
      're-sent exactly one election timeout later',
    );
    assert.equal(
      messagesOf(net.sent, 'snapshot', 'a', 'c')[2]!.offset,
      16,
      'the lost chunk, not the whole snapshot',
    );
    assert.equal(text(net.peer('c').storage.snapshot().data), STATE);
  });

  test('a snapshot the follower already holds in its log only moves its commit index forward', () => {
    const storage = storageWithLog(conf(['a', 'b']), [1, 1, 1, 1], { term: 1, commit: 1 });
    const node = new RawNode({ id: 'b', random: { next: () => 0 } }, storage);
    node.step({ ...chunkOf(metadataAt(3), 'state', 0, 100), to: 'b' });
    const ready = node.ready();
    assert.equal(ready.snapshot, undefined, 'no restore: the log already has index 3 at term 1');
    assert.deepEqual(
      ready.committedEntries.map((e) => e.index),
      [1, 2, 3],
      'a fresh node applies from its first entry',
    );
    assert.equal(node.raft.log.lastIndex(), 4, 'entry 4 is kept');
    const [response] = messagesOf(ready.messages, 'snapshotResponse');
    assert.equal(response?.done, true);
  });

  test('a snapshot at or below the follower commit index is acknowledged as done without touching its log', () => {
    const storage = storageWithLog(conf(['a', 'b']), [1, 1, 1], { term: 1, commit: 3 });
    const node = new RawNode({ id: 'b', random: { next: () => 0 } }, storage);
    node.step({ ...chunkOf(metadataAt(2), 'state', 0, 2), to: 'b' });
    const ready = node.ready();
    assert.equal(ready.snapshot, undefined);
    assert.equal(node.raft.log.lastIndex(), 3);
    assert.deepEqual(
      messagesOf(ready.messages, 'snapshotResponse').map((m) => [m.snapshotIndex, m.done]),
      [[2, true]],
    );
  });

  test('a follower restoring a snapshot takes its membership from it', () => {
    const storage = storageWithLog(conf(['a', 'b']), [1], { term: 1, commit: 1 });
    const node = new RawNode({ id: 'b', random: { next: () => 0 } }, storage);
    const metadata = { index: 9, term: 1, confState: conf(['a', 'b', 'c'], ['d']) };
    node.step({ ...chunkOf(metadata, 'state', 0, 100), to: 'b' });
    const ready = node.ready();
    assert.equal(ready.snapshot?.metadata.index, 9);
    assert.deepEqual(node.raft.confState, metadata.confState);
    assert.equal(node.raft.promotable(), false, 'no campaign before the snapshot is persisted');
  });
});
