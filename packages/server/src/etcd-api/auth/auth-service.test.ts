// The Auth service end to end, on a GrpcServer on 127.0.0.1: AuthEdge over a proposer that applies
// at once to an AuthStore, plus a tiny KV (Range, Put) whose handlers call `authorize` as the real
// ones must. Driven by real clients: etcdctl 3.4 (skipped when missing, unless
// SYNOD_REQUIRE_ETCDCTL=1), the etcd3 npm client, and @grpc/grpc-js stubs from etcd's own protos
// to see the exact gRPC status of each refusal.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import { promisify } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { AuthStore, type KeyValue, type ResponseHeader } from '@synod/state';
import { Etcd3, EtcdAuthenticationFailedError, EtcdPermissionDeniedError } from 'etcd3';
import { unary } from '../../grpc/methods.js';
import { GrpcServer } from '../../grpc/server.js';
import { GrpcStatus } from '../../grpc/status.js';
import { ETCD_METHOD_CODECS } from '../proto/messages.js';
import { AuthEdge, localAuthProposer } from './auth-edge.js';
import { etcdErrorToGrpc, registerAuthService } from './auth-service.js';
import { EtcdAuthorizer, tokenFromMetadata } from './authorizer.js';
import { ETCD_AUTH_REQUIREMENTS } from './method-requirements.js';
import { PasswordHasher } from './password.js';
import { SimpleTokenManager } from './simple-token-manager.js';

const run = promisify(execFile);
const etcdctlAvailable = await run('etcdctl', ['version']).then(
  () => true,
  () => false,
);
const requireEtcdctl = process.env.SYNOD_REQUIRE_ETCDCTL === '1';
if (requireEtcdctl && !etcdctlAvailable)
  throw new Error('SYNOD_REQUIRE_ETCDCTL=1 but etcdctl is not on PATH');
const ETCD_PROTO_DIR = join(dirname(createRequire(import.meta.url).resolve('etcd3/package.json')), 'proto');
/** Cheap scrypt for tests (each etcdctl run authenticates once). */
const TEST_LOG2_COST = 8;
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
const utf8 = (value: string) => new TextEncoder().encode(value);

/** One Synod-like endpoint: the Auth service and a KV that authorizes every request. */
class AuthTestServer {
  readonly store = new AuthStore();
  readonly tokens = new SimpleTokenManager();
  readonly authorizer = new EtcdAuthorizer({ store: this.store, tokens: this.tokens });
  private readonly grpc = new GrpcServer({ logger: { warn: () => {}, error: () => {} } });
  private readonly data = new Map<string, KeyValue>();
  private revision = 1;
  port = 0;

  async start(): Promise<void> {
    const header = (revision: number): ResponseHeader => ({
      clusterId: 1n,
      memberId: 1n,
      revision,
      raftTerm: 1,
    });
    const edge = new AuthEdge({
      store: this.store,
      authorizer: this.authorizer,
      hasher: new PasswordHasher({ log2Cost: TEST_LOG2_COST }),
      propose: localAuthProposer(this.store, this.tokens, () => this.revision),
    });
    registerAuthService(this.grpc, edge, header);
    this.grpc.addService('etcdserverpb.KV', {
      Range: unary(ETCD_METHOD_CODECS.KV.Range, async (request, context) => {
        const who = await this.authorizer.authorize(
          tokenFromMetadata(context.metadata),
          ETCD_AUTH_REQUIREMENTS.KV.Range(request),
        );
        if (!who.ok) throw etcdErrorToGrpc(who.error);
        const kvs = [...this.data.values()].filter((kv) => inRange(kv.key, request.key, request.rangeEnd));
        return { header: header(this.revision), kvs, more: false, count: kvs.length };
      }),
      Put: unary(ETCD_METHOD_CODECS.KV.Put, async (request, context) => {
        const who = await this.authorizer.authorize(
          tokenFromMetadata(context.metadata),
          ETCD_AUTH_REQUIREMENTS.KV.Put(request),
        );
        if (!who.ok) throw etcdErrorToGrpc(who.error);
        this.revision++;
        const key = text(request.key);
        const previous = this.data.get(key);
        this.data.set(key, {
          key: request.key,
          value: request.value,
          createRevision: previous?.createRevision ?? this.revision,
          modRevision: this.revision,
          version: (previous?.version ?? 0) + 1,
          lease: 0n,
        });
        return { header: header(this.revision), prevKv: undefined };
      }),
    });
    this.port = await this.grpc.listen('127.0.0.1', 0);
  }

