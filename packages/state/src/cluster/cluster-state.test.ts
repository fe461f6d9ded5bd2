import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { crc32c } from '@synod/core/hashing';
import { ETCD_ERRORS } from '../mvcc/etcd-types.js';
import { ClusterSnapshotError, ClusterState } from './cluster-state.js';
import { MEMBER_ERRORS } from './members.js';

const bytes = (text: string) => new TextEncoder().encode(text);
const put = (key: string, value: string) =>
  ({
    kind: 'put',
    request: {
      key: bytes(key),
      value: bytes(value),
      lease: 0n,
      prevKv: false,
      ignoreValue: false,
      ignoreLease: false,
    },
  }) as const;
const founders = [
  { id: 1n, name: 'n1', peerUrls: ['http://a:2380'], clientUrls: [], isLearner: false },
  { id: 2n, name: 'n2', peerUrls: ['http://b:2380'], clientUrls: [], isLearner: false },
];

describe('ClusterState', () => {
  test('KV writes go to the MVCC store and report their events', () => {
    const state = new ClusterState();
    const applied = state.apply(put('a', '1'));
    assert.ok(!('error' in applied));
    assert.equal(applied.revision, 2);
    assert.equal(applied.events.length, 1);
  });

  test('NOSPACE lets deletes and compactions through but refuses puts until disarmed', () => {
    const state = new ClusterState();
    state.apply(put('a', '1'));
    state.apply({ kind: 'alarm', action: 'activate', memberId: 7n, alarm: 'NOSPACE' });
    assert.deepEqual(state.apply(put('b', '2')), { error: ETCD_ERRORS.noSpace });
    const deleted = state.apply({
      kind: 'deleteRange',
      request: { key: bytes('a'), rangeEnd: new Uint8Array(), prevKv: false },
    });
    assert.ok(!('error' in deleted));
    const disarmed = state.apply({ kind: 'alarm', action: 'deactivate', memberId: 7n, alarm: 'NOSPACE' });
    assert.ok(
      !('error' in disarmed) && disarmed.response.kind === 'alarm' && disarmed.response.alarms.length === 1,
    );
    assert.ok(!('error' in state.apply(put('b', '2'))));
  });

  test('member changes: add as learner, promote, publish, remove; removed ids never return', () => {
    const state = new ClusterState({ initialMembers: founders });
    const context = { memberId: '3', peerUrls: ['http://c:2380'], name: '' };
    state.applyMemberChange({ type: 'addLearner', memberId: 3n, context });
    assert.equal(state.members.get(3n)?.isLearner, true);
    assert.equal(state.members.checkAdd(4n, ['http://d:2380'], true), MEMBER_ERRORS.tooManyLearners);
    assert.equal(state.members.checkAdd(4n, ['http://c:2380'], false), MEMBER_ERRORS.peerUrlExists);
    state.applyMemberChange({ type: 'addVoter', memberId: 3n, context: undefined });
    assert.equal(state.members.get(3n)?.isLearner, false);
    state.apply({ kind: 'publishMember', memberId: 3n, name: 'n3', clientUrls: ['http://c:2379'] });
    assert.deepEqual(state.members.get(3n)?.clientUrls, ['http://c:2379']);
    assert.equal(
      state.applyMemberChange({ type: 'removeNode', memberId: 3n, context: undefined }),
      undefined,
    );
    assert.equal(state.members.get(3n), undefined);
    assert.equal(state.members.checkAdd(3n, ['http://e:2380'], false), MEMBER_ERRORS.idRemoved);
  });

  test('a snapshot restores keys, members and alarms; damaged bytes are refused', () => {
    const state = new ClusterState({ initialMembers: founders });
    state.apply(put('a', '1'));
    state.apply({ kind: 'alarm', action: 'activate', memberId: 1n, alarm: 'CORRUPT' });
    state.applyMemberChange({ type: 'removeNode', memberId: 2n, context: undefined });
    const snapshot = state.snapshot();
    const restored = ClusterState.restore(snapshot);
    assert.equal(restored.kv.currentRevision, state.kv.currentRevision);
    assert.deepEqual(restored.members.list(), state.members.list());
    assert.equal(restored.members.isRemoved(2n), true);
    assert.deepEqual(restored.alarms, state.alarms);
    for (const offset of [0, 5, 20, snapshot.byteLength - 1]) {
      const damaged = snapshot.slice();
      damaged[offset]! ^= 0xff;
      assert.throws(() => ClusterState.restore(damaged), ClusterSnapshotError, `flip at ${offset}`);
    }
    assert.throws(
      () => ClusterState.restore(snapshot.subarray(0, snapshot.byteLength - 3)),
      ClusterSnapshotError,
    );
  });
});

