import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { crc32c } from '@synod/core/hashing';
import fc from 'fast-check';
import { bytes } from '../mvcc/mvcc.fixture.js';
import { encodeLeaseSnapshot, LEASE_SNAPSHOT_FORMAT_VERSION, LeaseSnapshotError } from './lease-snapshot.js';
import { LeaseStore } from './lease-store.js';

const SEED = Number(process.env.LEASE_PROPERTY_SEED ?? 20_250_302);

/** A store with leases holding keys, one checkpointed, one without keys, one with a negative id. */
function sampleStore(): LeaseStore {
  const leases = new LeaseStore();
  leases.grant(10n, 60);
  leases.grant(-5n, 3);
  leases.grant(2n ** 62n, 9_000_000_000);
  leases.checkpoint(10n, 42);
  let revision = 1;
  const put = (key: string, lease: bigint): void => {
    revision++;
    const kv = {
      key: bytes(key),
      createRevision: revision,
      modRevision: revision,
      version: 1,
      value: bytes('v'),
      lease,
    };
    leases.observe([{ type: 'PUT', kv, prevKv: undefined }]);
  };
  put('b', 10n);
  put('a', 10n);
  put('\u0000\u00ff', -5n);
  return leases;
}

/** Rewrites the trailing checksum so a test reaches the checks behind it. */
function resealed(snapshot: Uint8Array): Uint8Array {
  const copy = snapshot.slice();
  new DataView(copy.buffer).setUint32(copy.length - 4, crc32c(copy.subarray(0, copy.length - 4)), true);
  return copy;
}

function refusal(snapshot: Uint8Array): LeaseSnapshotError {
  try {
    LeaseStore.restore(snapshot);
  } catch (error) {
    assert.ok(error instanceof LeaseSnapshotError, `expected LeaseSnapshotError, got ${String(error)}`);
    return error;
  }
  assert.fail('restore accepted bad bytes');
}

describe('LeaseStore snapshot', () => {
  test('restores the same leases, checkpoints and attachments', () => {
    const store = sampleStore();
    const restored = LeaseStore.restore(store.snapshot());
    assert.deepEqual(restored.list(), store.list());
    for (const { id } of store.list()) assert.deepEqual(restored.get(id), store.get(id));
    assert.deepEqual(restored.stats, { leases: 3, attachedKeys: 3 });
    assert.equal(restored.leaseOf(bytes('a')), 10n);
    assert.deepEqual(restored.snapshot(), store.snapshot());
  });

  test('round-trips random stores byte for byte', () => {
    const leaseArb = fc.record({
      id: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).filter((id) => id !== 0n),
      ttl: fc.integer({ min: 1, max: 9_000_000_000 }),
      remaining: fc.integer({ min: 0, max: 9_000_000_000 }),
      keys: fc.uniqueArray(fc.uint8Array({ minLength: 1, maxLength: 12 }), { maxLength: 5 }),
    });
    fc.assert(
      fc.property(fc.array(leaseArb, { maxLength: 8 }), (specs) => {
        const store = new LeaseStore({ minTtlSeconds: 1 });
        let revision = 1;
        for (const spec of specs) {
          if (!('lease' in store.grant(spec.id, spec.ttl))) continue;
          store.checkpoint(spec.id, spec.remaining);
          for (const key of spec.keys) {
            revision++;
            const kv = {
              key,
              createRevision: revision,
              modRevision: revision,
              version: 1,
              value: key,
              lease: spec.id,
            };
            store.observe([{ type: 'PUT', kv, prevKv: undefined }]);
          }
        }
        const restored = LeaseStore.restore(store.snapshot(), { minTtlSeconds: 1 });
        assert.deepEqual(restored.snapshot(), store.snapshot());
        for (const { id } of store.list()) assert.deepEqual(restored.get(id), store.get(id));
      }),
      { seed: SEED, numRuns: 200 },
    );
  });

  test('refuses every single-bit flip and every truncation (checksum, magic, version)', () => {
    const snapshot = sampleStore().snapshot();
    for (let offset = 0; offset < snapshot.length; offset++) {
      const damaged = snapshot.slice();
      damaged[offset]! ^= 1 << (offset % 8);
      refusal(damaged);
    }
    for (let length = 0; length < snapshot.length; length++) refusal(snapshot.subarray(0, length));
    const version = snapshot.slice();
    version[4] = LEASE_SNAPSHOT_FORMAT_VERSION + 1;
    assert.equal(refusal(version).code, 'unsupportedVersion');
    assert.match(
      refusal(snapshot.subarray(0, 5)).message,
      /shorter than any lease snapshot.*Restore this member/,
    );
  });

  test('refuses well-sealed bodies that break the store’s rules', () => {
    const sealed = (leases: Parameters<typeof encodeLeaseSnapshot>[0], keys: number) =>
      resealed(encodeLeaseSnapshot(leases, keys));
    const lease = (id: bigint, keys: string[] = []) => ({
      id,
      grantedTtl: 5,
      remainingTtl: 0,
      keys: keys.map(bytes),
    });
    assert.match(refusal(sealed([lease(2n), lease(1n)], 0)).message, /out of order or repeated/);
    assert.match(refusal(sealed([lease(1n), lease(1n)], 0)).message, /out of order or repeated/);
    assert.match(refusal(sealed([lease(0n)], 0)).message, /impossible/);
    assert.match(refusal(sealed([{ ...lease(1n), grantedTtl: 0 }], 0)).message, /impossible/);
    assert.match(refusal(sealed([lease(1n, ['b', 'a'])], 2)).message, /empty or out of order/);
    assert.match(
      refusal(sealed([lease(1n, ['a']), lease(2n, ['a'])], 2)).message,
      /also attached to another/,
    );
    assert.match(refusal(sealed([lease(1n, ['a'])], 3)).message, /header said 3/);
    const extra = encodeLeaseSnapshot([lease(1n)], 0);
    const padded = new Uint8Array(extra.length + 1);
    padded.set(extra.subarray(0, extra.length - 4));
    assert.match(refusal(resealed(padded)).message, /extra bytes/);
    assert.equal(refusal(sealed([lease(2n), lease(1n)], 0)).code, 'corrupt');
  });

  test('refuses a lease count the bytes cannot hold without allocating for it', () => {
    const snapshot = encodeLeaseSnapshot([], 0);
    const huge = new Uint8Array(snapshot.length + 7);
    huge.set(snapshot.subarray(0, 8));
    huge.set([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f], 8); // a varint of 2^49 - 1 leases
    huge.set(snapshot.subarray(8, snapshot.length - 4), 15);
    assert.match(refusal(resealed(huge)).message, /lease count \d+ exceeds/);
  });
});
