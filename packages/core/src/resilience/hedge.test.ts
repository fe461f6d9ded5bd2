import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AttemptSupersededError } from './errors.js';
import { hedge } from './hedge.js';
import { ManualScheduler } from './manual-scheduler.js';
import type { PolicyContext } from './policy.js';

/** Attempt n takes latenciesMs[n-1] and then succeeds (or fails if the latency is negative). */
function replicas(scheduler: ManualScheduler, latenciesMs: number[]) {
  const signals: AbortSignal[] = [];
  const operation = async ({ signal, attempt }: PolicyContext): Promise<string> => {
    signals.push(signal);
    const latencyMs = latenciesMs[attempt - 1] ?? 0;
    await scheduler.sleep(Math.abs(latencyMs), signal);
    if (latencyMs < 0) throw new Error(`attempt ${attempt} failed`);
    return `attempt ${attempt}`;
  };
  return { operation, signals };
}

describe('hedge', () => {
  test('a fast first attempt is the only attempt', async () => {
    const scheduler = new ManualScheduler();
    const { operation, signals } = replicas(scheduler, [10]);
    const result = hedge({ delayMs: 50, scheduler }).execute(operation);
    await scheduler.advance(10);
    assert.equal(await result, 'attempt 1');
    await scheduler.runAll();
    assert.equal(signals.length, 1);
  });

  test('a slow first attempt gets a hedge after the delay; the first success wins and the loser is aborted', async () => {
    const scheduler = new ManualScheduler();
    const { operation, signals } = replicas(scheduler, [1_000, 20]);
    const result = hedge({ delayMs: 50, scheduler }).execute(operation);
    await scheduler.advance(49);
    assert.equal(signals.length, 1);
    await scheduler.advance(21);
    assert.equal(await result, 'attempt 2');
    assert.ok(signals[0]?.reason instanceof AttemptSupersededError);
    assert.equal(signals[1]?.aborted, false);
    assert.equal(scheduler.pendingCount, 0, 'no timer outlives the call');
  });

  test('a failed attempt starts the next one at once', async () => {
    const scheduler = new ManualScheduler();
    const { operation, signals } = replicas(scheduler, [-5, 5]);
    const result = hedge({ delayMs: 1_000, scheduler }).execute(operation);
    await scheduler.advance(10);
    assert.equal(await result, 'attempt 2');
    assert.equal(signals.length, 2);
  });

  test('when every attempt fails, rejects with the last error', async () => {
    const scheduler = new ManualScheduler();
    const { operation } = replicas(scheduler, [-30, -10, -5]);
    const result = hedge({ delayMs: 20, maxHedgedAttempts: 2, scheduler }).execute(operation);
    const settled = assert.rejects(result, /attempt 3 failed/);
    await scheduler.runAll();
    await settled;
  });
});
