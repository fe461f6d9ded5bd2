import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AUTH_ERRORS, AuthStore, ETCD_ERRORS } from '@synod/state';
import {
  AUTHENTICATE_ATTEMPTS_MAX,
  AuthEdge,
  type AuthProposer,
  applyAuthCommand,
  localAuthProposer,
} from './auth-edge.js';
import type { AuthCaller } from './auth-service.js';
import { EtcdAuthorizer } from './authorizer.js';
import { PasswordHasher, PasswordHasherBusyError } from './password.js';
import { SimpleTokenManager } from './simple-token-manager.js';

const TEST_LOG2_COST = 4;
const caller = (token?: string): AuthCaller => ({ token, signal: new AbortController().signal });

/** A store with root/rootpw (root role) and alice/alicepw, auth enabled; a fresh edge over it. */
async function setup(
  options: {
    propose?: (local: AuthProposer, store: AuthStore) => AuthProposer;
    hasher?: PasswordHasher;
  } = {},
) {
  const store = new AuthStore();
  const tokens = new SimpleTokenManager();
  const hasher = options.hasher ?? new PasswordHasher({ log2Cost: TEST_LOG2_COST });
  const local = localAuthProposer(store, tokens, () => 77);
  const propose = options.propose?.(local, store) ?? local;
  const edge = new AuthEdge({
    store,
    authorizer: new EtcdAuthorizer({ store, tokens }),
    hasher,
    propose,
    newTokenPrefix: () => 'prefix',
  });
  const helper = new PasswordHasher({ log2Cost: TEST_LOG2_COST });
  assert.ok(store.addUser('root', { passwordHash: await helper.hash('rootpw'), noPassword: false }).ok);
  assert.ok(store.grantRole('root', 'root').ok);
  assert.ok(store.addUser('alice', { passwordHash: await helper.hash('alicepw'), noPassword: false }).ok);
  assert.ok(store.enable().ok);
  return { store, tokens, edge };
}

async function login(edge: AuthEdge, name: string, password: string): Promise<string> {
  const result = await edge.authenticate({ name, password }, caller());
  if (!result.ok) assert.fail(result.error.message);
  return result.value.token;
}

