import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { EtcdError, TxnRequest } from '../mvcc/etcd-types.js';
import { AuthStore } from './auth-store.js';
import {
  AUTH_ERRORS,
  type AuthCommand,
  type AuthOutcome,
  type AuthRequester,
  type Permission,
  type PermissionType,
} from './auth-types.js';
import type { AuthRequirement } from './requirements.js';

const utf8 = (text: string) => new TextEncoder().encode(text);
const NONE = new Uint8Array(0);
const FROM_KEY = new Uint8Array([0]);
const permission = (
  permType: PermissionType,
  key: string,
  rangeEnd: string | Uint8Array = '',
): Permission => ({
  permType,
  key: utf8(key),
  rangeEnd: typeof rangeEnd === 'string' ? utf8(rangeEnd) : rangeEnd,
});

function ok<T>(outcome: AuthOutcome<T>): T {
  if (!outcome.ok) assert.fail(`expected success, got ${outcome.error.message}`);
  return outcome.value;
}

function refused(outcome: AuthOutcome<unknown>, error: EtcdError): void {
  assert.equal(outcome.ok, false, `expected ${error.message}`);
  if (!outcome.ok) assert.deepEqual(outcome.error, error);
}

/** A store with root (holding root) and alice (holding role "reader": READ on prefix "foo"), auth enabled. */
function enabledStore(): AuthStore {
  const store = new AuthStore();
  ok(store.addUser('root', { passwordHash: 'root-hash', noPassword: false }));
  ok(store.grantRole('root', 'root'));
  ok(store.addUser('alice', { passwordHash: 'alice-hash', noPassword: false }));
  ok(store.addRole('reader'));
  ok(store.grantPermission('reader', permission('READ', 'foo', 'fop')));
  ok(store.grantRole('alice', 'reader'));
  ok(store.enable());
  return store;
}

const as = (store: AuthStore, username: string): AuthRequester => ({
  username,
  authRevision: store.authRevision,
});

describe('AuthStore: enabling', () => {
  test('a new store is disabled at auth revision 1, with no users or roles', () => {
    const store = new AuthStore();
    assert.deepEqual(store.status(), { enabled: false, authRevision: 1 });
    assert.deepEqual(store.listUsers(), []);
    assert.deepEqual(store.listRoles(), []);
  });

  test('enable needs a root user, and that user needs the root role (which need not exist as a role)', () => {
    const store = new AuthStore();
    refused(store.enable(), AUTH_ERRORS.rootUserNotExist);
    ok(store.addUser('root', { passwordHash: 'h', noPassword: false }));
    refused(store.enable(), AUTH_ERRORS.rootRoleNotExist);
    ok(store.grantRole('root', 'root'));
    const revision = store.authRevision;
    ok(store.enable());
    assert.deepEqual(store.status(), { enabled: true, authRevision: revision }, 'enable keeps the revision');
    ok(store.enable());
    assert.equal(store.authRevision, revision, 'enabling twice changes nothing');
  });

  test('disable moves the revision and invalidates every token; disabling twice changes nothing', () => {
    const store = enabledStore();
    const revision = store.authRevision;
    const result = store.apply({ kind: 'authDisable' }, as(store, 'root'), 10);
    assert.deepEqual(result, { ok: true, value: {}, tokenEffect: { kind: 'invalidateAll' } });
    assert.deepEqual(store.status(), { enabled: false, authRevision: revision + 1 });
    ok(store.disable());
    assert.equal(store.authRevision, revision + 1);
  });
});

