import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  REQUEST_QUEUE_HIGH_WATER_MESSAGES,
  REQUEST_QUEUE_LOW_WATER_MESSAGES,
  RequestQueue,
} from './request-queue.js';

function flowRecorder() {
  const events: string[] = [];
  return { events, flow: { pause: () => events.push('pause'), resume: () => events.push('resume') } };
}

describe('request queue', () => {
  test('requests come out in order and the iteration ends after end()', async () => {
    const { flow } = flowRecorder();
    const queue = new RequestQueue<number>(flow);
    queue.push(1);
    queue.push(2);
    setImmediate(() => {
      queue.push(3);
      queue.end();
    });
    const seen: number[] = [];
    for await (const request of queue) seen.push(request);
    assert.deepEqual(seen, [1, 2, 3]);
  });

  test('reading pauses at the high-water mark and resumes once drained to the low-water mark', async () => {
    const { events, flow } = flowRecorder();
    const queue = new RequestQueue<number>(flow);
    for (let i = 0; i < REQUEST_QUEUE_HIGH_WATER_MESSAGES; i++) queue.push(i);
    assert.deepEqual(events, ['pause']);
    while (queue.length > REQUEST_QUEUE_LOW_WATER_MESSAGES + 1) await queue.next();
    assert.deepEqual(events, ['pause']);
    await queue.next();
    assert.deepEqual(events, ['pause', 'resume']);
  });

  test('a failure reaches a waiting consumer and every later read', async () => {
    const { flow } = flowRecorder();
    const queue = new RequestQueue<number>(flow);
    const pending = queue.next();
    queue.fail(new Error('cancelled'));
    await assert.rejects(pending, /cancelled/);
    await assert.rejects(queue.next(), /cancelled/);
  });

  test('breaking out of the loop drops what is buffered and lets a paused stream flow again', async () => {
    const { events, flow } = flowRecorder();
    const queue = new RequestQueue<number>(flow);
    for (let i = 0; i < REQUEST_QUEUE_HIGH_WATER_MESSAGES; i++) queue.push(i);
    for await (const request of queue) {
      assert.equal(request, 0);
      break;
    }
    assert.deepEqual(events, ['pause', 'resume']);
    assert.equal(queue.length, 0);
    queue.push(99);
    assert.equal(queue.length, 0);
  });

  test('the requests can be iterated only once', () => {
    const queue = new RequestQueue<number>(flowRecorder().flow);
    queue[Symbol.asyncIterator]();
    assert.throws(() => queue[Symbol.asyncIterator](), /only once/);
  });
});