describe('ClusterState snapshot built in pieces', () => {
  test('commands applied between pieces leave the bytes of a snapshot taken at the start', () => {
    const state = new ClusterState({ initialMembers: founders });
    state.apply({ kind: 'leaseGrant', id: 7n, ttl: 60 });
    for (let i = 0; i < 50; i++) state.apply(put(`key/${String(i).padStart(3, '0')}`, 'v'.repeat(i)));
    const expected = state.snapshot();
    const builder = state.beginSnapshot();
    let steps = 0;
    for (let done = false; !done; steps++) {
      done = builder.step(64);
      // New keys before and after the encoder's position, overwrites, deletes, leases, members.
      state.apply(put(`key/${String((steps * 7) % 60).padStart(3, '0')}x`, 'new'));
      state.apply(put(`key/${String(steps % 50).padStart(3, '0')}`, 'overwritten'));
      state.apply({
        kind: 'deleteRange',
        request: {
          key: bytes(`key/${String((steps * 3) % 50).padStart(3, '0')}`),
          rangeEnd: new Uint8Array(0),
          prevKv: false,
        },
      });
      state.apply({ kind: 'leaseGrant', id: BigInt(100 + steps), ttl: 60 });
      state.apply({ kind: 'alarm', action: 'activate', memberId: 1n, alarm: 'NOSPACE' });
    }
    assert.ok(steps > 10, `expected many pieces, got ${steps}`);
    assert.deepEqual(builder.finish(), expected);
    assert.equal(ClusterState.snapshotChecksum(expected), crc32c(expected));
    assert.equal(ClusterState.restore(expected).kv.currentRevision, 51);
  });
});

describe('ClusterState as a saved snapshot (snapshot restore)', () => {
  test('snapshotByteLength finds the end of a snapshot followed by padding', () => {
    const state = new ClusterState({ initialMembers: founders });
    state.apply(put('a', '1'));
    const snapshot = state.snapshot();
    const padded = new Uint8Array(snapshot.byteLength + 300);
    padded.set(snapshot);
    assert.equal(ClusterState.snapshotByteLength(padded), snapshot.byteLength);
    assert.throws(() => ClusterState.restore(padded), ClusterSnapshotError);
    const restored = ClusterState.restore(padded.subarray(0, ClusterState.snapshotByteLength(padded)));
    assert.equal(restored.kv.currentRevision, state.kv.currentRevision);
    assert.throws(() => ClusterState.snapshotByteLength(snapshot.subarray(0, 10)), ClusterSnapshotError);
    assert.throws(
      () => ClusterState.snapshotByteLength(snapshot.subarray(0, snapshot.byteLength - 1)),
      ClusterSnapshotError,
    );
    assert.throws(() => ClusterState.snapshotByteLength(new Uint8Array(64)), /not a cluster state snapshot/);
  });

  test('startNewCluster replaces the members and drops alarms, keeping keys, leases and auth', () => {
    const state = new ClusterState({ initialMembers: founders });
    state.apply(put('a', '1'));
    state.apply({ kind: 'leaseGrant', id: 7n, ttl: 60 });
    state.apply({ kind: 'alarm', action: 'activate', memberId: 1n, alarm: 'NOSPACE' });
    state.applyMemberChange({ type: 'removeNode', memberId: 2n, context: undefined });
    const next = [{ id: 9n, name: '', peerUrls: ['http://z:2380'], clientUrls: [], isLearner: false }];
    state.startNewCluster(next);
    assert.deepEqual(
      state.members.list().map((member) => member.id),
      [9n],
    );
    assert.equal(state.members.isRemoved(2n), false);
    assert.deepEqual(state.alarms, []);
    assert.equal(state.hasAlarm('NOSPACE'), false);
    assert.equal(state.kv.currentRevision, 2);
    assert.equal(state.leases.has(7n), true);
  });
});

