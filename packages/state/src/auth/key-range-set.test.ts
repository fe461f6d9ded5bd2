// The permission check against a brute-force model: over a small alphabet, a request is allowed
// exactly when every key it names is inside some permission of the right type. Enumerating all
// keys up to one byte longer than any generated key is exhaustive: the first key a union of
// half-open intervals leaves uncovered is the request's own first key or some interval's end, and
// those are all that long at most. fast-check prints the seed and the shrunk case of any
// failure; rerun one with AUTH_PROPERTY_SEED=<seed>.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { compareBytes, isFromKeyRangeEnd } from '../mvcc/bytes.js';
import { AuthStore } from './auth-store.js';
import type { AccessType, Permission, PermissionType } from './auth-types.js';
import { KeyRangeSet, keyInterval } from './key-range-set.js';

const SEED = Number(process.env.AUTH_PROPERTY_SEED ?? 20_250_301);
const RUNS = 400;
const ALPHABET = [0, 1, 2];
const KEY_LENGTH_MAX = 3;
const bytes = (...values: number[]) => new Uint8Array(values);
const utf8 = (text: string) => new TextEncoder().encode(text);

/** Every byte string over ALPHABET of length 0 … KEY_LENGTH_MAX + 1. */
function universe(): Uint8Array[] {
  const all: Uint8Array[] = [new Uint8Array(0)];
  let previous: Uint8Array[] = [new Uint8Array(0)];
  for (let length = 1; length <= KEY_LENGTH_MAX + 1; length++) {
    previous = previous.flatMap((prefix) => ALPHABET.map((byte) => new Uint8Array([...prefix, byte])));
    all.push(...previous);
  }
  return all;
}
const UNIVERSE = universe();

/** The keys a (key, rangeEnd) pair names, by etcd's range rules, decided key by key. */
function names(key: Uint8Array, rangeEnd: Uint8Array, candidate: Uint8Array): boolean {
  if (rangeEnd.length === 0) return compareBytes(candidate, key) === 0;
  if (isFromKeyRangeEnd(rangeEnd)) return compareBytes(candidate, key) >= 0;
  return compareBytes(candidate, key) >= 0 && compareBytes(candidate, rangeEnd) < 0;
}

function modelAllows(
  permissions: readonly Permission[],
  key: Uint8Array,
  rangeEnd: Uint8Array,
  access: AccessType,
) {
  const granting = permissions.filter(
    (p) => p.permType === 'READWRITE' || p.permType === (access === 'read' ? 'READ' : 'WRITE'),
  );
  let requested = UNIVERSE.filter((candidate) => names(key, rangeEnd, candidate));
  // A range naming no keys is judged as the single key it starts at (documented in KeyRangeSet.covers).
  if (requested.length === 0) requested = [key];
  return requested.every((candidate) => granting.some((p) => names(p.key, p.rangeEnd, candidate)));
}

const keyArb = fc
  .array(fc.constantFrom(...ALPHABET), { minLength: 1, maxLength: KEY_LENGTH_MAX })
  .map((v) => new Uint8Array(v));
const rangeEndArb = fc.oneof(fc.constant(new Uint8Array(0)), fc.constant(bytes(0)), keyArb);
const permissionArb: fc.Arbitrary<Permission> = fc.record({
  permType: fc.constantFrom<PermissionType>('READ', 'WRITE', 'READWRITE'),
  key: keyArb,
  rangeEnd: rangeEndArb,
});
const accessArb = fc.constantFrom<AccessType>('read', 'write');