  close(): Promise<void> {
    return this.grpc.close(0);
  }
}

/** Enough of etcd's range rules for these tests: one key, or [key, rangeEnd). */
function inRange(key: Uint8Array, start: Uint8Array, end: Uint8Array): boolean {
  const compare = (a: Uint8Array, b: Uint8Array) => Buffer.compare(Buffer.from(a), Buffer.from(b));
  if (end.length === 0) return compare(key, start) === 0;
  return compare(key, start) >= 0 && (end.length === 1 && end[0] === 0 ? true : compare(key, end) < 0);
}

describe('etcdctl 3.4 against the Auth service', { skip: !etcdctlAvailable && !requireEtcdctl }, () => {
  const server = new AuthTestServer();
  before(() => server.start());
  after(() => server.close());

  /** Runs etcdctl; resolves with its exit code and output (it exits 1 on an etcd error). */
  async function etcdctl(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    const argv = [
      `--endpoints=127.0.0.1:${server.port}`,
      '--command-timeout=5s',
      '--dial-timeout=3s',
      ...args,
    ];
    try {
      const { stdout, stderr } = await run('etcdctl', argv, { env: { ...process.env, ETCDCTL_API: '3' } });
      return { code: 0, stdout, stderr };
    } catch (error) {
      const failure = error as { code: number; stdout: string; stderr: string };
      return { code: failure.code, stdout: failure.stdout, stderr: failure.stderr };
    }
  }

  async function succeeds(...args: string[]): Promise<string> {
    const result = await etcdctl(...args);
    assert.equal(result.code, 0, `etcdctl ${args.join(' ')} failed: ${result.stderr}`);
    return result.stdout;
  }

  async function failsWith(message: string, ...args: string[]): Promise<void> {
    const result = await etcdctl(...args);
    assert.notEqual(result.code, 0, `etcdctl ${args.join(' ')} succeeded`);
    assert.match(result.stderr, new RegExp(`Error: ${message}`), result.stderr);
  }

  const root = '--user=root:rootpw';
  const alice = '--user=alice:alicepw';

  test('sets up users and roles, enables auth, and a reader may read its prefix only', async () => {
    assert.match(await succeeds('user', 'add', 'root', '--new-user-password=rootpw'), /User root created/);
    // etcdctl adds the root role and grants it when AuthEnable answers "root user does not have root role".
    assert.match(await succeeds('auth', 'enable'), /Authentication Enabled/);
    assert.equal(server.store.enabled, true);
    assert.match(await succeeds(root, 'role', 'add', 'reader'), /Role reader created/);
    assert.match(
      await succeeds(root, 'role', 'grant-permission', 'reader', 'read', 'foo/', '--prefix'),
      /Role reader updated/,
    );
    assert.match(
      await succeeds(root, 'user', 'add', 'alice', '--new-user-password=alicepw'),
      /User alice created/,
    );
    assert.match(
      await succeeds(root, 'user', 'grant-role', 'alice', 'reader'),
      /Role reader is granted to user alice/,
    );
    assert.match(await succeeds(root, 'put', 'foo/a', 'one'), /OK/);
    assert.match(await succeeds(root, 'put', 'bar', 'secret'), /OK/);

    assert.equal(await succeeds(alice, 'get', 'foo/a', '--print-value-only'), 'one\n');
    assert.match(await succeeds(alice, 'get', 'foo/', '--prefix', '--keys-only'), /foo\/a/);
    await failsWith('etcdserver: permission denied', alice, 'put', 'foo/a', 'two');
    await failsWith('etcdserver: permission denied', alice, 'get', 'bar');
    await failsWith('etcdserver: permission denied', alice, 'get', 'foo', '--prefix');
    await failsWith('etcdserver: user name is empty', 'get', 'foo/a');
    await failsWith(
      'etcdserver: authentication failed, invalid user ID or password',
      '--user=alice:wrong',
      'get',
      'foo/a',
    );
    await failsWith(
      'etcdserver: authentication failed, invalid user ID or password',
      '--user=nobody:pw',
      'get',
      'foo/a',
    );
  });

  test('management needs root; a user may read itself and its roles', async () => {
    assert.deepEqual((await succeeds(root, 'user', 'list')).trim().split('\n'), ['alice', 'root']);
    assert.deepEqual((await succeeds(root, 'role', 'list')).trim().split('\n'), ['reader', 'root']);
    assert.match(await succeeds(alice, 'user', 'get', 'alice'), /Roles: reader/);
    assert.match(await succeeds(alice, 'role', 'get', 'reader'), /Read:\s*\[foo\/, foo0\) \(prefix foo\/\)/);
    await failsWith('etcdserver: permission denied', alice, 'user', 'list');
    await failsWith('etcdserver: permission denied', alice, 'role', 'get', 'root');
    await failsWith(
      'etcdserver: permission denied',
      alice,
      'user',
      'add',
      'mallory',
      '--new-user-password=x',
    );
    await failsWith(
      'etcdserver: user name already exists',
      root,
      'user',
      'add',
      'alice',
      '--new-user-password=x',
    );
    await failsWith('etcdserver: role name not found', root, 'user', 'grant-role', 'alice', 'missing');
    await failsWith(
      'etcdserver: role is not granted to the user',
      root,
      'user',
      'revoke-role',
      'alice',
      'root',
    );
    await failsWith('etcdserver: invalid auth management', root, 'user', 'delete', 'root');
  });

  test('revoking the permission takes effect at once; disabling auth opens everything', async () => {
    assert.match(await succeeds(root, 'role', 'revoke-permission', 'reader', 'foo/', '--prefix'), /revoked/);
    await failsWith('etcdserver: permission denied', alice, 'get', 'foo/a');
    await failsWith(
      'etcdserver: permission is not granted to the role',
      root,
      'role',
      'revoke-permission',
      'reader',
      'foo/',
      '--prefix',
    );
    assert.match(await succeeds(root, 'auth', 'disable'), /Authentication Disabled/);
    assert.equal(await succeeds('get', 'bar', '--print-value-only'), 'secret\n');
    assert.equal(server.tokens.size, 0, 'disabling dropped every token');
  });
});