describe('AuthStore: users', () => {
  test('every successful change moves the auth revision by one; refusals and no-ops do not', () => {
    const store = new AuthStore();
    const steps: [() => AuthOutcome<unknown>, number][] = [
      [() => store.addUser('u', { passwordHash: 'h', noPassword: false }), 1],
      [() => store.addUser('u', { passwordHash: 'h', noPassword: false }), 0],
      [() => store.addRole('r'), 1],
      [() => store.grantRole('u', 'r'), 1],
      [() => store.grantRole('u', 'r'), 0],
      [() => store.grantPermission('r', permission('READ', 'a')), 1],
      [() => store.revokePermission('r', utf8('a'), NONE), 1],
      [() => store.changePassword('u', 'h2'), 1],
      [() => store.revokeRole('u', 'r'), 1],
      [() => store.deleteRole('r'), 1],
      [() => store.deleteUser('u'), 1],
      [() => store.deleteUser('u'), 0],
    ];
    for (const [step, moves] of steps) {
      const before = store.authRevision;
      step();
      assert.equal(store.authRevision, before + moves);
    }
  });

  test('user add refuses an empty or taken name; a no-password user keeps no hash', () => {
    const store = new AuthStore();
    refused(store.addUser('', { passwordHash: 'h', noPassword: false }), AUTH_ERRORS.userEmpty);
    ok(store.addUser('bob', { passwordHash: 'h', noPassword: false }));
    refused(store.addUser('bob', { passwordHash: 'h', noPassword: false }), AUTH_ERRORS.userAlreadyExist);
    ok(store.addUser('cert', { passwordHash: 'ignored', noPassword: true }));
    assert.deepEqual(ok(store.getUser('cert')), {
      name: 'cert',
      passwordHash: '',
      noPassword: true,
      roles: [],
    });
    ok(store.changePassword('cert', 'new'));
    assert.equal(ok(store.getUser('cert')).passwordHash, '', 'a no-password user gets no password');
  });

  test('delete and change password refuse unknown users and invalidate the user’s tokens', () => {
    const store = enabledStore();
    const root = as(store, 'root');
    refused(store.deleteUser('nobody'), AUTH_ERRORS.userNotFound);
    refused(store.changePassword('nobody', 'h'), AUTH_ERRORS.userNotFound);
    assert.deepEqual(
      store.apply({ kind: 'userChangePassword', name: 'alice', passwordHash: 'h2' }, root, 5),
      {
        ok: true,
        value: {},
        tokenEffect: { kind: 'invalidateUser', username: 'alice' },
      },
    );
    assert.equal(ok(store.getUser('alice')).passwordHash, 'h2');
    const deleted = store.apply({ kind: 'userDelete', name: 'alice' }, as(store, 'root'), 6);
    assert.deepEqual(deleted, {
      ok: true,
      value: {},
      tokenEffect: { kind: 'invalidateUser', username: 'alice' },
    });
    refused(store.getUser('alice'), AUTH_ERRORS.userNotFound);
  });

  test('the root user cannot be deleted, nor lose the root role, while auth is enabled', () => {
    const store = enabledStore();
    refused(store.deleteUser('root'), AUTH_ERRORS.invalidAuthMgmt);
    refused(store.revokeRole('root', 'root'), AUTH_ERRORS.invalidAuthMgmt);
    ok(store.disable());
    ok(store.revokeRole('root', 'root'));
    ok(store.deleteUser('root'));
  });

  test('grant role needs the user and the role; roles stay sorted and granting twice is a no-op', () => {
    const store = new AuthStore();
    ok(store.addUser('u', { passwordHash: 'h', noPassword: false }));
    refused(store.grantRole('nobody', 'r'), AUTH_ERRORS.userNotFound);
    refused(store.grantRole('u', 'missing'), AUTH_ERRORS.roleNotFound);
    for (const role of ['zeta', 'alpha', 'mid']) ok(store.addRole(role));
    for (const role of ['zeta', 'alpha', 'mid', 'alpha']) ok(store.grantRole('u', role));
    assert.deepEqual(ok(store.userRoles('u')).roles, ['alpha', 'mid', 'zeta']);
  });

  test('revoke role refuses unknown users and roles the user does not hold', () => {
    const store = new AuthStore();
    ok(store.addUser('u', { passwordHash: 'h', noPassword: false }));
    ok(store.addRole('r'));
    refused(store.revokeRole('nobody', 'r'), AUTH_ERRORS.userNotFound);
    refused(store.revokeRole('u', 'r'), AUTH_ERRORS.roleNotGranted);
  });

  test('users and roles are listed in the byte order of their UTF-8 names', () => {
    const store = new AuthStore();
    const names = ['b', 'a', 'B', '\u{1F600}', '\uFFFD', 'é', 'aa'];
    for (const name of names) ok(store.addUser(name, { passwordHash: 'h', noPassword: false }));
    for (const name of names) ok(store.addRole(name));
    const byUtf8 = [...names].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
    assert.deepEqual(store.listUsers(), byUtf8);
    assert.deepEqual(store.listRoles(), byUtf8);
    assert.notDeepEqual(byUtf8, [...names].sort(), 'the names include a case where UTF-16 order differs');
  });
});

