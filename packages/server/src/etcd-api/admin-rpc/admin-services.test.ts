// The Maintenance and Cluster handlers: Snapshot's chunking and flow control (driven through a
// call whose sends the test releases one by one), Status's derived errors, etcd's statuses for
// backend errors, peer-URL checks as etcd's, and the etcd3 npm client calling Hash and MemberAdd.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Etcd3 } from 'etcd3';
import type { CallContext, MethodDefinition, ServerStreamCall } from '../../grpc/methods.js';
import { GrpcServer } from '../../grpc/server.js';
import { GrpcStatus } from '../../grpc/status.js';
import { FakeAdminBackend, headerAt, SELF_ID } from './admin-backend.fixture.js';
import type { SnapshotResponse } from './admin-messages.js';
import { registerClusterService, validPeerUrls } from './cluster-service.js';
import { registerMaintenanceService, statusResponse } from './maintenance-service.js';
import { SNAPSHOT_CHUNK_BYTES } from './snapshot-file.js';

/** Captures what a service registers, to call its handlers without a network. */
function handlersOf(register: (grpc: GrpcServer) => void): Record<string, MethodDefinition> {
  const methods: Record<string, MethodDefinition> = {};
  const capture = {
    addService: (_name: string, defined: Record<string, MethodDefinition>) => Object.assign(methods, defined),
  };
  register(capture as unknown as GrpcServer);
  return methods;
}

function unaryHandler(definition: MethodDefinition | undefined) {
  assert.equal(definition?.kind, 'unary');
  return definition.handler as (request: unknown, context: CallContext) => Promise<unknown>;
}

const context = {} as CallContext;

describe('Maintenance.Snapshot', () => {
  test('sends 32 KiB chunks one at a time, counting down remaining_bytes, then the SHA-256', async () => {
    const backend = new FakeAdminBackend();
    backend.state = Uint8Array.from({ length: 3 * SNAPSHOT_CHUNK_BYTES + 100 }, (_, i) => i % 256);
    const snapshot = handlersOf((grpc) => registerMaintenanceService(grpc, backend, headerAt)).Snapshot;
    assert.equal(snapshot?.kind, 'serverStreaming');
    const sent: SnapshotResponse[] = [];
    let release: (() => void) | undefined;
    const call = {
      signal: new AbortController().signal,
      send: (message: SnapshotResponse) => {
        assert.equal(release, undefined, 'a send while the previous one is still pending');
        sent.push(message);
        return new Promise<void>((resolve) => {
          release = () => {
            release = undefined;
            resolve();
          };
        });
      },
    } as unknown as ServerStreamCall<unknown>;
    let finished = false;
    const done = snapshot.handler({}, call).then(() => {
      finished = true;
    });
    // Release one send at a time, after letting the handler run: it must wait for each.
    for (let rounds = 0; !finished; rounds++) {
      assert.ok(rounds < 1_000, 'the handler stopped sending');
      await new Promise((resolve) => setImmediate(resolve));
      release?.();
    }
    await done;
    const padded = Math.ceil(backend.state.length / 512) * 512;
    assert.deepEqual(
      sent.map((message) => [message.blob.length, message.remainingBytes]),
      [
        [SNAPSHOT_CHUNK_BYTES, padded - SNAPSHOT_CHUNK_BYTES],
        [SNAPSHOT_CHUNK_BYTES, padded - 2 * SNAPSHOT_CHUNK_BYTES],
        [SNAPSHOT_CHUNK_BYTES, padded - 3 * SNAPSHOT_CHUNK_BYTES],
        [padded - 3 * SNAPSHOT_CHUNK_BYTES, 0],
        [32, 0],
      ],
    );
    assert.deepEqual(sent[0]?.header, headerAt(backend.revision));
    assert.ok(sent.slice(1).every((message) => message.header === undefined));
    const body = Buffer.concat(sent.slice(0, 4).map((message) => message.blob));
    assert.deepEqual(new Uint8Array(createHash('sha256').update(body).digest()), sent[4]?.blob);
  });
});