describe('the etcd3 npm client against the Auth service', () => {
  let server: AuthTestServer;
  let admin: Etcd3;
  const hosts = () => `http://127.0.0.1:${server.port}`;
  beforeEach(async () => {
    server = new AuthTestServer();
    await server.start();
    admin = new Etcd3({ hosts: hosts() });
    await admin.user('root').create('rootpw');
    await admin.role('root').create();
    await admin.user('root').addRole('root');
    await admin.role('reader').create();
    await admin.role('reader').grant({ permission: 'Read', range: admin.range({ prefix: 'foo/' }) });
    await admin.user('alice').create('alicepw');
    await admin.user('alice').addRole('reader');
    await admin.put('foo/a').value('one');
    await admin.auth.authEnable();
    admin.close();
  });
  afterEach(() => server.close());

  test('a reader logs in, reads its prefix and is refused a write with etcd’s errors', async () => {
    const alice = new Etcd3({ hosts: hosts(), auth: { username: 'alice', password: 'alicepw' } });
    try {
      assert.equal(await alice.get('foo/a').string(), 'one');
      await assert.rejects(alice.put('foo/a').value('two').exec(), EtcdPermissionDeniedError);
      const perms = await alice.role('reader').permissions();
      assert.equal(perms.length, 1);
      assert.equal(perms[0]!.permission, 'Read');
    } finally {
      alice.close();
    }
    const wrong = new Etcd3({ hosts: hosts(), auth: { username: 'alice', password: 'nope' } });
    try {
      await assert.rejects(wrong.get('foo/a').string(), EtcdAuthenticationFailedError);
    } finally {
      wrong.close();
    }
  });

  test('a password change ends the user’s sessions: the old token is invalid and the old password fails', async () => {
    const alice = new Etcd3({ hosts: hosts(), auth: { username: 'alice', password: 'alicepw' } });
    const root = new Etcd3({ hosts: hosts(), auth: { username: 'root', password: 'rootpw' } });
    try {
      assert.equal(await alice.get('foo/a').string(), 'one');
      await root.user('alice').setPassword('changed');
      // The client sees "invalid auth token", logs in again with the old password and is refused.
      await assert.rejects(alice.get('foo/a').string(), EtcdAuthenticationFailedError);
      const status = await root.auth.authStatus();
      assert.equal(status.enabled, true);
      assert.equal(status.authRevision, String(server.store.authRevision));
    } finally {
      alice.close();
      root.close();
    }
  });
});