describe('KeyRangeSet', () => {
  test('touching and overlapping intervals merge; a range spanning a gap is not covered', () => {
    const set = KeyRangeSet.from([
      keyInterval(utf8('a'), utf8('c')),
      keyInterval(utf8('c'), utf8('e')),
      keyInterval(utf8('d'), utf8('f')),
      keyInterval(utf8('x'), new Uint8Array(0)),
    ]);
    assert.equal(set.intervalCount, 2);
    assert.equal(set.covers(keyInterval(utf8('b'), utf8('f'))), true);
    assert.equal(set.covers(keyInterval(utf8('b'), utf8('f\0'))), false);
    assert.equal(set.containsKey(utf8('x')), true);
    assert.equal(set.containsKey(utf8('x\0')), false);
    assert.equal(set.covers(keyInterval(utf8('e'), utf8('y'))), false);
  });

  test('an open-ended permission covers every key from its key on, and open-ended requests', () => {
    const set = KeyRangeSet.from([keyInterval(utf8('m'), bytes(0))]);
    assert.equal(set.covers(keyInterval(utf8('m'), bytes(0))), true);
    assert.equal(set.covers(keyInterval(utf8('zzz'), utf8('zzzz'))), true);
    assert.equal(set.covers(keyInterval(utf8('l'), bytes(0))), false);
    assert.equal(KeyRangeSet.EMPTY.containsKey(utf8('a')), false);
  });

  test('the union of permissions decides, as a brute-force check of every key says', () => {
    fc.assert(
      fc.property(
        fc.array(permissionArb, { maxLength: 6 }),
        keyArb,
        rangeEndArb,
        accessArb,
        (permissions, key, rangeEnd, access) => {
          const set = KeyRangeSet.from(
            permissions
              .filter(
                (p) => p.permType === 'READWRITE' || p.permType === (access === 'read' ? 'READ' : 'WRITE'),
              )
              .map((p) => keyInterval(p.key, p.rangeEnd)),
          );
          assert.equal(
            set.covers(keyInterval(key, rangeEnd)),
            modelAllows(permissions, key, rangeEnd, access),
          );
        },
      ),
      { seed: SEED, numRuns: RUNS * 5 },
    );
  });
});

describe('AuthStore.checkPermission', () => {
  test('a user may do what the union of its roles’ permissions covers, as the brute-force model says', () => {
    const roleArb = fc.array(permissionArb, { maxLength: 4 });
    fc.assert(
      fc.property(
        fc.array(roleArb, { minLength: 1, maxLength: 3 }),
        fc.array(fc.tuple(keyArb, rangeEndArb, accessArb), { minLength: 1, maxLength: 8 }),
        fc.array(fc.boolean(), { maxLength: 12 }),
        (roles, requests, revokeMask) => {
          const store = new AuthStore();
          assert.ok(store.addUser('alice', { passwordHash: 'h', noPassword: false }).ok);
          // Per role, the last grant of each (key, rangeEnd): granting a range again replaces its type.
          const granted = new Map<string, Permission>();
          const allGranted = () => [...granted.values()];
          let step = 0;
          const checkNext = () => {
            const [key, rangeEnd, access] = requests[step++ % requests.length]!;
            assert.equal(
              store.checkPermission('alice', key, rangeEnd, access),
              modelAllows(allGranted(), key, rangeEnd, access),
            );
          };
          roles.forEach((permissions, index) => {
            const role = `role${index}`;
            assert.ok(store.addRole(role).ok);
            assert.ok(store.grantRole('alice', role).ok);
            checkNext();
            for (const permission of permissions) {
              // Invalid ranges are refused (etcd's isValidPermissionRange) and so grant nothing.
              if (store.grantPermission(role, permission).ok) {
                granted.set(`${role}|${permission.key}|${permission.rangeEnd}`, permission);
              }
              // Checks between changes: a cached merge must be forgotten when a role changes.
              checkNext();
            }
          });
          [...granted.entries()].forEach(([id, permission], index) => {
            if (!revokeMask[index]) return;
            const role = id.slice(0, id.indexOf('|'));
            assert.ok(store.revokePermission(role, permission.key, permission.rangeEnd).ok);
            granted.delete(id);
            checkNext();
          });
          for (const [key, rangeEnd, access] of requests) {
            assert.equal(
              store.checkPermission('alice', key, rangeEnd, access),
              modelAllows(allGranted(), key, rangeEnd, access),
            );
          }
        },
      ),
      { seed: SEED + 1, numRuns: RUNS },
    );
  });
});
