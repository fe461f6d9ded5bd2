import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { LeaseExpiryTracker } from './expiry-tracker.js';
import { LEASE_REVOKE_BATCH_MAX, LEASE_REVOKE_RATE_PER_SECOND } from './lease-types.js';

const SEED = Number(process.env.LEASE_PROPERTY_SEED ?? 20_250_303);
const ELECTION_TIMEOUT_MS = 1_000;

function leaderAt(nowMs: number, options: ConstructorParameters<typeof LeaseExpiryTracker>[0] = {}) {
  const tracker = new LeaseExpiryTracker(options);
  tracker.promote(nowMs, [], ELECTION_TIMEOUT_MS);
  return tracker;
}

describe('LeaseExpiryTracker: expiry and renewal', () => {
  test('a granted lease expires exactly TTL seconds after its grant, not a millisecond earlier', () => {
    const tracker = leaderAt(0);
    tracker.onGrant(1n, 10, 500);
    assert.deepEqual(tracker.expired(10_499, LEASE_REVOKE_BATCH_MAX), []);
    assert.deepEqual(tracker.expired(10_500, LEASE_REVOKE_BATCH_MAX), [1n]);
  });

  test('renew restarts the full granted TTL from now and answers it', () => {
    const tracker = leaderAt(0);
    tracker.onGrant(1n, 10, 0);
    assert.deepEqual(tracker.renew(1n, 9_000), { ok: true, ttlSeconds: 10, clearCheckpoint: false });
    assert.deepEqual(tracker.expired(18_999, LEASE_REVOKE_BATCH_MAX), []);
    assert.deepEqual(tracker.expired(19_000, LEASE_REVOKE_BATCH_MAX), [1n]);
  });

  test('renewing an unknown or expired lease is not found; a follower refuses to renew', () => {
    const tracker = leaderAt(0);
    tracker.onGrant(1n, 10, 0);
    assert.deepEqual(tracker.renew(2n, 1), { ok: false, reason: 'notFound' });
    assert.deepEqual(tracker.renew(1n, 10_000), { ok: false, reason: 'notFound' });
    const follower = new LeaseExpiryTracker();
    follower.onGrant(1n, 10, 0);
    assert.deepEqual(follower.renew(1n, 1), { ok: false, reason: 'notLeader' });
    assert.deepEqual(follower.remainingTtlSeconds(1n, 1), { ok: false, reason: 'notLeader' });
    assert.deepEqual(follower.expired(1_000_000, 1), []);
    assert.equal(follower.size, 0);
  });

  test('TimeToLive counts whole seconds left, rounded down, and -1 once expired or unknown', () => {
    const tracker = leaderAt(0);
    tracker.onGrant(1n, 10, 0);
    assert.deepEqual(tracker.remainingTtlSeconds(1n, 0), { ok: true, ttlSeconds: 10 });
    assert.deepEqual(tracker.remainingTtlSeconds(1n, 1), { ok: true, ttlSeconds: 9 });
    assert.deepEqual(tracker.remainingTtlSeconds(1n, 9_999), { ok: true, ttlSeconds: 0 });
    assert.deepEqual(tracker.remainingTtlSeconds(1n, 10_000), { ok: true, ttlSeconds: -1 });
    assert.deepEqual(tracker.remainingTtlSeconds(7n, 10_000), { ok: true, ttlSeconds: -1 });
  });

  test('a lease handed out for revoke is not handed out again until the retry time, nor renewable', () => {
    const tracker = leaderAt(0, { revokeRetryMs: 3_000 });
    tracker.onGrant(1n, 2, 0);
    assert.deepEqual(tracker.expired(2_000, 10), [1n]);
    assert.deepEqual(tracker.expired(2_500, 10), []);
    assert.deepEqual(tracker.renew(1n, 2_600), { ok: false, reason: 'notFound' });
    assert.deepEqual(tracker.remainingTtlSeconds(1n, 2_600), { ok: true, ttlSeconds: -1 });
    // The proposal was lost: the lease comes back after the retry interval.
    assert.deepEqual(tracker.expired(4_999, 10), []);
    assert.deepEqual(tracker.expired(5_000, 10), [1n]);
    // The revoke applied: the lease is gone for good.
    tracker.onRevoke(1n);
    assert.deepEqual(tracker.expired(100_000, 10), []);
    assert.equal(tracker.size, 0);
  });

  test('a lease revoked and granted again under the same id is handed out once per expiry', () => {
    const tracker = leaderAt(0);
    tracker.onGrant(1n, 1, 0);
    assert.deepEqual(tracker.expired(1_000, 10), [1n]);
    tracker.onRevoke(1n);
    tracker.onGrant(1n, 1, 1_000);
    assert.deepEqual(tracker.expired(2_000, 10), [1n]);
    assert.deepEqual(tracker.expired(4_500, 10), []);
  });

  test('expired() returns at most maxBatch, earliest first, and the rest on later calls', () => {
    const tracker = leaderAt(0);
    for (let i = 1; i <= 1_200; i++) tracker.onGrant(BigInt(i), 5, i);
    const first = tracker.expired(10_000, LEASE_REVOKE_BATCH_MAX);
    assert.equal(first.length, LEASE_REVOKE_BATCH_MAX);
    assert.deepEqual(
      first,
      Array.from({ length: LEASE_REVOKE_BATCH_MAX }, (_, i) => BigInt(i + 1)),
    );
    const second = tracker.expired(10_500, LEASE_REVOKE_BATCH_MAX);
    assert.equal(second[0], BigInt(LEASE_REVOKE_BATCH_MAX + 1));
    assert.equal(tracker.expired(11_000, LEASE_REVOKE_BATCH_MAX).length, 1_200 - 2 * LEASE_REVOKE_BATCH_MAX);
    assert.throws(() => tracker.expired(11_000, LEASE_REVOKE_RATE_PER_SECOND + 1), RangeError);
    assert.throws(() => tracker.expired(11_000, 0), RangeError);
  });

  test('expiry order: random grants and renewals come out sorted by expiry (ties by id)', () => {
    const operation = fc.record({
      id: fc.integer({ min: 1, max: 30 }),
      ttl: fc.integer({ min: 1, max: 50 }),
      stepMs: fc.integer({ min: 0, max: 3_000 }),
    });
    fc.assert(
      fc.property(fc.array(operation, { maxLength: 80 }), (operations) => {
        const tracker = leaderAt(0);
        const expiries = new Map<bigint, number>();
        let now = 0;
        for (const { id, ttl, stepMs } of operations) {
          now += stepMs;
          const lease = BigInt(id);
          // Expire-and-revoke what is due, as the leader's loop does, before acting.
          for (const due of tracker.expired(now, LEASE_REVOKE_RATE_PER_SECOND)) {
            assert.ok(expiries.get(due)! <= now);
            tracker.onRevoke(due);
            expiries.delete(due);
          }
          if (expiries.has(lease)) {
            const renewed = tracker.renew(lease, now);
            assert.ok(renewed.ok);
            expiries.set(lease, now + renewed.ttlSeconds * 1_000);
          } else {
            tracker.onGrant(lease, ttl, now);
            expiries.set(lease, now + ttl * 1_000);
          }
        }
        const expected = [...expiries].sort(([a, x], [b, y]) => x - y || (a < b ? -1 : 1)).map(([id]) => id);
        assert.deepEqual(tracker.expired(now + 10_000_000, LEASE_REVOKE_RATE_PER_SECOND), expected);
      }),
      { seed: SEED, numRuns: 200 },
    );
  });

  test('time must not go backwards', () => {
    const tracker = leaderAt(1_000);
    assert.throws(() => tracker.renew(1n, 999), /monotonic/);
  });
});

