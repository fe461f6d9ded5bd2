// The Lease service on a real GrpcServer with an in-memory backend (LeaseStore + LeaseExpiryTracker,
// no Raft), driven by real clients: the etcd3 npm client, @grpc/grpc-js stubs from our lease.proto,
// and etcdctl 3.4 when it is on PATH (SYNOD_REQUIRE_ETCDCTL=1 makes its absence a failure).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { after, before, beforeEach, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { ETCD_ERRORS, type EtcdError, LEASE_ERRORS, type ResponseHeader } from '@synod/state';
import { Etcd3, EtcdLeaseInvalidError } from 'etcd3';
import { unary } from '../../grpc/methods.js';
import { GrpcServer } from '../../grpc/server.js';
import { ETCD_METHOD_CODECS } from '../proto/messages.js';
import { InMemoryLeaseBackend } from './lease-backend.fixture.js';
import {
  LEASE_KEEPALIVE_IN_FLIGHT_MAX,
  type LeaseServiceStats,
  registerLeaseService,
} from './lease-service.js';

const LEASE_DIR = dirname(fileURLToPath(import.meta.url));
const run = promisify(execFile);
const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);
const CLUSTER_ID = 0x1234_5678_9abcn;
const MEMBER_ID = 0xfedc_ba98_7654_3210n;
const RAFT_TERM = 3;
const MIN_TTL_SECONDS = 2;

const etcdctlAvailable = await run('etcdctl', ['version']).then(
  () => true,
  () => false,
);
const etcdctlRequired = process.env.SYNOD_REQUIRE_ETCDCTL === '1';

type Callback = (error: grpc.ServiceError | null, value: Record<string, unknown>) => void;
type UnaryStub = (request: object, callback: Callback) => void;

/** A @grpc/grpc-js client for etcdserverpb.Lease built from our lease.proto. */
function leaseStub(port: number): grpc.Client & Record<string, unknown> {
  const definition = protoLoader.loadSync('lease.proto', {
    includeDirs: [LEASE_DIR, join(LEASE_DIR, '..', 'proto')],
    keepCase: true,
    longs: String,
    defaults: true,
  });
  const etcdserverpb = grpc.loadPackageDefinition(definition).etcdserverpb as grpc.GrpcObject;
  const Client = etcdserverpb.Lease as grpc.ServiceClientConstructor;
  return new Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as grpc.Client &
    Record<string, unknown>;
}

function callUnary(client: grpc.Client & Record<string, unknown>, name: string, request: object) {
  const stub = client[name] as UnaryStub;
  return new Promise<Record<string, unknown>>((resolve, reject) =>
    stub.call(client, request, (error, value) => (error ? reject(error) : resolve(value))),
  );
}

async function until(condition: () => boolean, what: string): Promise<void> {
  for (let waitedMs = 0; !condition(); waitedMs += 5) {
    if (waitedMs > 5_000) assert.fail(`timed out waiting until ${what}`);
    await sleep(5);
  }
}