describe('AuthStore: roles and permissions', () => {
  test('role add refuses an empty or taken name', () => {
    const store = new AuthStore();
    refused(store.addRole(''), AUTH_ERRORS.roleEmpty);
    ok(store.addRole('r'));
    refused(store.addRole('r'), AUTH_ERRORS.roleAlreadyExist);
  });

  test('role delete refuses unknown roles and, while enabled, the root role; it leaves every user', () => {
    const store = enabledStore();
    refused(store.deleteRole('missing'), AUTH_ERRORS.roleNotFound);
    ok(store.addRole('root'));
    refused(store.deleteRole('root'), AUTH_ERRORS.invalidAuthMgmt);
    ok(store.deleteRole('reader'));
    assert.deepEqual(ok(store.userRoles('alice')).roles, []);
    assert.equal(store.checkPermission('alice', utf8('foo'), NONE, 'read'), false);
  });

  test('grant permission: none given, an invalid range, an unknown role are refused in etcd’s order', () => {
    const store = new AuthStore();
    refused(store.grantPermission('missing', undefined), AUTH_ERRORS.permissionNotGiven);
    refused(store.grantPermission('missing', permission('READ', '')), AUTH_ERRORS.invalidAuthMgmt);
    refused(store.grantPermission('missing', permission('READ', 'b', 'a')), AUTH_ERRORS.invalidAuthMgmt);
    refused(store.grantPermission('missing', permission('READ', 'b', 'b')), AUTH_ERRORS.invalidAuthMgmt);
    refused(store.grantPermission('missing', permission('READ', 'b', FROM_KEY)), AUTH_ERRORS.roleNotFound);
  });

  test('granting a range again changes its type; permissions stay sorted by key', () => {
    const store = new AuthStore();
    ok(store.addRole('r'));
    ok(store.grantPermission('r', permission('READ', 'k', 'l')));
    ok(store.grantPermission('r', permission('WRITE', 'a')));
    ok(store.grantPermission('r', permission('READWRITE', 'k', 'l')));
    assert.deepEqual(ok(store.rolePermissions('r')).perm, [
      permission('WRITE', 'a'),
      permission('READWRITE', 'k', 'l'),
    ]);
  });

  test('revoke permission needs the role and that exact (key, range end)', () => {
    const store = new AuthStore();
    ok(store.addRole('r'));
    ok(store.grantPermission('r', permission('READ', 'k', 'l')));
    refused(store.revokePermission('missing', utf8('k'), utf8('l')), AUTH_ERRORS.roleNotFound);
    refused(store.revokePermission('r', utf8('k'), NONE), AUTH_ERRORS.permissionNotGranted);
    ok(store.revokePermission('r', utf8('k'), utf8('l')));
    assert.deepEqual(ok(store.rolePermissions('r')).perm, []);
  });

  test('role get shows the root role as read-write on every key', () => {
    const store = new AuthStore();
    refused(store.rolePermissions('root'), AUTH_ERRORS.roleNotFound);
    ok(store.addRole('root'));
    assert.deepEqual(ok(store.rolePermissions('root')).perm, [
      { permType: 'READWRITE', key: NONE, rangeEnd: FROM_KEY },
    ]);
  });

  test('READWRITE grants both; the root role grants everything; unknown users nothing', () => {
    const store = enabledStore();
    ok(store.addRole('writer'));
    ok(store.grantPermission('writer', permission('READWRITE', 'w', FROM_KEY)));
    ok(store.grantRole('alice', 'writer'));
    assert.equal(store.checkPermission('alice', utf8('w'), FROM_KEY, 'write'), true);
    assert.equal(store.checkPermission('alice', utf8('foo1'), NONE, 'write'), false);
    assert.equal(store.checkPermission('alice', utf8('foo1'), NONE, 'read'), true);
    assert.equal(store.checkPermission('root', new Uint8Array([0]), FROM_KEY, 'write'), true);
    assert.equal(store.checkPermission('nobody', utf8('foo'), NONE, 'read'), false);
    assert.equal(store.isAdmin('root'), true);
    assert.equal(store.isAdmin('alice'), false);
  });
});