describe('LeaseExpiryTracker: leader changes', () => {
  test('after promote no lease expires before now + its TTL + the extension; it does expire then', () => {
    const leaseArb = fc.record({
      grantedTtl: fc.integer({ min: 1, max: 10_000 }),
      remainingTtl: fc.integer({ min: 0, max: 10_000 }),
    });
    fc.assert(
      fc.property(
        fc.array(leaseArb, { minLength: 1, maxLength: 40 }),
        fc.integer({ min: 0, max: 1e12 }),
        fc.integer({ min: 0, max: 5_000 }),
        (specs, nowMs, extendMs) => {
          const leases = specs.map((spec, i) => ({ id: BigInt(i + 1), ...spec }));
          const tracker = new LeaseExpiryTracker();
          tracker.promote(nowMs, leases, extendMs);
          const deadline = (lease: (typeof leases)[number]): number =>
            nowMs + (lease.remainingTtl > 0 ? lease.remainingTtl : lease.grantedTtl) * 1_000 + extendMs;
          const earliest = Math.min(...leases.map(deadline));
          assert.deepEqual(tracker.expired(earliest - 1, LEASE_REVOKE_RATE_PER_SECOND), []);
          const due = tracker.expired(earliest, LEASE_REVOKE_RATE_PER_SECOND);
          assert.deepEqual(
            due,
            leases.filter((lease) => deadline(lease) === earliest).map((lease) => lease.id),
          );
        },
      ),
      { seed: SEED + 1, numRuns: 300 },
    );
  });

  test('a checkpointed remaining TTL replaces the granted TTL on promote; demote forgets everything', () => {
    const tracker = new LeaseExpiryTracker();
    tracker.promote(0, [{ id: 1n, grantedTtl: 600, remainingTtl: 100 }], ELECTION_TIMEOUT_MS);
    assert.deepEqual(tracker.remainingTtlSeconds(1n, 0), { ok: true, ttlSeconds: 101 });
    tracker.demote();
    assert.equal(tracker.isLeader, false);
    assert.equal(tracker.size, 0);
    assert.equal(tracker.heapEntries, 0);
    assert.throws(() => {
      tracker.promote(0, [], 0);
      tracker.promote(0, [], 0);
    }, /already/);
  });
});