describe('etcdserverpb.Lease on GrpcServer with an in-memory backend', () => {
  /** Every method path a client called, in order. */
  const paths: string[] = [];
  // The call observer tells which methods clients call.
  const server = new GrpcServer({
    logger: { warn: () => {}, error: () => {} },
    observer: {
      callStarted: (method) => {
        paths.push(method);
        return { run: (_stream, start) => start(), callEnded: () => {} };
      },
    },
  });
  let backend = new InMemoryLeaseBackend({ minTtlSeconds: MIN_TTL_SECONDS });
  let stats: LeaseServiceStats;
  let port = 0;
  const header = (revision: number): ResponseHeader => ({
    clusterId: CLUSTER_ID,
    memberId: MEMBER_ID,
    revision,
    raftTerm: RAFT_TERM,
  });

  before(async () => {
    // The backend is replaced per test; the service calls whichever is current.
    const current = {
      grant: (ttl: number, id: bigint) => backend.grant(ttl, id),
      revoke: (id: bigint) => backend.revoke(id),
      keepAlive: (id: bigint) => backend.keepAlive(id),
      timeToLive: (id: bigint, withKeys: boolean) => backend.timeToLive(id, withKeys),
      leases: () => backend.leases(),
    };
    stats = registerLeaseService(server, current, header).stats;
    // KV.Put, as far as leases go: a put with a lease attaches its key (etcd3's lease.put()).
    server.addService('etcdserverpb.KV', {
      Put: unary(ETCD_METHOD_CODECS.KV.Put, async (request) => {
        const attached = backend.attach(request.lease, request.key);
        if (!attached.ok) throw new Error(attached.error.message);
        return { header: header(attached.revision), prevKv: undefined };
      }),
    });
    port = await server.listen('127.0.0.1', 0);
  });

  beforeEach(() => {
    backend = new InMemoryLeaseBackend({ minTtlSeconds: MIN_TTL_SECONDS });
  });

  after(() => server.close());

  test('etcd3: grant, put with the lease, keepaliveOnce, timeToLive with keys, leases, revoke', async () => {
    const client = new Etcd3({ hosts: `http://127.0.0.1:${port}` });
    paths.length = 0;
    try {
      const lease = client.lease(10, { autoKeepAlive: false });
      const id = await lease.grant();
      assert.equal(backend.store.get(BigInt(id))?.grantedTtl, 10);

      await lease.put('svc/a').value('x');
      await lease.put('svc/b').value('y');
      assert.deepEqual(backend.store.get(BigInt(id))?.keys, [utf8('svc/a'), utf8('svc/b')]);

      const renewed = await lease.keepaliveOnce();
      assert.equal(renewed.ID, id);
      assert.equal(renewed.TTL, '10');
      assert.equal(renewed.header.member_id, MEMBER_ID.toString());

      const left = await client.leaseClient.leaseTimeToLive({ ID: id, keys: true });
      assert.equal(left.grantedTTL, '10');
      assert.ok(['9', '10'].includes(left.TTL), `TTL ${left.TTL}`);
      assert.deepEqual(left.keys.map(String), ['svc/a', 'svc/b']);
      assert.equal(left.header.revision, String(backend.revision));
      const withoutKeys = await client.leaseClient.leaseTimeToLive({ ID: id, keys: false });
      assert.deepEqual(withoutKeys.keys, []);

      const listed = await client.leaseClient.leaseLeases();
      assert.deepEqual(
        listed.leases.map((lease) => lease.ID),
        [id],
      );

      await lease.revoke();
      assert.equal(backend.store.has(BigInt(id)), false);
      const gone = await client.leaseClient.leaseTimeToLive({ ID: id, keys: true });
      assert.equal(gone.TTL, '-1');
    } finally {
      client.close();
    }
    const calledMethods = new Set(paths);
    assert.deepEqual([...calledMethods].sort(), [
      '/etcdserverpb.KV/Put',
      '/etcdserverpb.Lease/LeaseGrant',
      '/etcdserverpb.Lease/LeaseKeepAlive',
      '/etcdserverpb.Lease/LeaseLeases',
      '/etcdserverpb.Lease/LeaseRevoke',
      '/etcdserverpb.Lease/LeaseTimeToLive',
    ]);
  });

  test('etcd3: errors carry etcd’s messages, which the client maps to its own error classes', async () => {
    const client = new Etcd3({ hosts: `http://127.0.0.1:${port}` });
    try {
      await assert.rejects(client.leaseClient.leaseRevoke({ ID: '12345' }), EtcdLeaseInvalidError);
      await assert.rejects(
        client.leaseClient.leaseGrant({ TTL: '9000000001' }),
        /etcdserver: too large lease TTL/,
      );
      const granted = await client.leaseClient.leaseGrant({ TTL: '1', ID: '77' });
      assert.equal(granted.ID, '77');
      assert.equal(granted.TTL, String(MIN_TTL_SECONDS), 'a TTL below the minimum is raised');
      await assert.rejects(
        client.leaseClient.leaseGrant({ TTL: '10', ID: '77' }),
        /etcdserver: lease already exists/,
      );
      // keepaliveOnce on a revoked lease: TTL 0, which etcd3 turns into EtcdLeaseInvalidError.
      const lease = client.lease(10, { autoKeepAlive: false });
      await lease.grant();
      await client.leaseClient.leaseRevoke({ ID: await lease.grant() });
      await assert.rejects(lease.keepaliveOnce(), EtcdLeaseInvalidError);
    } finally {
      client.close();
    }
  });

  test('etcd3: the automatic keep-alive loop renews the lease on one stream until revoked', async () => {
    const client = new Etcd3({ hosts: `http://127.0.0.1:${port}` });
    try {
      const lease = client.lease(MIN_TTL_SECONDS); // keep-alives every TTL/3 ≈ 667 ms
      let succeeded = 0;
      lease.on('keepaliveSucceeded', () => succeeded++);
      const id = BigInt(await lease.grant());
      await until(() => succeeded >= 2, 'two keep-alives succeed');
      assert.ok(backend.calls.filter((call) => call === `keepAlive ${id}`).length >= 2);
      assert.equal(stats.keepAliveStreams, 1);
      await lease.revoke();
      await until(() => stats.keepAliveStreams === 0, 'the keep-alive stream closes');
    } finally {
      client.close();
    }
  });

  test('many keep-alives on one stream are answered in order, unknown leases with TTL 0, at most N at once', async () => {
    const ids = [11n, 12n, 13n];
    for (const id of ids) await backend.grant(30, id);
    let running = 0;
    let mostRunning = 0;
    backend.hooks.beforeKeepAlive = async (id) => {
      running++;
      mostRunning = Math.max(mostRunning, running);
      await sleep(Number(id % 3n)); // answers finish out of order
      running--;
    };
    const client = leaseStub(port);
    const stream = (
      client.LeaseKeepAlive as () => grpc.ClientDuplexStream<object, Record<string, string>>
    ).call(client);
    const answers: Record<string, string>[] = [];
    stream.on('data', (answer: Record<string, string>) => answers.push(answer));
    const requested: bigint[] = [];
    for (let i = 0; i < 60; i++) {
      const id = i % 4 === 3 ? 999n : ids[i % 4]!; // every fourth lease is unknown
      requested.push(id);
      stream.write({ ID: id.toString() });
    }
    stream.end();
    await new Promise((resolve) => stream.on('end', resolve));
    client.close();
    assert.deepEqual(
      answers.map((answer) => answer.ID),
      requested.map(String),
    );
    assert.deepEqual(
      answers.map((answer) => answer.TTL),
      requested.map((id) => (id === 999n ? '0' : '30')),
    );
    assert.ok(mostRunning > 1, 'keep-alives were answered concurrently');
    assert.ok(mostRunning <= LEASE_KEEPALIVE_IN_FLIGHT_MAX, `${mostRunning} keep-alives ran at once`);
    await until(
      () => stats.keepAliveStreams === 0 && stats.keepAlivesInFlight === 0,
      'the stream is cleaned up',
    );
  });

  test('cancelling a keep-alive stream with renewals pending cleans it up', async () => {
    await backend.grant(30, 5n);
    const blocked: (() => void)[] = [];
    backend.hooks.beforeKeepAlive = () => new Promise<void>((resolve) => blocked.push(resolve));
    const client = leaseStub(port);
    const stream = (client.LeaseKeepAlive as () => grpc.ClientDuplexStream<object, object>).call(client);
    stream.on('error', () => {}); // CANCELLED, as asked
    for (let i = 0; i < 3; i++) stream.write({ ID: '5' });
    await until(() => stats.keepAlivesInFlight === 3, 'three renewals are pending');
    stream.cancel();
    await until(
      () => stats.keepAliveStreams === 0 && stats.keepAlivesInFlight === 0,
      'the stream is cleaned up',
    );
    for (const release of blocked) release();
    client.close();
  });

  test('a keep-alive error other than “not found” ends the stream with etcd’s status and message', async () => {
    const failing: EtcdError = ETCD_ERRORS.noLeader;
    backend.keepAlive = async () => ({ ok: false, error: failing });
    const client = leaseStub(port);
    const stream = (client.LeaseKeepAlive as () => grpc.ClientDuplexStream<object, object>).call(client);
    const ended = new Promise<grpc.ServiceError>((resolve) => stream.on('error', resolve));
    stream.on('data', () => assert.fail('no answer expected'));
    stream.write({ ID: '1' });
    const error = await ended;
    assert.equal(error.code, grpc.status.UNAVAILABLE);
    assert.equal(error.details, 'etcdserver: no leader');
    client.close();
  });

  test('TimeToLive and KeepAlive answer the leaseNotFound error as etcd does: TTL -1 and TTL 0', async () => {
    backend.timeToLive = async () => ({ ok: false, error: LEASE_ERRORS.leaseNotFound });
    const client = leaseStub(port);
    const answer = await callUnary(client, 'LeaseTimeToLive', { ID: '42', keys: true });
    assert.equal(answer.TTL, '-1');
    assert.equal(answer.ID, '42');
    assert.deepEqual(answer.keys, []);
    backend.keepAlive = async () => ({ ok: false, error: LEASE_ERRORS.leaseNotFound });
    const stream = (
      client.LeaseKeepAlive as () => grpc.ClientDuplexStream<object, Record<string, string>>
    ).call(client);
    const first = new Promise<Record<string, string>>((resolve) => stream.once('data', resolve));
    stream.write({ ID: '42' });
    assert.deepEqual({ ...(await first), header: undefined }, { header: undefined, ID: '42', TTL: '0' });
    stream.end();
    client.close();
  });

  test('etcdctl 3.4: lease grant, keep-alive --once, timetolive --keys, list, revoke', {
    skip: !etcdctlAvailable && !etcdctlRequired ? 'etcdctl is not on PATH' : false,
  }, async () => {
    assert.ok(etcdctlAvailable, 'SYNOD_REQUIRE_ETCDCTL=1 but etcdctl is not on PATH');
    paths.length = 0;
    // etcdctl 3.4 puts a URL scheme into the HTTP/2 authority, so the endpoint goes without one.
    const etcdctl = async (...args: string[]): Promise<string> => {
      const { stdout } = await run(
        'etcdctl',
        [`--endpoints=127.0.0.1:${port}`, '--command-timeout=5s', ...args],
        {
          env: { ...process.env, ETCDCTL_API: '3' },
        },
      );
      return stdout;
    };
    // JSON numbers: the 64-bit id is read from the text, since JSON.parse would round it.
    const granted = await etcdctl('-w', 'json', 'lease', 'grant', '30');
    assert.match(granted, /"TTL":30/);
    const id = BigInt(/"ID":(\d+)/.exec(granted)![1]!);
    const hexId = id.toString(16);
    assert.equal(
      await etcdctl('lease', 'grant', '30'),
      `lease ${(id + 1n).toString(16)} granted with TTL(30s)\n`,
    );
    backend.attach(id, utf8('held/key'));

    assert.equal(
      await etcdctl('lease', 'keep-alive', '--once', hexId),
      `lease ${hexId} keepalived with TTL(30)\n`,
    );
    assert.match(
      await etcdctl('lease', 'timetolive', '--keys', hexId),
      new RegExp(
        `^lease ${hexId} granted with TTL\\(30s\\), remaining\\((29|30)s\\), attached keys\\(\\[held/key\\]\\)\n$`,
      ),
    );
    assert.equal(await etcdctl('lease', 'list'), `found 2 leases\n${hexId}\n${(id + 1n).toString(16)}\n`);
    assert.equal(await etcdctl('lease', 'revoke', hexId), `lease ${hexId} revoked\n`);
    assert.equal(await etcdctl('lease', 'timetolive', hexId), `lease ${hexId} already expired\n`);
    await assert.rejects(etcdctl('lease', 'revoke', hexId), /requested lease not found/);
    // keep-alive --once on a revoked lease: we answer TTL 0, which the Go client reports as not found.
    await assert.rejects(
      etcdctl('lease', 'keep-alive', '--once', hexId),
      /etcdserver: requested lease not found/,
    );
    // etcdctl calls nothing but the Lease service for these commands.
    assert.deepEqual([...new Set(paths)].sort(), [
      '/etcdserverpb.Lease/LeaseGrant',
      '/etcdserverpb.Lease/LeaseKeepAlive',
      '/etcdserverpb.Lease/LeaseLeases',
      '/etcdserverpb.Lease/LeaseRevoke',
      '/etcdserverpb.Lease/LeaseTimeToLive',
    ]);
  });
});
