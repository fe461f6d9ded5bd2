import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { IdempotencyCache } from './idempotency.js';

function manualClock() {
  return {
    nowMs: 0,
    now() {
      return this.nowMs;
    },
  };
}

test('concurrent calls with the same key share one execution', async () => {
  const cache = new IdempotencyCache<number>({ ttlMs: 1_000, maxKeys: 10, clock: manualClock() });
  let executions = 0;
  let release: (value: number) => void = () => undefined;
  const charge = () => {
    executions++;
    return new Promise<number>((resolve) => (release = resolve));
  };
  const first = cache.run('payment-1', charge);
  const second = cache.run('payment-1', charge);
  release(42);
  assert.deepEqual(await Promise.all([first, second]), [42, 42]);
  assert.equal(executions, 1);
});

test('a repeat within the TTL replays the result; after the TTL it runs again', async () => {
  const clock = manualClock();
  const cache = new IdempotencyCache<number>({ ttlMs: 1_000, maxKeys: 10, clock });
  let executions = 0;
  const operation = async () => ++executions;
  assert.equal(await cache.run('k', operation), 1);
  clock.nowMs = 999;
  assert.equal(await cache.run('k', operation), 1);
  clock.nowMs = 1_000;
  assert.equal(await cache.run('k', operation), 2);
});

test('a failure is forgotten at once unless cacheFailures is set', async () => {
  const failing = async (): Promise<number> => {
    throw new Error('declined');
  };
  const forgetful = new IdempotencyCache<number>({ ttlMs: 1_000, maxKeys: 10, clock: manualClock() });
  await assert.rejects(forgetful.run('k', failing), /declined/);
  assert.equal(await forgetful.run('k', async () => 7), 7);

  const remembering = new IdempotencyCache<number>({
    ttlMs: 1_000,
    maxKeys: 10,
    cacheFailures: true,
    clock: manualClock(),
  });
  await assert.rejects(remembering.run('k', failing), /declined/);
  await assert.rejects(
    remembering.run('k', async () => 7),
    /declined/,
  );
});

test('never remembers more than maxKeys keys', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 1, max: 5 }),
      fc.array(fc.integer({ min: 0, max: 30 }), { maxLength: 100 }),
      async (maxKeys, keys) => {
        const cache = new IdempotencyCache<number, number>({ ttlMs: 10_000, maxKeys, clock: manualClock() });
        for (const key of keys) {
          await cache.run(key, () => key);
          assert.ok(cache.size <= maxKeys);
        }
      },
    ),
  );
});
