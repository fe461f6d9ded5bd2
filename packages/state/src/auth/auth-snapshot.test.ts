// Snapshots: a restored store equals the original (state, bytes and answers), and damaged bytes
// are refused with a typed error, never half-restored. Random command sequences come from
// fast-check; rerun a failure with AUTH_PROPERTY_SEED=<seed>.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { crc32c } from '@synod/core/hashing';
import fc from 'fast-check';
import { AUTH_SNAPSHOT_FORMAT_VERSION, AuthSnapshotError, encodeAuthSnapshot } from './auth-snapshot.js';
import { AuthStore } from './auth-store.js';
import type { AuthCommand, PermissionType } from './auth-types.js';

const SEED = Number(process.env.AUTH_PROPERTY_SEED ?? 20_250_302);
const utf8 = (text: string) => new TextEncoder().encode(text);
const nameArb = fc.constantFrom('root', 'alice', 'bob', 'é', '\u{1F600}', '');
const keyArb = fc.constantFrom('a', 'foo', 'fop', 'z').map(utf8);
const rangeEndArb = fc.constantFrom('', '\0', 'b', 'foo0', 'zz').map(utf8);

const commandArb: fc.Arbitrary<AuthCommand> = fc.oneof(
  fc.record({
    kind: fc.constant('userAdd' as const),
    name: nameArb,
    passwordHash: fc.string(),
    noPassword: fc.boolean(),
  }),
  fc.record({ kind: fc.constant('userDelete' as const), name: nameArb }),
  fc.record({ kind: fc.constant('userChangePassword' as const), name: nameArb, passwordHash: fc.string() }),
  fc.record({ kind: fc.constant('userGrantRole' as const), user: nameArb, role: nameArb }),
  fc.record({ kind: fc.constant('userRevokeRole' as const), name: nameArb, role: nameArb }),
  fc.record({ kind: fc.constant('roleAdd' as const), name: nameArb }),
  fc.record({ kind: fc.constant('roleDelete' as const), role: nameArb }),
  fc.record({
    kind: fc.constant('roleGrantPermission' as const),
    name: nameArb,
    perm: fc.record({
      permType: fc.constantFrom<PermissionType>('READ', 'WRITE', 'READWRITE'),
      key: keyArb,
      rangeEnd: rangeEndArb,
    }),
  }),
  fc.record({
    kind: fc.constant('roleRevokePermission' as const),
    role: nameArb,
    key: keyArb,
    rangeEnd: rangeEndArb,
  }),
  fc.constant({ kind: 'authEnable' as const }),
  fc.constant({ kind: 'authDisable' as const }),
);

function storeAfter(commands: readonly AuthCommand[]): AuthStore {
  const store = new AuthStore();
  commands.forEach((command, index) => {
    // As root when it exists, so commands also apply once auth is enabled.
    store.apply(command, { username: 'root', authRevision: store.authRevision }, index + 1);
  });
  return store;
}

function sampleStore(): AuthStore {
  return storeAfter([
    { kind: 'userAdd', name: 'root', passwordHash: '$scrypt$x', noPassword: false },
    { kind: 'userGrantRole', user: 'root', role: 'root' },
    { kind: 'roleAdd', name: 'reader' },
    {
      kind: 'roleGrantPermission',
      name: 'reader',
      perm: { permType: 'READ', key: utf8('foo'), rangeEnd: utf8('fop') },
    },
    { kind: 'userAdd', name: 'alice', passwordHash: 'h', noPassword: false },
    { kind: 'userGrantRole', user: 'alice', role: 'reader' },
    { kind: 'authEnable' },
  ]);
}

function refusedAs(bytes: Uint8Array, code: AuthSnapshotError['code']): void {
  assert.throws(
    () => AuthStore.restore(bytes),
    (error: unknown) => error instanceof AuthSnapshotError && error.code === code,
  );
}

describe('auth snapshots', () => {
  test('restoring gives the same state, the same bytes and the same answers', () => {
    fc.assert(
      fc.property(fc.array(commandArb, { maxLength: 40 }), (commands) => {
        const store = storeAfter(commands);
        const bytes = store.snapshot();
        const restored = AuthStore.restore(bytes);
        assert.deepStrictEqual(restored.state(), store.state());
        assert.deepStrictEqual(restored.snapshot(), bytes);
        for (const user of store.listUsers()) {
          for (const key of ['a', 'foo', 'fop', 'z']) {
            assert.equal(
              restored.checkPermission(user, utf8(key), new Uint8Array(0), 'read'),
              store.checkPermission(user, utf8(key), new Uint8Array(0), 'read'),
            );
          }
        }
      }),
      { seed: SEED, numRuns: 300 },
    );
  });

  test('members applying the same commands hold byte-identical snapshots', () => {
    const commands = fc.sample(fc.array(commandArb, { minLength: 30, maxLength: 30 }), {
      seed: SEED,
      numRuns: 1,
    })[0]!;
    assert.deepStrictEqual(storeAfter(commands).snapshot(), storeAfter(commands).snapshot());
  });

  test('any single damaged byte is detected', () => {
    const bytes = sampleStore().snapshot();
    for (let at = 0; at < bytes.length; at++) {
      const damaged = bytes.slice();
      damaged[at]! ^= 0x40;
      assert.throws(() => AuthStore.restore(damaged), AuthSnapshotError, `byte ${at}`);
    }
  });

  test('truncated bytes, a foreign format and a future version are refused with their codes', () => {
    const bytes = sampleStore().snapshot();
    refusedAs(bytes.subarray(0, 5), 'corrupt');
    refusedAs(bytes.subarray(0, bytes.length - 1), 'corrupt');
    refusedAs(utf8('SMVC\x01\x00\x00\x00\x00\x00\x00\x00'), 'corrupt');
    const future = bytes.slice();
    new DataView(future.buffer).setUint32(4, AUTH_SNAPSHOT_FORMAT_VERSION + 1, true);
    refusedAs(future, 'unsupportedVersion');
  });

  test('well-checksummed bytes holding an impossible state are refused', () => {
    const state = sampleStore().state();
    const unsorted = { ...state, users: [...state.users].reverse() };
    refusedAs(encodeAuthSnapshot(unsorted), 'corrupt');
    refusedAs(encodeAuthSnapshot({ ...state, authRevision: 0 }), 'corrupt');
    const badRoles = {
      ...state,
      users: [{ ...state.users[0]!, roles: ['b', 'a'] }, ...state.users.slice(1)],
    };
    refusedAs(encodeAuthSnapshot(badRoles), 'corrupt');
    // Extra bytes after the roles, with a checksum that matches them.
    const bytes = sampleStore().snapshot();
    const padded = new Uint8Array(bytes.length + 1);
    padded.set(bytes.subarray(0, bytes.length - 4));
    new DataView(padded.buffer).setUint32(
      padded.length - 4,
      crc32c(padded.subarray(0, padded.length - 4)),
      true,
    );
    refusedAs(padded, 'corrupt');
  });

  test('the error says what to do', () => {
    const error = new AuthSnapshotError('corrupt', 'checksum mismatch');
    assert.match(error.message, /auth snapshot cannot be restored: checksum mismatch\. Restore this member/);
  });
});
