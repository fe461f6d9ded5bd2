import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { bytes, text, write } from '../mvcc/mvcc.fixture.js';
import { MvccStore } from '../mvcc/store.js';
import { LeaseStore } from './lease-store.js';
import { LEASE_ERRORS, LEASE_TTL_SECONDS_MAX, NO_LEASE } from './lease-types.js';
import { leaseRevokeWrite } from './revoke-write.js';

/** An MVCC store and a lease store kept in step, as the apply path keeps them. */
function pair(minTtlSeconds = 2): {
  mvcc: MvccStore;
  leases: LeaseStore;
  put: (key: string, lease: bigint) => void;
} {
  const mvcc = new MvccStore();
  const leases = new LeaseStore({ minTtlSeconds });
  const put = (key: string, lease: bigint): void => {
    const applied = mvcc.apply(write.put(key, 'v', { lease }));
    assert.ok(!('error' in applied));
    assert.equal(leases.observe(applied.events), 0);
  };
  return { mvcc, leases, put };
}

const keysOf = (leases: LeaseStore, id: bigint): string[] => leases.get(id)?.keys.map(text) ?? [];

describe('LeaseStore grant', () => {
  test('grants a lease with the proposer’s id and TTL', () => {
    const leases = new LeaseStore();
    assert.deepEqual(leases.grant(7n, 30), {
      lease: { id: 7n, grantedTtl: 30, remainingTtl: 0, keyCount: 0 },
    });
    assert.equal(leases.has(7n), true);
    assert.deepEqual(leases.stats, { leases: 1, attachedKeys: 0 });
  });

  test('raises a TTL below the minimum to the minimum, as etcd does (negative ones too)', () => {
    const leases = new LeaseStore({ minTtlSeconds: 5 });
    assert.deepEqual(leases.grant(1n, 1), { lease: { id: 1n, grantedTtl: 5, remainingTtl: 0, keyCount: 0 } });
    assert.equal(leases.get(1n)?.grantedTtl, 5);
    const negative = leases.grant(2n, -10);
    assert.ok('lease' in negative && negative.lease.grantedTtl === 5);
  });

  test('refuses id 0, a duplicate id and a TTL above 9,000,000,000 s with etcd’s errors', () => {
    const leases = new LeaseStore();
    assert.deepEqual(leases.grant(0n, 10), { error: LEASE_ERRORS.leaseNotFound });
    assert.deepEqual(leases.grant(1n, LEASE_TTL_SECONDS_MAX + 1), { error: LEASE_ERRORS.ttlTooLarge });
    assert.equal(Object.hasOwn(leases.grant(1n, LEASE_TTL_SECONDS_MAX + 0), 'lease'), true);
    assert.deepEqual(leases.grant(1n, 10), { error: LEASE_ERRORS.leaseExists });
    assert.equal(LEASE_ERRORS.leaseExists.message, 'etcdserver: lease already exists');
    assert.equal(LEASE_ERRORS.ttlTooLarge.message, 'etcdserver: too large lease TTL');
    assert.deepEqual(leases.stats, { leases: 1, attachedKeys: 0 });
  });

  test('accepts negative int64 ids (etcd does not refuse them) and crashes on ids beyond int64', () => {
    const leases = new LeaseStore();
    assert.ok('lease' in leases.grant(-(2n ** 63n), 10));
    assert.throws(() => leases.grant(2n ** 63n, 10), RangeError);
    assert.throws(() => leases.grant(3n, 1.5), RangeError);
  });

  test('refuses a minimum TTL below 1 s', () => {
    assert.throws(() => new LeaseStore({ minTtlSeconds: 0 }), RangeError);
  });
});

