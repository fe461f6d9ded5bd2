import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { gcraAlgorithm } from './gcra.js';
import { KeyedRateLimiter } from './keyed.js';
import {
  TokenBucket,
  type TokenBucketConfig,
  type TokenBucketState,
  tokenBucketAlgorithm,
} from './token-bucket.js';

function manualClock() {
  return {
    nowMs: 0,
    now() {
      return this.nowMs;
    },
  };
}

test('each key has its own budget', () => {
  const limiter = new KeyedRateLimiter(
    tokenBucketAlgorithm,
    { capacity: 1, refillPerSecond: 1 },
    { maxKeys: 10, clock: manualClock() },
  );
  assert.equal(limiter.tryAcquire('alice').allowed, true);
  assert.equal(limiter.tryAcquire('alice').allowed, false);
  assert.equal(limiter.tryAcquire('bob').allowed, true);
  assert.deepEqual(limiter.stateOf('bob'), { tokens: 0, updatedAtMs: 0 });
});

test('the least recently used key is forgotten first and starts afresh', () => {
  const limiter = new KeyedRateLimiter(
    gcraAlgorithm,
    { ratePerSecond: 1, burst: 1 },
    { maxKeys: 2, clock: manualClock() },
  );
  limiter.tryAcquire('a');
  limiter.tryAcquire('b');
  limiter.tryAcquire('a');
  limiter.tryAcquire('c'); // evicts b, the least recently used
  assert.equal(limiter.stateOf('b'), undefined);
  assert.equal(limiter.tryAcquire('b').allowed, true);
  assert.equal(limiter.tryAcquire('c').allowed, false);
});

test('never keeps more than maxKeys keys, and with room for every key agrees with one limiter per key', () => {
  const config = { capacity: 2, refillPerSecond: 5 };
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 6 }),
      fc.array(fc.record({ key: fc.integer({ min: 0, max: 12 }), gapMs: fc.integer({ min: 0, max: 300 }) }), {
        maxLength: 200,
      }),
      (maxKeys, requests) => {
        const clock = manualClock();
        const bounded = new KeyedRateLimiter<TokenBucketState, TokenBucketConfig, number>(
          tokenBucketAlgorithm,
          config,
          {
            maxKeys,
            clock,
          },
        );
        const roomy = new KeyedRateLimiter<TokenBucketState, TokenBucketConfig, number>(
          tokenBucketAlgorithm,
          config,
          {
            maxKeys: 100,
            clock,
          },
        );
        const separate = new Map<number, TokenBucket>();
        for (const { key, gapMs } of requests) {
          clock.nowMs += gapMs;
          bounded.tryAcquire(key);
          assert.ok(bounded.size <= maxKeys);
          const own = separate.get(key) ?? new TokenBucket(config, clock);
          separate.set(key, own);
          assert.equal(roomy.tryAcquire(key).allowed, own.tryAcquire().allowed);
        }
      },
    ),
  );
});