describe('AuthEdge', () => {
  test('authenticate issues a token every member registers; the header gets the KV revision', async () => {
    const { edge, tokens } = await setup();
    const result = await edge.authenticate({ name: 'alice', password: 'alicepw' }, caller());
    assert.deepEqual(result, { ok: true, value: { token: 'prefix.1' }, revision: 77 });
    assert.equal(tokens.lookup('prefix.1'), 'alice');
  });

  test('a user change landing between the password check and the apply makes it check again', async () => {
    let interfere = 1;
    const { edge } = await setup({
      propose: (local, store) => async (proposal, signal) => {
        if (proposal.command.kind === 'authenticate' && interfere-- > 0)
          assert.ok(store.addRole(`r${interfere}`).ok);
        return local(proposal, signal);
      },
    });
    assert.deepEqual(await edge.authenticate({ name: 'alice', password: 'alicepw' }, caller()), {
      ok: true,
      value: { token: 'prefix.2' },
      revision: 77,
    });
  });

  test(`after ${AUTHENTICATE_ATTEMPTS_MAX} stale attempts authenticate gives up with "revision of auth store is old"`, async () => {
    let proposals = 0;
    const { edge } = await setup({
      propose: (local, store) => async (proposal, signal) => {
        proposals++;
        assert.ok(store.addRole(`r${proposals}`).ok);
        return local(proposal, signal);
      },
    });
    assert.deepEqual(await edge.authenticate({ name: 'alice', password: 'alicepw' }, caller()), {
      ok: false,
      error: AUTH_ERRORS.authOldRevision,
    });
    assert.equal(proposals, AUTHENTICATE_ATTEMPTS_MAX);
  });

  test('wrong passwords, unknown users and no-password users are refused alike', async () => {
    const { edge, store } = await setup();
    assert.ok(store.addUser('cert', { passwordHash: '', noPassword: true }).ok);
    for (const [name, password] of [
      ['alice', 'wrong'],
      ['nobody', 'alicepw'],
      ['cert', ''],
    ] as const) {
      assert.deepEqual(await edge.authenticate({ name, password }, caller()), {
        ok: false,
        error: AUTH_ERRORS.authFailed,
      });
    }
  });

  test('management is refused at the edge before any password is hashed', async () => {
    let hashes = 0;
    const hasher = new PasswordHasher({ log2Cost: TEST_LOG2_COST });
    const counting = Object.assign(Object.create(hasher) as PasswordHasher, {
      hash: (password: string) => {
        hashes++;
        return hasher.hash(password);
      },
    });
    const { edge } = await setup({ hasher: counting });
    const aliceToken = await login(edge, 'alice', 'alicepw');
    const request = { name: 'mallory', password: 'x', options: undefined };
    assert.deepEqual(await edge.userAdd(request, caller(aliceToken)), {
      ok: false,
      error: AUTH_ERRORS.permissionDenied,
    });
    assert.deepEqual(await edge.userAdd(request, caller()), { ok: false, error: AUTH_ERRORS.userEmpty });
    assert.deepEqual(await edge.userAdd(request, caller('forged.1')), {
      ok: false,
      error: AUTH_ERRORS.invalidAuthToken,
    });
    assert.equal(hashes, 0);
    const rootToken = await login(edge, 'root', 'rootpw');
    assert.equal((await edge.userAdd(request, caller(rootToken))).ok, true);
    assert.equal(hashes, 1);
  });

  test('user add stores a hash that logs in; no-password users and empty new passwords store none', async () => {
    const { edge, store } = await setup();
    const root = caller(await login(edge, 'root', 'rootpw'));
    assert.equal((await edge.userAdd({ name: 'bob', password: 'bobpw', options: undefined }, root)).ok, true);
    const bob = store.getUser('bob');
    assert.ok(bob.ok);
    assert.match(bob.value.passwordHash, /^\$scrypt\$/);
    assert.equal(typeof (await login(edge, 'bob', 'bobpw')), 'string');
    assert.equal(
      (await edge.userAdd({ name: 'cert', password: 'ignored', options: { noPassword: true } }, root)).ok,
      true,
    );
    assert.equal((await edge.userChangePassword({ name: 'bob', password: '' }, root)).ok, true);
    assert.deepEqual(await edge.authenticate({ name: 'bob', password: '' }, caller()), {
      ok: false,
      error: AUTH_ERRORS.authFailed,
    });
  });

  test('a saturated hasher answers "too many requests"; a failed proposal passes its error on', async () => {
    const busy = Object.assign(Object.create(new PasswordHasher()) as PasswordHasher, {
      hash: () => Promise.reject(new PasswordHasherBusyError()),
      verify: () => Promise.reject(new PasswordHasherBusyError()),
    });
    const { edge } = await setup({ hasher: busy });
    assert.deepEqual(await edge.authenticate({ name: 'alice', password: 'alicepw' }, caller()), {
      ok: false,
      error: ETCD_ERRORS.tooManyRequests,
    });
    const failing = await setup({ propose: () => async () => ({ ok: false, error: ETCD_ERRORS.noLeader }) });
    assert.deepEqual(await failing.edge.authStatus({}, caller()), { ok: false, error: ETCD_ERRORS.noLeader });
  });

  test('applyAuthCommand applies the token effect with the store change', () => {
    const store = new AuthStore();
    const tokens = new SimpleTokenManager();
    assert.ok(store.addUser('root', { passwordHash: 'h', noPassword: false }).ok);
    assert.ok(store.grantRole('root', 'root').ok);
    assert.ok(store.enable().ok);
    const command = {
      kind: 'authenticate' as const,
      name: 'root',
      simpleTokenPrefix: 'abc',
      checkedAuthRevision: store.authRevision,
    };
    assert.equal(applyAuthCommand(store, tokens, { command, requester: undefined }, 9).ok, true);
    assert.equal(tokens.lookup('abc.9'), 'root');
    const requester = { username: 'root', authRevision: store.authRevision };
    assert.equal(
      applyAuthCommand(store, tokens, { command: { kind: 'authDisable' }, requester }, 10).ok,
      true,
    );
    assert.equal(tokens.size, 0);
  });
});
