import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { constantBackoff, exponentialBackoff } from './backoff.js';
import { ManualScheduler } from './manual-scheduler.js';
import type { PolicyContext } from './policy.js';
import { type GiveUpEvent, type RetryEvent, retry } from './retry.js';

/** An operation that fails `failures` times, then returns `value`; it records each attempt's context. */
function flaky<T>(failures: number, value: T) {
  const contexts: PolicyContext[] = [];
  const operation = async (context: PolicyContext): Promise<T> => {
    contexts.push(context);
    if (contexts.length <= failures) throw new Error(`failure ${contexts.length}`);
    return value;
  };
  return { operation, contexts };
}

describe('retry', () => {
  test('a successful first attempt runs once and sleeps never', async () => {
    const scheduler = new ManualScheduler();
    const { operation, contexts } = flaky(0, 'ok');
    assert.equal(await retry({ scheduler }).execute(operation), 'ok');
    assert.equal(contexts.length, 1);
    assert.equal(scheduler.pendingCount, 0);
  });

  test('retries transient failures with the backoff delays and numbers the attempts', async () => {
    const scheduler = new ManualScheduler();
    const policy = retry({
      maxAttempts: 4,
      scheduler,
      backoff: exponentialBackoff({ initialDelayMs: 100, jitter: 'none' }),
    });
    const { operation, contexts } = flaky(2, 'ok');
    const result = policy.execute(operation);
    await scheduler.advance(99);
    assert.equal(contexts.length, 1, 'no retry before the first backoff has elapsed');
    await scheduler.advance(1);
    assert.equal(contexts.length, 2);
    await scheduler.advance(199);
    assert.equal(contexts.length, 2, 'the second backoff is twice the first');
    await scheduler.advance(1);
    assert.equal(await result, 'ok');
    assert.deepEqual(
      contexts.map((context) => context.attempt),
      [1, 2, 3],
    );
  });

  test('gives up after maxAttempts and rethrows the last error', async () => {
    const scheduler = new ManualScheduler();
    const giveUps: GiveUpEvent<unknown>[] = [];
    const policy = retry({ maxAttempts: 3, scheduler, backoff: constantBackoff(10) });
    policy.onGiveUp((event) => giveUps.push(event));
    const { operation, contexts } = flaky(10, 'never');
    const result = assert.rejects(policy.execute(operation), /failure 3/);
    await scheduler.runAll();
    await result;
    assert.equal(contexts.length, 3);
    assert.deepEqual(
      giveUps.map(({ attempts, reason }) => ({ attempts, reason })),
      [{ attempts: 3, reason: 'max-attempts' }],
    );
  });

  test('does not retry an error the predicate rejects', async () => {
    const scheduler = new ManualScheduler();
    const policy = retry({ scheduler, shouldRetryError: (error) => !(error instanceof TypeError) });
    let attempts = 0;
    await assert.rejects(
      policy.execute(() => {
        attempts++;
        throw new TypeError('bad request');
      }),
      TypeError,
    );
    assert.equal(attempts, 1);
  });

  test('retries results the predicate marks as failures and returns the last one when out of attempts', async () => {
    const scheduler = new ManualScheduler();
    const policy = retry<{ status: number }>({
      maxAttempts: 2,
      scheduler,
      backoff: constantBackoff(5),
      shouldRetryResult: (response) => response.status === 503,
    });
    let attempts = 0;
    const result = policy.execute(async () => {
      attempts++;
      return { status: 503 };
    });
    await scheduler.runAll();
    assert.deepEqual(await result, { status: 503 });
    assert.equal(attempts, 2);
  });

  test('stops before a backoff that would cross the overall deadline', async () => {
    const scheduler = new ManualScheduler();
    const giveUps: string[] = [];
    const policy = retry({ maxAttempts: 100, maxElapsedMs: 250, scheduler, backoff: constantBackoff(100) });
    policy.onGiveUp(({ reason }) => giveUps.push(reason));
    const { operation, contexts } = flaky(100, 'never');
    const result = assert.rejects(policy.execute(operation));
    await scheduler.runAll();
    await result;
    assert.equal(contexts.length, 3, 'attempts at 0, 100 and 200 ms; a fourth at 300 ms would be late');
    assert.deepEqual(giveUps, ['deadline']);
  });

  test('an abort during backoff rejects with the abort reason and makes no further attempt', async () => {
    const scheduler = new ManualScheduler();
    const controller = new AbortController();
    const policy = retry({ scheduler, backoff: constantBackoff(1_000) });
    const { operation, contexts } = flaky(10, 'never');
    const result = policy.execute(operation, controller.signal);
    await scheduler.advance(10);
    controller.abort(new Error('caller gave up'));
    await assert.rejects(result, /caller gave up/);
    await scheduler.runAll();
    assert.equal(contexts.length, 1);
    assert.equal(contexts[0]?.signal, controller.signal, 'the caller signal reaches the operation');
  });

  test('reports each retry with the failed attempt, its delay and its outcome', async () => {
    const scheduler = new ManualScheduler();
    const retries: RetryEvent<unknown>[] = [];
    const policy = retry({ scheduler, backoff: constantBackoff(7) });
    policy.onRetry((event) => retries.push(event));
    const result = policy.execute(flaky(2, 'ok').operation);
    await scheduler.runAll();
    assert.equal(await result, 'ok');
    assert.deepEqual(
      retries.map(({ attempt, delayMs, outcome }) => ({ attempt, delayMs, failed: outcome.failed })),
      [
        { attempt: 1, delayMs: 7, failed: true },
        { attempt: 2, delayMs: 7, failed: true },
      ],
    );
  });

  test('rejects a maxAttempts below one', () => {
    assert.throws(() => retry({ maxAttempts: 0 }), RangeError);
  });
});
