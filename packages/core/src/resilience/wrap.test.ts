import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { constantBackoff } from './backoff.js';
import { circuitBreaker } from './circuit-breaker.js';
import { BrokenCircuitError } from './errors.js';
import { ManualScheduler } from './manual-scheduler.js';
import { type Invoker, type Operation, operationInvoker, type Policy, type PolicyContext } from './policy.js';
import { retry } from './retry.js';
import { timeout } from './timeout.js';
import { wrap } from './wrap.js';

describe('wrap', () => {
  test('retry outside timeout: each attempt gets its own deadline', async () => {
    const scheduler = new ManualScheduler();
    const policy = wrap(
      retry({ maxAttempts: 3, scheduler, backoff: constantBackoff(10) }),
      timeout(100, { scheduler }),
    );
    const attempts: number[] = [];
    const result = policy.execute(async ({ signal, attempt }: PolicyContext) => {
      attempts.push(attempt);
      await scheduler.sleep(attempt < 3 ? 1_000 : 50, signal);
      return `answered on attempt ${attempt}`;
    });
    await scheduler.runAll();
    assert.equal(await result, 'answered on attempt 3');
    assert.deepEqual(attempts, [1, 2, 3]);
  });

  test('retry outside a breaker sees the breaker open and stops on its coded error', async () => {
    const scheduler = new ManualScheduler();
    const breaker = circuitBreaker({
      tripPolicy: { kind: 'consecutive', failureThreshold: 2 },
      clock: scheduler,
    });
    const policy = wrap(
      retry({
        maxAttempts: 5,
        scheduler,
        backoff: constantBackoff(1),
        shouldRetryError: (error) => !(error instanceof BrokenCircuitError),
      }),
      breaker,
    );
    let calls = 0;
    const result = policy.execute(async () => {
      calls++;
      throw new Error('downstream down');
    });
    const rejected = assert.rejects(result, BrokenCircuitError);
    await scheduler.runAll();
    await rejected;
    assert.equal(calls, 2, 'the third attempt was refused by the open breaker');
  });

  test('the first policy listed is the outermost', async () => {
    const order: string[] = [];
    const policy = wrap(recording('a', order), recording('b', order), recording('c', order));
    assert.equal(await policy.execute(async () => order.push('operation')), 4);
    assert.deepEqual(order, ['enter a', 'enter b', 'enter c', 'operation', 'leave c', 'leave b', 'leave a']);
  });

  test('nested chains flatten and keep every policy', async () => {
    const inner = wrap(retry({ maxAttempts: 2, backoff: constantBackoff(0) }), timeout(1_000));
    const outer = wrap(circuitBreaker(), inner);
    assert.equal(outer.policies.length, 3);
    let attempts = 0;
    const value = await outer.execute(async () => {
      attempts++;
      if (attempts === 1) throw new Error('transient');
      return attempts;
    });
    assert.equal(value, 2);
  });

  test('a policy that inspects results constrains what the composed operation may return', async () => {
    interface Response {
      status: number;
    }
    const policy = wrap(
      retry<Response>({ shouldRetryResult: (response) => response.status === 503 }),
      timeout(1_000),
    );
    const response: Response = await policy.execute(async () => ({ status: 200 }));
    assert.equal(response.status, 200);
    // @ts-expect-error a number is not a Response (checked by the type checker, not at run time)
    await policy.execute(async () => 42);
  });
});

/** A policy that records when calls enter and leave it: how a user writes their own policy. */
function recording(name: string, order: string[]): Policy {
  return {
    execute<T>(operation: Operation<T>, signal?: AbortSignal): Promise<T> {
      return this.around(operationInvoker, 0, operation, {
        signal: signal ?? new AbortController().signal,
        attempt: 1,
      });
    },
    async around<T>(
      next: Invoker,
      depth: number,
      operation: Operation<T>,
      context: PolicyContext,
    ): Promise<T> {
      order.push(`enter ${name}`);
      try {
        return await next.invoke(operation, context, depth);
      } finally {
        order.push(`leave ${name}`);
      }
    },
  };
}
