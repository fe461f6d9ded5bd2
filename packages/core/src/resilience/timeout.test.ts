import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ResilienceErrorCode, TimeoutError } from './errors.js';
import { ManualScheduler } from './manual-scheduler.js';
import type { PolicyContext } from './policy.js';
import { timeout } from './timeout.js';

/** Resolves with `value` after `delayMs` on the scheduler, or rejects when its signal aborts. */
function cooperativeWork(scheduler: ManualScheduler, delayMs: number, value: string) {
  return async ({ signal }: PolicyContext): Promise<string> => {
    await scheduler.sleep(delayMs, signal);
    return value;
  };
}

describe('timeout', () => {
  test('an operation that finishes in time returns its result and leaves no timer behind', async () => {
    const scheduler = new ManualScheduler();
    const policy = timeout(100, { scheduler });
    const result = policy.execute(cooperativeWork(scheduler, 50, 'fast'));
    await scheduler.advance(50);
    assert.equal(await result, 'fast');
    assert.equal(scheduler.pendingCount, 0);
  });

  test('cooperative: aborts the signal at the deadline and reports a TimeoutError', async () => {
    const scheduler = new ManualScheduler();
    const policy = timeout(100, { scheduler });
    let seenSignal: AbortSignal | undefined;
    const result = policy.execute((context) => {
      seenSignal = context.signal;
      return cooperativeWork(scheduler, 1_000, 'slow')(context);
    });
    const outcome = result.catch((caught: unknown) => caught);
    await scheduler.advance(100);
    const error = await outcome;
    assert.ok(error instanceof TimeoutError);
    assert.equal(error.code, ResilienceErrorCode.timeout);
    assert.equal(seenSignal?.aborted, true);
  });

  test('cooperative: waits for an operation that ignores the signal and keeps its late result', async () => {
    const scheduler = new ManualScheduler();
    const policy = timeout(100, { scheduler });
    let settled = false;
    const result = policy.execute(() => scheduler.sleep(300).then(() => 'late'));
    result.then(() => (settled = true));
    await scheduler.advance(200);
    assert.equal(settled, false);
    await scheduler.advance(100);
    assert.equal(await result, 'late');
  });

  test('aggressive: rejects at the deadline even if the operation ignores the signal', async () => {
    const scheduler = new ManualScheduler();
    const policy = timeout(100, { strategy: 'aggressive', scheduler });
    const result = policy.execute(() => scheduler.sleep(10_000).then(() => 'ignored'));
    const rejected = assert.rejects(result, TimeoutError);
    await scheduler.advance(100);
    await rejected;
  });

  test("the caller's abort reaches the operation", async () => {
    const scheduler = new ManualScheduler();
    const policy = timeout(1_000, { scheduler });
    const controller = new AbortController();
    const result = policy.execute(cooperativeWork(scheduler, 500, 'never'), controller.signal);
    controller.abort(new Error('caller cancelled'));
    await assert.rejects(result, /caller cancelled/);
    await scheduler.advance(0);
    assert.equal(scheduler.pendingCount, 0);
  });

  test('abortOnReturn aborts the signal once the operation has returned', async () => {
    const scheduler = new ManualScheduler();
    let seenSignal: AbortSignal | undefined;
    await timeout(100, { scheduler, abortOnReturn: true }).execute(({ signal }) => {
      seenSignal = signal;
      return 'done';
    });
    assert.equal(seenSignal?.aborted, true);
  });
});