describe('Maintenance: Status, HashKV, Alarm', () => {
  test('Status lists “no leader” when there is none, then each alarm as etcd prints it', () => {
    const base = {
      version: '3.4.0',
      dbSize: 1,
      raftIndex: 2,
      raftTerm: 3,
      raftAppliedIndex: 2,
      dbSizeInUse: 1,
      isLearner: true,
    };
    const status = statusResponse(
      { ...base, leader: 0n, alarms: [{ memberId: 5n, alarm: 'CORRUPT' }] },
      headerAt(9),
    );
    assert.deepEqual(status.errors, ['etcdserver: no leader', 'memberID:5 alarm:CORRUPT ']);
    assert.equal(status.isLearner, true);
    assert.deepEqual(statusResponse({ ...base, leader: SELF_ID, alarms: [] }, headerAt(9)).errors, []);
  });

  test('a backend error becomes etcd’s status and message', async () => {
    const backend = new FakeAdminBackend();
    const hashKv = unaryHandler(
      handlersOf((grpc) => registerMaintenanceService(grpc, backend, headerAt)).HashKV,
    );
    await assert.rejects(hashKv({ revision: 1_000 }, context), {
      code: GrpcStatus.OUT_OF_RANGE,
      message: 'etcdserver: mvcc: required revision is a future revision',
    });
  });

  test('Alarm ACTIVATE answers the raised alarm with the current revision in the header', async () => {
    const backend = new FakeAdminBackend();
    const alarm = unaryHandler(
      handlersOf((grpc) => registerMaintenanceService(grpc, backend, headerAt)).Alarm,
    );
    const raised = await alarm({ action: 'ACTIVATE', memberId: SELF_ID, alarm: 'NOSPACE' }, context);
    assert.deepEqual(raised, { header: headerAt(57), alarms: [{ memberId: SELF_ID, alarm: 'NOSPACE' }] });
  });
});

describe('Cluster: peer URLs are checked as etcd checks them', () => {
  test('valid and invalid URLs (types.NewURLs)', () => {
    for (const valid of [
      ['http://127.0.0.1:2380'],
      ['https://node-2.example:2380', ' http://[::1]:2380 '],
      ['unix://socket:1'],
      ['http://user@host:1'],
      ['http://host:'],
    ]) {
      assert.equal(validPeerUrls(valid), true, JSON.stringify(valid));
    }
    for (const invalid of [
      [],
      ['127.0.0.1:2380'],
      ['ftp://h:1'],
      ['http://no-port'],
      ['http://h:1/path'],
      ['http://h:1/'],
      ['http://[::1]'],
      ['http://a:b:c'],
      ['http://h:1', 'nonsense'],
    ]) {
      assert.equal(validPeerUrls(invalid), false, JSON.stringify(invalid));
    }
  });

  test('MemberAdd and MemberUpdate refuse invalid URLs before asking the backend', async () => {
    const backend = new FakeAdminBackend();
    const handlers = handlersOf((grpc) => registerClusterService(grpc, backend, headerAt));
    const error = { code: GrpcStatus.INVALID_ARGUMENT, message: 'etcdserver: given member URLs are invalid' };
    await assert.rejects(
      unaryHandler(handlers.MemberAdd)({ peerURLs: ['http://x'], isLearner: false }, context),
      error,
    );
    await assert.rejects(unaryHandler(handlers.MemberUpdate)({ id: SELF_ID, peerURLs: [] }, context), error);
    assert.deepEqual(backend.calls, []);
  });
});

describe('the etcd3 npm client (etcd’s own protos)', () => {
  const server = new GrpcServer({ logger: { warn: () => {}, error: () => {} } });
  const backend = new FakeAdminBackend();
  let client: Etcd3;

  before(async () => {
    registerMaintenanceService(server, backend, headerAt);
    registerClusterService(server, backend, headerAt);
    const port = await server.listen('127.0.0.1', 0);
    client = new Etcd3({ hosts: `http://127.0.0.1:${port}` });
  });
  after(async () => {
    client.close();
    await server.close(0);
  });

  test('Hash and MemberAdd, including the header etcd puts on them', async () => {
    const hash = await client.maintenance.hash();
    assert.equal(Number(hash.hash), 0xdead_beef);
    assert.equal(hash.header.revision, '57');
    const added = await client.cluster.memberAdd({ peerURLs: ['http://10.0.0.9:2380'], isLearner: true });
    assert.equal(added.member.isLearner, true);
    assert.deepEqual(added.member.peerURLs, ['http://10.0.0.9:2380']);
    assert.equal(added.members.length, 2);
    assert.equal(added.header.revision, '0', 'Cluster headers carry no revision, as etcd’s');
    await assert.rejects(
      client.cluster.memberAdd({ peerURLs: ['http://10.0.0.9'] }),
      /given member URLs are invalid/,
    );
  });
});
