import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Message } from '@synod/raft';
import fc from 'fast-check';
import { oneOfEveryType } from './messages.fixture.js';
import { SendQueue } from './send-queue.js';

const SEED = Number(process.env.SYNOD_TEST_SEED ?? 20_240_604);
const snapshotChunk = oneOfEveryType().find((message) => message.type === 'snapshot')!;

function heartbeat(sentTick: number): Message {
  return { type: 'heartbeat', group: 'g', from: 'a', to: 'b', term: 1, commit: 0, context: '', sentTick };
}

function ticksOf(messages: readonly Message[]): number[] {
  return messages.map((message) => (message.type === 'heartbeat' ? message.sentTick : -1));
}

test('messages come out in the order they went in, in batches within the byte bound', () => {
  const queue = new SendQueue({ bytesMax: 1000, messagesMax: 100 });
  for (let tick = 0; tick < 10; tick++) assert.equal(queue.offer(heartbeat(tick), 10), 0);
  assert.deepEqual(ticksOf(queue.takeBatch(35, 100)), [0, 1, 2]);
  assert.deepEqual(ticksOf(queue.takeBatch(1000, 4)), [3, 4, 5, 6]);
  assert.deepEqual(ticksOf(queue.takeBatch(1000, 100)), [7, 8, 9]);
  assert.equal(queue.queuedMessages, 0);
  assert.equal(queue.queuedBytes, 0);
});

test('a batch holds at least one message even when that message alone exceeds the batch bound', () => {
  const queue = new SendQueue({ bytesMax: 1000, messagesMax: 100 });
  queue.offer(heartbeat(1), 500);
  queue.offer(heartbeat(2), 10);
  assert.deepEqual(ticksOf(queue.takeBatch(100, 100)), [1]);
});

test('a full queue drops the newest message and keeps the older ones', () => {
  const byBytes = new SendQueue({ bytesMax: 30, messagesMax: 100 });
  for (let tick = 0; tick < 3; tick++) byBytes.offer(heartbeat(tick), 10);
  assert.equal(byBytes.offer(heartbeat(3), 10), 1);
  assert.deepEqual(ticksOf(byBytes.takeBatch(1000, 100)), [0, 1, 2]);
  const byCount = new SendQueue({ bytesMax: 1000, messagesMax: 2 });
  byCount.offer(heartbeat(0), 1);
  byCount.offer(heartbeat(1), 1);
  assert.equal(byCount.offer(heartbeat(2), 1), 1);
  assert.equal(byCount.queuedMessages, 2);
});

test('a snapshot chunk displaces the newest non-snapshot messages but never another chunk', () => {
  const queue = new SendQueue({ bytesMax: 100, messagesMax: 100 });
  queue.offer(heartbeat(0), 20);
  queue.offer(snapshotChunk, 40);
  queue.offer(heartbeat(1), 20);
  queue.offer(heartbeat(2), 20);
  assert.equal(queue.offer(snapshotChunk, 20), 1); // heartbeat 2 goes; heartbeat 1 stays
  assert.deepEqual(ticksOf(queue.takeBatch(1000, 100)), [0, -1, 1, -1]);
  const full = new SendQueue({ bytesMax: 100, messagesMax: 100 });
  full.offer(snapshotChunk, 80);
  full.offer(heartbeat(0), 20);
  assert.equal(full.offer(snapshotChunk, 30), 1); // cannot fit even alone beside the first chunk
  assert.equal(full.queuedMessages, 2);
});

test('the queue never exceeds its bounds and accounts every message as kept or dropped', () => {
  const operation = fc.oneof(
    fc.record({
      kind: fc.constant('offer' as const),
      snapshot: fc.boolean(),
      bytes: fc.integer({ min: 1, max: 60 }),
    }),
    fc.record({ kind: fc.constant('take' as const), bytes: fc.integer({ min: 1, max: 200 }) }),
  );
  fc.assert(
    fc.property(fc.array(operation, { maxLength: 200 }), (operations) => {
      const queue = new SendQueue({ bytesMax: 200, messagesMax: 8 });
      let offered = 0;
      let dropped = 0;
      let taken = 0;
      for (const op of operations) {
        if (op.kind === 'offer') {
          offered++;
          dropped += queue.offer(op.snapshot ? snapshotChunk : heartbeat(offered), op.bytes);
        } else {
          taken += queue.takeBatch(op.bytes, 100).length;
        }
        assert.ok(queue.queuedBytes <= 200 && queue.queuedMessages <= 8);
        assert.equal(offered, dropped + taken + queue.queuedMessages);
      }
    }),
    { seed: SEED, numRuns: 500 },
  );
});