describe('AuthStore.apply: who may run a command', () => {
  const management: AuthCommand[] = [
    { kind: 'authEnable' },
    { kind: 'authDisable' },
    { kind: 'userAdd', name: 'x', passwordHash: 'h', noPassword: false },
    { kind: 'userDelete', name: 'alice' },
    { kind: 'userChangePassword', name: 'alice', passwordHash: 'h' },
    { kind: 'userGrantRole', user: 'alice', role: 'reader' },
    { kind: 'userRevokeRole', name: 'alice', role: 'reader' },
    { kind: 'userList' },
    { kind: 'roleAdd', name: 'x' },
    { kind: 'roleDelete', role: 'reader' },
    { kind: 'roleGrantPermission', name: 'reader', perm: permission('READ', 'x') },
    { kind: 'roleRevokePermission', role: 'reader', key: utf8('foo'), rangeEnd: utf8('fop') },
    { kind: 'roleList' },
  ];

  test('management needs the root role once enabled: no user, unknown user, other user are refused', () => {
    for (const command of management) {
      const store = enabledStore();
      const before = store.snapshot();
      assert.deepEqual(store.apply(command, undefined, 1), { ok: false, error: AUTH_ERRORS.userEmpty });
      const ghost = { username: 'ghost', authRevision: store.authRevision };
      assert.deepEqual(store.apply(command, ghost, 1), { ok: false, error: AUTH_ERRORS.userNotFound });
      assert.deepEqual(store.apply(command, as(store, 'alice'), 1), {
        ok: false,
        error: AUTH_ERRORS.permissionDenied,
      });
      assert.deepEqual(store.snapshot(), before, `${command.kind}: a refused command changed the store`);
      assert.equal(store.apply(command, as(store, 'root'), 1).ok, true, command.kind);
    }
  });

  test('while disabled anyone may manage', () => {
    const store = new AuthStore();
    assert.equal(store.apply({ kind: 'roleAdd', name: 'r' }, undefined, 1).ok, true);
  });

  test('a user may get itself and the roles it holds, nothing else', () => {
    const store = enabledStore();
    const alice = as(store, 'alice');
    assert.deepEqual(store.apply({ kind: 'userGet', name: 'alice' }, alice, 1), {
      ok: true,
      value: { roles: ['reader'] },
      tokenEffect: undefined,
    });
    assert.deepEqual(store.apply({ kind: 'userGet', name: 'root' }, alice, 1), {
      ok: false,
      error: AUTH_ERRORS.permissionDenied,
    });
    assert.equal(store.apply({ kind: 'roleGet', role: 'reader' }, alice, 1).ok, true);
    ok(store.addRole('other'));
    assert.deepEqual(store.apply({ kind: 'roleGet', role: 'other' }, as(store, 'alice'), 1), {
      ok: false,
      error: AUTH_ERRORS.permissionDenied,
    });
    assert.equal(store.apply({ kind: 'authStatus' }, undefined, 1).ok, true, 'status needs no user');
  });
});

