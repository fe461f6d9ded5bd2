import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AUTH_ERRORS, type AuthRequirement, AuthStore } from '@synod/state';
import { Metadata } from '../../grpc/metadata.js';
import { EtcdAuthorizer, tokenFromMetadata } from './authorizer.js';
import { ETCD_AUTH_REQUIREMENTS } from './method-requirements.js';
import { SimpleTokenManager } from './simple-token-manager.js';

const utf8 = (text: string) => new TextEncoder().encode(text);
const NONE = new Uint8Array(0);
const readFoo: AuthRequirement = ETCD_AUTH_REQUIREMENTS.KV.Range({ key: utf8('foo'), rangeEnd: NONE });

function unwrap<T>(outcome: { ok: boolean; value?: T }): void {
  assert.equal(outcome.ok, true);
}

/** root (root role) and alice (READ on "foo"), auth enabled; tokens "root.1" and "alice.2". */
function setup(options: { enabled?: boolean } = {}) {
  const store = new AuthStore();
  unwrap(store.addUser('root', { passwordHash: 'h', noPassword: false }));
  unwrap(store.grantRole('root', 'root'));
  unwrap(store.addUser('alice', { passwordHash: 'h', noPassword: false }));
  unwrap(store.addRole('reader'));
  unwrap(store.grantPermission('reader', { permType: 'READ', key: utf8('foo'), rangeEnd: NONE }));
  unwrap(store.grantRole('alice', 'reader'));
  if (options.enabled ?? true) unwrap(store.enable());
  const tokens = new SimpleTokenManager();
  tokens.assign('root.1', 'root');
  tokens.assign('alice.2', 'alice');
  return { store, tokens, authorizer: new EtcdAuthorizer({ store, tokens }) };
}

describe('EtcdAuthorizer', () => {
  test('with auth disabled every request passes, token or not', async () => {
    const { authorizer } = setup({ enabled: false });
    assert.deepEqual(await authorizer.authorize(undefined, ETCD_AUTH_REQUIREMENTS.KV.Compact()), {
      ok: true,
      requester: undefined,
    });
    assert.deepEqual(await authorizer.authorize('garbage', readFoo), { ok: true, requester: undefined });
  });

  test('no token: "user name is empty"; an unknown token: "invalid auth token"', async () => {
    const { authorizer } = setup();
    assert.deepEqual(await authorizer.authorize(undefined, readFoo), {
      ok: false,
      error: AUTH_ERRORS.userEmpty,
    });
    assert.deepEqual(await authorizer.authorize('nope.9', readFoo), {
      ok: false,
      error: AUTH_ERRORS.invalidAuthToken,
    });
  });

  test('a valid token names the user at the store’s current auth revision; the range decides', async () => {
    const { store, authorizer } = setup();
    assert.deepEqual(await authorizer.authorize('alice.2', readFoo), {
      ok: true,
      requester: { username: 'alice', authRevision: store.authRevision },
    });
    const write = ETCD_AUTH_REQUIREMENTS.KV.Put({ key: utf8('foo'), prevKv: false, lease: 0n });
    assert.deepEqual(await authorizer.authorize('alice.2', write), {
      ok: false,
      error: AUTH_ERRORS.permissionDenied,
    });
    assert.equal((await authorizer.authorize('root.1', write)).ok, true);
    assert.deepEqual(authorizer.authorizeNow('alice.2', ETCD_AUTH_REQUIREMENTS.Maintenance.Defragment()), {
      ok: false,
      error: AUTH_ERRORS.permissionDenied,
    });
  });

  test('requirement "none" ignores even a bad token (etcd never reads it there)', async () => {
    const { authorizer } = setup();
    assert.deepEqual(await authorizer.authorize('nope.9', ETCD_AUTH_REQUIREMENTS.Cluster.MemberList()), {
      ok: true,
      requester: undefined,
    });
  });

  test('a token minted at a log index this member has not applied yet is waited for', async () => {
    const { store, tokens } = setup();
    let applied = 5;
    const waited: number[] = [];
    const authorizer = new EtcdAuthorizer({
      store,
      tokens,
      appliedIndex: () => applied,
      waitForApplied: async (index) => {
        waited.push(index);
        applied = index;
        tokens.assign('fresh.7', 'alice');
      },
    });
    assert.equal((await authorizer.authorize('fresh.7', readFoo)).ok, true);
    assert.deepEqual(waited, [7]);
    assert.deepEqual(authorizer.authorizeNow('fresh.8', readFoo), {
      ok: false,
      error: AUTH_ERRORS.invalidAuthToken,
    });
  });

  test('a token from the past, or a wait that fails, is invalid', async () => {
    const { store, tokens } = setup();
    const authorizer = new EtcdAuthorizer({
      store,
      tokens,
      appliedIndex: () => 5,
      waitForApplied: () => Promise.reject(new Error('timed out')),
    });
    assert.deepEqual(await authorizer.authorize('old.3', readFoo), {
      ok: false,
      error: AUTH_ERRORS.invalidAuthToken,
    });
    assert.deepEqual(await authorizer.authorize('future.9', readFoo), {
      ok: false,
      error: AUTH_ERRORS.invalidAuthToken,
    });
  });

  test('the token comes from metadata key "token" (or the gateway’s "authorization")', () => {
    assert.equal(tokenFromMetadata(new Metadata().set('token', 'abc.1')), 'abc.1');
    assert.equal(tokenFromMetadata(new Metadata().set('authorization', 'abc.2')), 'abc.2');
    assert.equal(tokenFromMetadata(new Metadata()), undefined);
  });

  test('method table: status needs a user, alarm changes and compaction need root, member list nothing', () => {
    assert.deepEqual(ETCD_AUTH_REQUIREMENTS.Maintenance.Status(), { kind: 'authenticated' });
    assert.deepEqual(ETCD_AUTH_REQUIREMENTS.Maintenance.Alarm({ action: 'GET' }), { kind: 'authenticated' });
    assert.deepEqual(ETCD_AUTH_REQUIREMENTS.Maintenance.Alarm({ action: 'DEACTIVATE' }), { kind: 'admin' });
    assert.deepEqual(ETCD_AUTH_REQUIREMENTS.KV.Compact(), { kind: 'admin' });
    assert.deepEqual(ETCD_AUTH_REQUIREMENTS.Lease.LeaseRevoke({ ID: 7n }), {
      kind: 'leaseWrite',
      leaseId: 7n,
    });
  });
});
