// etcdctl 3.4 (Go, compiled from etcd's own protos) against GrpcServer with the Maintenance and
// Cluster handlers over a fake backend: what etcdctl sent (the backend's call log) and what it
// printed. Skipped when etcdctl is not on PATH, unless SYNOD_REQUIRE_ETCDCTL=1.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { GrpcServer } from '../../grpc/server.js';
import { CLUSTER_ID, FakeAdminBackend, headerAt, SELF_ID } from './admin-backend.fixture.js';
import { registerClusterService } from './cluster-service.js';
import { registerMaintenanceService } from './maintenance-service.js';
import { readSnapshotFile } from './snapshot-file.js';

const run = promisify(execFile);
const etcdctlAvailable = await run('etcdctl', ['version']).then(
  () => true,
  () => false,
);
const skip = !etcdctlAvailable && process.env.SYNOD_REQUIRE_ETCDCTL !== '1';

describe('etcdctl 3.4 against the Maintenance and Cluster handlers', { skip, timeout: 30_000 }, () => {
  const server = new GrpcServer({ logger: { warn: () => {}, error: () => {} } });
  let backend = new FakeAdminBackend();
  let port = 0;
  let directory = '';

  before(async () => {
    // The handlers reach the current backend through this indirection, so each test starts afresh.
    const current = new Proxy({} as FakeAdminBackend, {
      get: (_target, property) => {
        const value = Reflect.get(backend, property);
        return typeof value === 'function' ? value.bind(backend) : value;
      },
    });
    registerMaintenanceService(server, current, headerAt);
    registerClusterService(server, current, headerAt);
    port = await server.listen('127.0.0.1', 0);
    directory = await mkdtemp(join(tmpdir(), 'synod-etcdctl-admin-'));
  });
  after(async () => {
    await server.close(0);
    await rm(directory, { recursive: true, force: true });
  });
  beforeEach(() => {
    backend = new FakeAdminBackend();
  });

  /** Runs etcdctl; resolves with stdout, or rejects with its exit code and stderr. */
  async function etcdctl(...args: string[]): Promise<string> {
    const { stdout } = await run(
      'etcdctl',
      [`--endpoints=127.0.0.1:${port}`, '--command-timeout=5s', ...args],
      {
        env: { ...process.env, ETCDCTL_API: '3' },
      },
    );
    return stdout;
  }

  test('member add --learner, member list, member promote, member update, member remove', async () => {
    const added = await etcdctl('member', 'add', 'n4', '--peer-urls=http://127.0.0.1:1', '--learner');
    // etcdctl 3.4.23 builds ETCD_INITIAL_CLUSTER from MemberAdd's member list (3.4.0 listed again).
    assert.deepEqual(backend.calls, ['addMember http://127.0.0.1:1 learner']);
    const newId = backend.members[1]!.id.toString(16);
    assert.match(added, new RegExp(`Member\\s+${newId} added to cluster ${CLUSTER_ID.toString(16)}`));
    assert.match(added, /ETCD_INITIAL_CLUSTER="n1=http:\/\/127.0.0.1:2380,n4=http:\/\/127.0.0.1:1"/);

    const listed = await etcdctl('member', 'list', '-w', 'json');
    // Member ids exceed 2^53: read them from the text, not through JSON.parse.
    assert.match(
      listed,
      new RegExp(`"ID":${BigInt(`0x${newId}`)},"peerURLs":\\["http://127.0.0.1:1"\\],"isLearner":true`),
    );
    assert.match(listed, new RegExp(`"member_id":${SELF_ID},`));

    assert.match(await etcdctl('member', 'promote', newId), new RegExp(`Member\\s+${newId} promoted`));
    await etcdctl('member', 'update', newId, '--peer-urls=http://127.0.0.1:2');
    assert.match(await etcdctl('member', 'remove', newId), new RegExp(`Member\\s+${newId} removed`));
    assert.deepEqual(backend.calls.slice(1), [
      'listMembers',
      `promoteMember ${newId}`,
      `updateMember ${newId} http://127.0.0.1:2`,
      `removeMember ${newId}`,
    ]);
    assert.deepEqual(
      backend.members.map((member) => member.name),
      ['n1'],
    );
  });

  test('etcd’s errors reach etcdctl: an unknown member', async () => {
    await assert.rejects(etcdctl('member', 'remove', '77'), (error: { code: number; stderr: string }) => {
      assert.equal(error.code, 1);
      assert.match(error.stderr, /Error: etcdserver: member not found/);
      return true;
    });
    assert.deepEqual(backend.calls, ['removeMember 77']);
  });

  test('alarm list, alarm disarm (a GET, then one DEACTIVATE per alarm), endpoint status', async () => {
    backend.alarms.push({ memberId: SELF_ID, alarm: 'NOSPACE' });
    assert.equal(await etcdctl('alarm', 'list'), `memberID:${SELF_ID} alarm:NOSPACE \n`);
    const status = await etcdctl('endpoint', 'status', '-w', 'json');
    assert.match(status, new RegExp(`"errors":\\["memberID:${SELF_ID} alarm:NOSPACE "\\]`));
    assert.equal(await etcdctl('alarm', 'disarm'), `memberID:${SELF_ID} alarm:NOSPACE \n`);
    assert.equal(await etcdctl('alarm', 'list'), '');
    assert.deepEqual(backend.calls, [
      'alarm GET 0 NONE',
      'status',
      'alarm GET 0 NONE',
      `alarm DEACTIVATE ${SELF_ID.toString(16)} NOSPACE`,
      'alarm GET 0 NONE',
    ]);
  });

  test('endpoint hashkv (current and at a revision), defrag, move-leader', async () => {
    assert.equal(await etcdctl('endpoint', 'hashkv'), `127.0.0.1:${port}, ${0x1234_5678}\n`);
    const atFive = JSON.parse(await etcdctl('endpoint', 'hashkv', '--rev=5', '-w', 'json')) as {
      HashKV: { hash: number; compact_revision: number; header: { revision: number } };
    }[];
    assert.deepEqual(
      [atFive[0]!.HashKV.hash, atFive[0]!.HashKV.compact_revision, atFive[0]!.HashKV.header.revision],
      [0x1234_5678 + 5, -1, 57],
    );
    assert.equal(await etcdctl('defrag'), `Finished defragmenting etcd member[127.0.0.1:${port}]\n`);
    const self = SELF_ID.toString(16);
    assert.equal(await etcdctl('move-leader', self), `Leadership transferred from ${self} to ${self}\n`);
    await assert.rejects(etcdctl('move-leader', '99'), { stderr: /etcdserver: bad leader transferee/ });
    assert.deepEqual(backend.calls, [
      'hashKv 0',
      'hashKv 5',
      'defragment',
      'status',
      `moveLeader ${self}`,
      'status',
      'moveLeader 99',
    ]);
  });

  test('snapshot save: a multi-chunk state arrives whole, padded to 512 bytes, with its SHA-256', async () => {
    backend.state = Uint8Array.from({ length: 100_000 }, (_, i) => (i * 7919) % 251);
    const file = join(directory, 'backup.db');
    assert.match(await etcdctl('snapshot', 'save', file), /Snapshot saved at/);
    const saved = await readFile(file);
    assert.equal(saved.length, Math.ceil(100_000 / 512) * 512 + 32);
    const read = readSnapshotFile(saved);
    assert.ok(read.ok);
    assert.deepEqual(new Uint8Array(read.body.subarray(0, 100_000)), backend.state);
    assert.ok(read.body.subarray(100_000).every((byte) => byte === 0));
  });
});