describe('gRPC statuses of refusals (stubs from etcd’s protos)', () => {
  const server = new AuthTestServer();
  type Callback = (error: grpc.ServiceError | null, value: Record<string, unknown>) => void;
  type Stub = grpc.Client &
    Record<string, (request: object, metadata: grpc.Metadata, callback: Callback) => void>;
  let kv: Stub;
  let auth: Stub;

  before(async () => {
    await server.start();
    const definition = protoLoader.loadSync('rpc.proto', {
      includeDirs: [ETCD_PROTO_DIR],
      longs: String,
      defaults: true,
    });
    const pb = grpc.loadPackageDefinition(definition).etcdserverpb as grpc.GrpcObject;
    const address = `127.0.0.1:${server.port}`;
    kv = new (pb.KV as grpc.ServiceClientConstructor)(
      address,
      grpc.credentials.createInsecure(),
    ) as unknown as Stub;
    auth = new (pb.Auth as grpc.ServiceClientConstructor)(
      address,
      grpc.credentials.createInsecure(),
    ) as unknown as Stub;
    // root has an empty hash: it exists (so auth can be enabled) but cannot log in.
    assert.ok(server.store.addUser('root', { passwordHash: '', noPassword: false }).ok);
    assert.ok(server.store.grantRole('root', 'root').ok);
    assert.ok(
      server.store.addUser('alice', {
        passwordHash: await new PasswordHasher({ log2Cost: TEST_LOG2_COST }).hash('pw'),
        noPassword: false,
      }).ok,
    );
    assert.ok(server.store.enable().ok);
  });
  after(async () => {
    kv.close();
    auth.close();
    await server.close();
  });

  const call = (stub: Stub, method: string, request: object, token?: string) =>
    new Promise<{ error: grpc.ServiceError | null; value: Record<string, unknown> }>((resolve) => {
      const metadata = new grpc.Metadata();
      if (token !== undefined) metadata.set('token', token);
      stub[method]!(request, metadata, (error, value) => resolve({ error, value }));
    });

  test('no token: INVALID_ARGUMENT; a bad token: UNAUTHENTICATED; not permitted: PERMISSION_DENIED', async () => {
    const range = { key: utf8('k') };
    const missing = await call(kv, 'Range', range);
    assert.equal(missing.error?.code, GrpcStatus.INVALID_ARGUMENT);
    assert.equal(missing.error?.details, 'etcdserver: user name is empty');
    const bad = await call(kv, 'Range', range, 'forged.1');
    assert.equal(bad.error?.code, GrpcStatus.UNAUTHENTICATED);
    assert.equal(bad.error?.details, 'etcdserver: invalid auth token');
    const login = await call(auth, 'Authenticate', { name: 'alice', password: 'pw' });
    assert.equal(login.error, null);
    const token = login.value.token as string;
    assert.match(token, /^[a-zA-Z]{16}\.\d+$/);
    const denied = await call(kv, 'Range', range, token);
    assert.equal(denied.error?.code, GrpcStatus.PERMISSION_DENIED);
    assert.equal(denied.error?.details, 'etcdserver: permission denied');
    const notAdmin = await call(auth, 'UserList', {}, token);
    assert.equal(notAdmin.error?.code, GrpcStatus.PERMISSION_DENIED);
  });

  test('a root user with an empty password hash cannot log in; a disabled store refuses logins', async () => {
    const root = await call(auth, 'Authenticate', { name: 'root', password: '' });
    assert.equal(root.error?.code, GrpcStatus.INVALID_ARGUMENT);
    assert.equal(root.error?.details, 'etcdserver: authentication failed, invalid user ID or password');
    const store = new AuthStore();
    assert.deepEqual(
      await new AuthEdge({
        store,
        authorizer: new EtcdAuthorizer({ store, tokens: new SimpleTokenManager() }),
        hasher: new PasswordHasher({ log2Cost: TEST_LOG2_COST }),
        propose: localAuthProposer(store, new SimpleTokenManager(), () => 1),
      }).authenticate(
        { name: 'x', password: 'y' },
        { token: undefined, signal: new AbortController().signal },
      ),
      {
        ok: false,
        error: { code: 'FailedPrecondition', message: 'etcdserver: authentication is not enabled' },
      },
    );
  });
});