describe('ClusterState leases', () => {
  const putWithLease = (key: string, lease: bigint) =>
    ({
      kind: 'put',
      request: {
        key: bytes(key),
        value: bytes('v'),
        lease,
        prevKv: false,
        ignoreValue: false,
        ignoreLease: false,
      },
    }) as const;

  test('a put naming a missing lease is refused; with a granted lease it attaches the key', () => {
    const state = new ClusterState();
    assert.deepEqual(state.apply(putWithLease('a', 5n)), { error: ETCD_ERRORS.leaseNotFound });
    assert.equal(state.kv.currentRevision, 1, 'nothing was written');
    assert.ok(!('error' in state.apply({ kind: 'leaseGrant', id: 5n, ttl: 10 })));
    assert.ok(!('error' in state.apply(putWithLease('a', 5n))));
    assert.equal(state.leases.get(5n)?.keyCount, 1);
  });

  test('a txn checks only the puts of the branch its compares select', () => {
    const state = new ClusterState();
    const txn = (succeedsOnMissingKey: boolean) =>
      ({
        kind: 'txn',
        request: {
          compare: [
            {
              result: succeedsOnMissingKey ? 'EQUAL' : 'NOT_EQUAL',
              target: 'VERSION',
              key: bytes('x'),
              rangeEnd: new Uint8Array(),
              version: 0,
              createRevision: 0,
              modRevision: 0,
              value: new Uint8Array(),
              lease: 0n,
            },
          ],
          success: [{ kind: 'put', request: putWithLease('b', 0n).request }],
          failure: [{ kind: 'put', request: putWithLease('b', 99n).request }],
        },
      }) as const;
    assert.ok(!('error' in state.apply(txn(true))), 'the failure branch with the missing lease is not run');
    assert.deepEqual(state.apply(txn(false)), { error: ETCD_ERRORS.leaseNotFound });
  });

  test('revoking a lease deletes its keys in one revision and survives a snapshot', () => {
    const state = new ClusterState();
    state.apply({ kind: 'leaseGrant', id: 7n, ttl: 30 });
    state.apply({ kind: 'leaseGrant', id: 8n, ttl: 30 });
    state.apply(putWithLease('k1', 7n));
    state.apply(putWithLease('k2', 7n));
    state.apply(putWithLease('k3', 8n));
    const restored = ClusterState.restore(state.snapshot());
    assert.equal(restored.leases.get(7n)?.keyCount, 2);
    const before = restored.kv.currentRevision;
    const revoked = restored.apply({ kind: 'leaseRevoke', id: 7n });
    assert.ok(!('error' in revoked));
    assert.equal(revoked.events.length, 2);
    assert.equal(restored.kv.currentRevision, before + 1, 'one revision for all the keys');
    assert.equal(restored.leases.has(7n), false);
    assert.deepEqual(restored.apply({ kind: 'leaseRevoke', id: 7n }), { error: ETCD_ERRORS.leaseNotFound });
    assert.equal(restored.leases.get(8n)?.keyCount, 1);
  });
});

describe('ClusterState auth', () => {
  test('auth commands apply with their log index and the auth store survives a snapshot', () => {
    const state = new ClusterState();
    const applied = state.apply(
      { kind: 'auth', proposal: { command: { kind: 'roleAdd', name: 'reader' }, requester: undefined } },
      5,
    );
    assert.ok(!('error' in applied) && applied.response.kind === 'auth' && applied.response.applied.ok);
    const restored = ClusterState.restore(state.snapshot());
    assert.deepEqual(restored.auth.listRoles(), ['reader']);
    assert.equal(restored.auth.authRevision, state.auth.authRevision);
  });
});
