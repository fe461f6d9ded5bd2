import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { bulkhead } from './bulkhead.js';
import { BulkheadRejectedError, ResilienceErrorCode } from './errors.js';

/** An operation that stays pending until `release` is called; records when it started. */
function gate(started: string[], name: string) {
  let release: () => void = () => undefined;
  const operation = () =>
    new Promise<string>((resolve) => {
      started.push(name);
      release = () => resolve(name);
    });
  return { operation, release: () => release() };
}

describe('bulkhead', () => {
  test('runs at most maxConcurrent calls and queues the rest in arrival order', async () => {
    const policy = bulkhead({ maxConcurrent: 2, maxQueueLength: 2 });
    const started: string[] = [];
    const gates = ['a', 'b', 'c', 'd'].map((name) => gate(started, name));
    const results = gates.map(({ operation }) => policy.execute(operation));
    assert.deepEqual(started, ['a', 'b']);
    assert.equal(policy.activeCount, 2);
    assert.equal(policy.queuedCount, 2);
    gates[1]?.release();
    await results[1];
    await Promise.resolve();
    assert.deepEqual(started, ['a', 'b', 'c'], 'the freed slot goes to the oldest waiter');
    gates[0]?.release();
    await results[0];
    await Promise.resolve();
    assert.deepEqual(started, ['a', 'b', 'c', 'd']);
    gates[2]?.release();
    gates[3]?.release();
    assert.deepEqual(await Promise.all(results), ['a', 'b', 'c', 'd']);
    assert.equal(policy.activeCount, 0);
  });

  test('refuses a call when every slot and queue place is taken, with a stable code', async () => {
    const policy = bulkhead({ maxConcurrent: 1, maxQueueLength: 1 });
    const started: string[] = [];
    const first = gate(started, 'first');
    const second = gate(started, 'second');
    const running = policy.execute(first.operation);
    const queued = policy.execute(second.operation);
    const refusal = await policy.execute(async () => 'third').catch((error: unknown) => error);
    assert.ok(refusal instanceof BulkheadRejectedError);
    assert.equal(refusal.code, ResilienceErrorCode.bulkheadRejected);
    first.release();
    await running;
    await Promise.resolve();
    second.release();
    assert.equal(await queued, 'second');
  });

  test('a failing call frees its slot', async () => {
    const policy = bulkhead({ maxConcurrent: 1 });
    await assert.rejects(
      policy.execute(async () => {
        throw new Error('boom');
      }),
      /boom/,
    );
    assert.equal(policy.activeCount, 0);
    assert.equal(await policy.execute(async () => 'next'), 'next');
  });

  test('an aborted waiter leaves the queue and rejects with the abort reason', async () => {
    const policy = bulkhead({ maxConcurrent: 1, maxQueueLength: 1 });
    const started: string[] = [];
    const holder = gate(started, 'holder');
    const running = policy.execute(holder.operation);
    const controller = new AbortController();
    const waiting = policy.execute(async () => 'never', controller.signal);
    controller.abort(new Error('no longer needed'));
    await assert.rejects(waiting, /no longer needed/);
    assert.equal(policy.queuedCount, 0);
    holder.release();
    await running;
    assert.equal(policy.activeCount, 0);
  });
});