describe('LeaseExpiryTracker: checkpoints', () => {
  test('a long lease is checkpointed every interval with its remaining TTL; renew asks to clear it', () => {
    const tracker = leaderAt(0, { checkpointIntervalMs: 60_000 });
    tracker.onGrant(1n, 600, 0);
    tracker.onGrant(2n, 30, 0); // shorter than the interval: never checkpointed
    assert.deepEqual(tracker.checkpointsDue(59_999, 1_000), []);
    assert.deepEqual(tracker.checkpointsDue(60_000, 1_000), [{ id: 1n, remainingTtlSeconds: 540 }]);
    assert.deepEqual(tracker.checkpointsDue(119_999, 1_000), []);
    assert.deepEqual(tracker.checkpointsDue(120_500, 1_000), [{ id: 1n, remainingTtlSeconds: 480 }]);
    assert.deepEqual(tracker.renew(1n, 121_000), { ok: true, ttlSeconds: 600, clearCheckpoint: true });
    assert.deepEqual(tracker.renew(1n, 122_000), { ok: true, ttlSeconds: 600, clearCheckpoint: false });
    // Renewed within the interval: nothing to save, so no checkpoint is proposed.
    assert.deepEqual(tracker.checkpointsDue(180_500, 1_000), [{ id: 1n, remainingTtlSeconds: 542 }]);
  });

  test('checkpointsDue() is bounded by maxBatch and leaves the rest for the next call', () => {
    const tracker = leaderAt(0, { checkpointIntervalMs: 1_000 });
    for (let i = 1; i <= 5; i++) tracker.onGrant(BigInt(i), 100, 0);
    assert.deepEqual(
      tracker.checkpointsDue(5_000, 3).map((checkpoint) => checkpoint.id),
      [1n, 2n, 3n],
    );
    assert.deepEqual(
      tracker.checkpointsDue(5_000, 3).map((checkpoint) => checkpoint.id),
      [4n, 5n],
    );
  });

  test('a lease promoted with a checkpoint must be cleared on its first renewal', () => {
    const tracker = new LeaseExpiryTracker();
    tracker.promote(0, [{ id: 1n, grantedTtl: 600, remainingTtl: 100 }], 0);
    assert.deepEqual(tracker.renew(1n, 1), { ok: true, ttlSeconds: 600, clearCheckpoint: true });
  });
});

describe('LeaseExpiryTracker with 10,000 leases', () => {
  test('expired() and renew() cost a heap operation, not a scan; stale heap entries stay bounded', () => {
    const leaseCount = 10_000;
    const tracker = leaderAt(0);
    for (let i = 1; i <= leaseCount; i++) tracker.onGrant(BigInt(i), 60 + (i % 60), 0);

    const renewRounds = 20;
    let now = 0;
    let started = performance.now();
    for (let round = 0; round < renewRounds; round++) {
      now += 1_000;
      for (let i = 1; i <= leaseCount; i++) assert.ok(tracker.renew(BigInt(i), now).ok);
    }
    const renewsPerSecond = (renewRounds * leaseCount) / ((performance.now() - started) / 1_000);
    // Lazy deletion leaves stale entries; rebuilds keep them within 2 × live + slack.
    assert.ok(tracker.heapEntries <= 2 * leaseCount + 1_024 + 1, `${tracker.heapEntries} heap entries`);

    const idleChecks = 100_000;
    started = performance.now();
    for (let i = 0; i < idleChecks; i++) assert.equal(tracker.expired(now, LEASE_REVOKE_BATCH_MAX).length, 0);
    const idleChecksPerSecond = idleChecks / ((performance.now() - started) / 1_000);

    started = performance.now();
    let revoked = 0;
    for (now += 200_000; revoked < leaseCount; now += 500) {
      for (const id of tracker.expired(now, LEASE_REVOKE_BATCH_MAX)) {
        tracker.onRevoke(id);
        revoked++;
      }
    }
    const revokesPerSecond = leaseCount / ((performance.now() - started) / 1_000);
    console.log(
      `lease tracker, ${leaseCount} leases: renew ${Math.round(renewsPerSecond)} ops/s, ` +
        `idle expired() ${Math.round(idleChecksPerSecond)} ops/s, expire+revoke ${Math.round(revokesPerSecond)} leases/s`,
    );
    assert.equal(tracker.size, 0);
  });
});