describe('AuthStore.apply: authenticate', () => {
  const authenticate = (store: AuthStore, name: string, checked = store.authRevision) =>
    store.apply(
      { kind: 'authenticate', name, simpleTokenPrefix: 'abcDEF', checkedAuthRevision: checked },
      undefined,
      42,
    );

  test('issues "<prefix>.<log index>" and tells every member to assign it', () => {
    const store = enabledStore();
    assert.deepEqual(authenticate(store, 'alice'), {
      ok: true,
      value: { token: 'abcDEF.42' },
      tokenEffect: { kind: 'assign', token: 'abcDEF.42', username: 'alice' },
    });
  });

  test('refuses when disabled, for unknown and no-password users, and when the password check is stale', () => {
    const disabled = new AuthStore();
    ok(disabled.addUser('alice', { passwordHash: 'h', noPassword: false }));
    assert.deepEqual(authenticate(disabled, 'alice'), { ok: false, error: AUTH_ERRORS.authNotEnabled });
    const store = enabledStore();
    ok(store.addUser('cert', { passwordHash: '', noPassword: true }));
    assert.deepEqual(authenticate(store, 'nobody'), { ok: false, error: AUTH_ERRORS.authFailed });
    assert.deepEqual(authenticate(store, 'cert'), { ok: false, error: AUTH_ERRORS.authFailed });
    assert.deepEqual(authenticate(store, 'alice', store.authRevision - 1), {
      ok: false,
      error: AUTH_ERRORS.authOldRevision,
    });
  });

  test('a token prefix holding the separator is a programming error', () => {
    const store = enabledStore();
    assert.throws(() =>
      store.apply(
        { kind: 'authenticate', name: 'alice', simpleTokenPrefix: 'a.b', checkedAuthRevision: 1 },
        undefined,
        1,
      ),
    );
  });
});