describe('LeaseStore attachments follow MVCC events', () => {
  test('a put with a lease attaches the key; a put with another lease moves it; lease 0 detaches it', () => {
    const { leases, put } = pair();
    leases.grant(1n, 10);
    leases.grant(2n, 10);
    put('a', 1n);
    put('b', 1n);
    assert.deepEqual(keysOf(leases, 1n), ['a', 'b']);
    put('a', 2n);
    assert.deepEqual(keysOf(leases, 1n), ['b']);
    assert.deepEqual(keysOf(leases, 2n), ['a']);
    assert.equal(leases.leaseOf(bytes('a')), 2n);
    put('a', NO_LEASE);
    assert.deepEqual(keysOf(leases, 2n), []);
    assert.equal(leases.leaseOf(bytes('a')), NO_LEASE);
    assert.deepEqual(leases.stats, { leases: 2, attachedKeys: 1 });
  });

  test('a put with ignoreLease keeps the key on its lease (the event carries the old lease)', () => {
    const { mvcc, leases, put } = pair();
    leases.grant(1n, 10);
    put('a', 1n);
    const applied = mvcc.apply(write.put('a', 'new', { ignoreLease: true }));
    assert.ok(!('error' in applied));
    leases.observe(applied.events);
    assert.deepEqual(keysOf(leases, 1n), ['a']);
  });

  test('a delete, also of a range in a txn, detaches the keys', () => {
    const { mvcc, leases, put } = pair();
    leases.grant(1n, 10);
    for (const key of ['a1', 'a2', 'b']) put(key, 1n);
    const applied = mvcc.apply(write.delete('a', 'b'));
    assert.ok(!('error' in applied));
    leases.observe(applied.events);
    assert.deepEqual(keysOf(leases, 1n), ['b']);
    assert.deepEqual(leases.stats, { leases: 1, attachedKeys: 1 });
  });

  test('a put naming a lease the store does not hold is counted and left unattached', () => {
    const { mvcc, leases } = pair();
    const applied = mvcc.apply(write.put('a', 'v', { lease: 99n }));
    assert.ok(!('error' in applied));
    assert.equal(leases.observe(applied.events), 1);
    assert.equal(leases.leaseOf(bytes('a')), NO_LEASE);
    assert.deepEqual(leases.stats, { leases: 0, attachedKeys: 0 });
  });
});

describe('LeaseStore revoke', () => {
  test('returns the attached keys in byte order and forgets the lease', () => {
    const { leases, put } = pair();
    leases.grant(1n, 10);
    for (const key of ['zeta', 'alpha', 'mid', '\u0001']) put(key, 1n);
    const revoked = leases.revoke(1n);
    assert.ok('keys' in revoked);
    assert.deepEqual(revoked.keys.map(text), ['\u0001', 'alpha', 'mid', 'zeta']);
    assert.equal(leases.has(1n), false);
    assert.deepEqual(leases.stats, { leases: 0, attachedKeys: 0 });
    assert.deepEqual(leases.revoke(1n), { error: LEASE_ERRORS.leaseNotFound });
  });

  test('leaseRevokeWrite deletes every key at one revision, past the 128-op txn limit', () => {
    const { mvcc, leases, put } = pair();
    leases.grant(1n, 10);
    const keyCount = 300;
    for (let i = 0; i < keyCount; i++) put(`k${String(i).padStart(3, '0')}`, 1n);
    put('other', NO_LEASE);
    const revision = mvcc.currentRevision;
    const revoked = leases.revoke(1n);
    assert.ok('keys' in revoked);
    const deletion = leaseRevokeWrite(revoked.keys);
    assert.ok(deletion !== undefined);
    const applied = mvcc.apply(deletion);
    assert.ok(!('error' in applied), 'error' in applied ? applied.error.message : '');
    assert.equal(applied.revision, revision + 1);
    assert.equal(applied.events.length, keyCount);
    assert.ok(
      applied.events.every((event) => event.type === 'DELETE' && event.kv.modRevision === revision + 1),
    );
    assert.equal(leases.observe(applied.events), 0);
    assert.equal(leaseRevokeWrite([]), undefined);
  });
});

describe('LeaseStore checkpoint', () => {
  test('records the remaining TTL; 0 clears it; a revoked lease is skipped', () => {
    const leases = new LeaseStore();
    leases.grant(1n, 600);
    assert.equal(leases.checkpoint(1n, 300), true);
    assert.equal(leases.get(1n)?.remainingTtl, 300);
    assert.equal(leases.checkpoint(1n, 0), true);
    assert.equal(leases.get(1n)?.remainingTtl, 0);
    assert.equal(leases.checkpoint(2n, 300), false);
    assert.throws(() => leases.checkpoint(1n, -1), RangeError);
  });

  test('list() gives every lease ascending by id, with its checkpoint and key count', () => {
    const { leases, put } = pair();
    leases.grant(5n, 10);
    leases.grant(-3n, 20);
    leases.grant(4n, 30);
    leases.checkpoint(4n, 12);
    put('x', 5n);
    assert.deepEqual(leases.list(), [
      { id: -3n, grantedTtl: 20, remainingTtl: 0, keyCount: 0 },
      { id: 4n, grantedTtl: 30, remainingTtl: 12, keyCount: 0 },
      { id: 5n, grantedTtl: 10, remainingTtl: 0, keyCount: 1 },
    ]);
  });
});