describe('AuthStore.checkRequirement', () => {
  const put = (key: string, options: { prevKv?: boolean; lease?: bigint } = {}): AuthRequirement => ({
    kind: 'put',
    request: { key: utf8(key), prevKv: options.prevKv ?? false, lease: options.lease ?? 0n },
  });
  const range = (key: string, rangeEnd = ''): AuthRequirement => ({
    kind: 'range',
    key: utf8(key),
    rangeEnd: utf8(rangeEnd),
  });

  test('while disabled everything is allowed, even without a user', () => {
    const store = new AuthStore();
    for (const requirement of [
      put('a'),
      range('a'),
      { kind: 'admin' } as const,
      { kind: 'authenticated' } as const,
    ]) {
      assert.equal(store.checkRequirement(undefined, requirement), undefined);
    }
  });

  test('KV access: no user, a stale revision, an unknown user, then the range decide, in that order', () => {
    const store = enabledStore();
    assert.deepEqual(store.checkRequirement(undefined, range('foo')), AUTH_ERRORS.userEmpty);
    assert.deepEqual(
      store.checkRequirement({ username: 'alice', authRevision: 0 }, range('foo')),
      AUTH_ERRORS.userEmpty,
    );
    const stale = { username: 'alice', authRevision: store.authRevision - 1 };
    assert.deepEqual(store.checkRequirement(stale, range('foo')), AUTH_ERRORS.authOldRevision);
    assert.deepEqual(store.checkRequirement(as(store, 'ghost'), range('foo')), AUTH_ERRORS.permissionDenied);
    assert.equal(store.checkRequirement(as(store, 'alice'), range('foo', 'fop')), undefined);
    assert.deepEqual(
      store.checkRequirement(as(store, 'alice'), range('foo', 'foq')),
      AUTH_ERRORS.permissionDenied,
    );
    assert.deepEqual(store.checkRequirement(as(store, 'alice'), put('foo')), AUTH_ERRORS.permissionDenied);
    assert.equal(store.checkRequirement(as(store, 'root'), put('anything')), undefined);
  });

  test('put and delete with prevKv also need read access; txn needs read on compares and each op', () => {
    const store = enabledStore();
    ok(store.addRole('writer'));
    ok(store.grantPermission('writer', permission('WRITE', 'w', 'x')));
    ok(store.grantRole('alice', 'writer'));
    const alice = as(store, 'alice');
    assert.equal(store.checkRequirement(alice, put('w1')), undefined);
    assert.deepEqual(
      store.checkRequirement(alice, put('w1', { prevKv: true })),
      AUTH_ERRORS.permissionDenied,
    );
    const deleteRange = (prevKv: boolean): AuthRequirement => ({
      kind: 'deleteRange',
      request: { key: utf8('w'), rangeEnd: utf8('x'), prevKv },
    });
    assert.equal(store.checkRequirement(alice, deleteRange(false)), undefined);
    assert.deepEqual(store.checkRequirement(alice, deleteRange(true)), AUTH_ERRORS.permissionDenied);

    const compare = (key: string) => ({
      result: 'EQUAL' as const,
      target: 'VERSION' as const,
      key: utf8(key),
      rangeEnd: NONE,
      version: 0,
      createRevision: 0,
      modRevision: 0,
      value: NONE,
      lease: 0n,
    });
    const putOp = (key: string) => ({
      kind: 'put' as const,
      request: {
        key: utf8(key),
        value: NONE,
        lease: 0n,
        prevKv: false,
        ignoreValue: false,
        ignoreLease: false,
      },
    });
    const txn = (compareKey: string, nestedPutKey: string): TxnRequest => ({
      compare: [compare(compareKey)],
      success: [putOp('w1')],
      failure: [{ kind: 'txn', request: { compare: [], success: [putOp(nestedPutKey)], failure: [] } }],
    });
    assert.equal(store.checkRequirement(alice, { kind: 'txn', request: txn('foo', 'w2') }), undefined);
    assert.deepEqual(
      store.checkRequirement(alice, { kind: 'txn', request: txn('w1', 'w2') }),
      AUTH_ERRORS.permissionDenied,
    );
    assert.deepEqual(
      store.checkRequirement(alice, { kind: 'txn', request: txn('foo', 'zz') }),
      AUTH_ERRORS.permissionDenied,
    );
  });

  test('leases: a put may attach, and a user may renew or revoke, a lease only if it may write its keys', () => {
    const store = enabledStore();
    ok(store.addRole('writer'));
    ok(store.grantPermission('writer', permission('READWRITE', 'w', 'x')));
    ok(store.grantRole('alice', 'writer'));
    const alice = as(store, 'alice');
    const leaseKeys = (id: bigint) => (id === 7n ? [utf8('w1'), utf8('secret')] : [utf8('w2')]);
    assert.deepEqual(
      store.checkRequirement(alice, put('w1', { lease: 7n }), leaseKeys),
      AUTH_ERRORS.permissionDenied,
    );
    assert.equal(store.checkRequirement(alice, put('w1', { lease: 8n }), leaseKeys), undefined);
    assert.deepEqual(
      store.checkRequirement(alice, { kind: 'leaseWrite', leaseId: 7n }, leaseKeys),
      AUTH_ERRORS.permissionDenied,
    );
    assert.equal(store.checkRequirement(alice, { kind: 'leaseRead', leaseId: 8n }, leaseKeys), undefined);
    assert.deepEqual(
      store.checkRequirement(alice, { kind: 'leaseReadAll', leaseIds: [8n, 7n] }, leaseKeys),
      AUTH_ERRORS.permissionDenied,
    );
    assert.equal(
      store.checkRequirement(as(store, 'root'), { kind: 'leaseWrite', leaseId: 7n }, leaseKeys),
      undefined,
    );
    assert.deepEqual(
      store.checkRequirement(undefined, { kind: 'leaseWrite', leaseId: 9n }),
      AUTH_ERRORS.userEmpty,
    );
  });

  test('"authenticated" needs any user; "none" needs nothing', () => {
    const store = enabledStore();
    assert.deepEqual(store.checkRequirement(undefined, { kind: 'authenticated' }), AUTH_ERRORS.userEmpty);
    assert.equal(store.checkRequirement(as(store, 'alice'), { kind: 'authenticated' }), undefined);
    assert.equal(store.checkRequirement(undefined, { kind: 'none' }), undefined);
  });

  test('a read served locally is refused when the auth store changed while it ran', () => {
    const store = enabledStore();
    const alice = as(store, 'alice');
    assert.equal(store.checkNotStale(alice), undefined);
    assert.equal(store.checkNotStale(undefined), undefined);
    ok(store.addRole('later'));
    assert.deepEqual(store.checkNotStale(alice), AUTH_ERRORS.authOldRevision);
  });
});
