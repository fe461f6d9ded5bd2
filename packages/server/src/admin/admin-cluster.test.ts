// Three real members in this process (real WAL, transport and gRPC on 127.0.0.1), each with its
// admin server: every member's /metrics is well-formed and complete and moves under a put load;
// readiness follows the leader; an isolated member turns unready and recovers when healed;
// the NodeView stream, the key browser and the watch tail show what the cluster holds.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadServerConfig } from '../config/server-config.js';
import { RawEtcdClient } from '../e2e/grpc-client.js';
import { freePort } from '../e2e/process-cluster.js';
import { createLogger } from '../node/logger.js';
import { SynodServer } from '../node/synod-server.js';
import { type PromFamily, parsePrometheusText } from '../observability/prom-text-parser.js';
import { REQUIRED_FAMILIES } from '../observability/required-families.fixture.js';
import type { NodeView } from './admin-backend.js';
import { openEventStream } from './sse-client.fixture.js';

const MEMBERS = ['n1', 'n2', 'n3'] as const;
const PUTS = 50;
/** Short Raft timing keeps elections (and the isolation test) quick. */
const HEARTBEAT_MS = 20;
const ELECTION_MS = 200;
const WAIT_MS_MAX = 20_000;

interface Member {
  readonly name: string;
  readonly server: SynodServer;
  readonly admin: string;
  readonly client: string;
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + WAIT_MS_MAX;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

async function scrape(member: Member): Promise<ReadonlyMap<string, PromFamily>> {
  const text = await (await fetch(`${member.admin}/metrics`)).text();
  const parsed = parsePrometheusText(text);
  if (!parsed.ok) assert.fail(`${member.name} /metrics line ${parsed.error.line}: ${parsed.error.message}`);
  return parsed.families;
}

function sampleValue(
  families: ReadonlyMap<string, PromFamily>,
  name: string,
  labels: Record<string, string> = {},
) {
  for (const family of families.values()) {
    for (const sample of family.samples) {
      if (sample.name === name && Object.entries(labels).every(([k, v]) => sample.labels[k] === v))
        return sample.value;
    }
  }
  return undefined;
}

async function nodeView(member: Member): Promise<NodeView> {
  return (await (await fetch(`${member.admin}/api/node`)).json()) as NodeView;
}

const readyStatus = async (member: Member) => (await fetch(`${member.admin}/health/ready`)).status;

function putRequest(key: string, value: string) {
  return {
    key: Buffer.from(key),
    value: Buffer.from(value),
    lease: 0n,
    prevKv: false,
    ignoreValue: false,
    ignoreLease: false,
  };
}

describe('admin servers of a three-member cluster', { timeout: 60_000 }, () => {
  let root: string;
  const members: Member[] = [];

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'synod-admin-cluster-'));
    const ports = await Promise.all(
      MEMBERS.map(async () => ({ client: await freePort(), peer: await freePort() })),
    );
    const initialCluster = MEMBERS.map((name, i) => `${name}=http://127.0.0.1:${ports[i]!.peer}`).join(',');
    const started = await Promise.all(
      MEMBERS.map((name, i) => {
        const config = loadServerConfig(
          [
            ...['--name', name, '--data-dir', join(root, name), '--initial-cluster', initialCluster],
            ...['--listen-client-urls', `http://127.0.0.1:${ports[i]!.client}`],
            ...['--listen-peer-urls', `http://127.0.0.1:${ports[i]!.peer}`],
            ...['--listen-admin-urls', 'http://127.0.0.1:0'],
            ...['--heartbeat-interval', String(HEARTBEAT_MS), '--election-timeout', String(ELECTION_MS)],
          ],
          // Fault controls on, as under `synod dev` (nothing is forwarded to this address here).
          { SYNOD_DEV_CONTROL_URL: 'http://127.0.0.1:9' },
        );
        return SynodServer.start(
          config,
          createLogger('error', { node: name }, () => {}),
        );
      }),
    );
    for (const [i, server] of started.entries()) {
      members.push({
        name: MEMBERS[i]!,
        server,
        admin: server.observability.adminUrl,
        client: `http://127.0.0.1:${ports[i]!.client}`,
      });
    }
    for (const member of members)
      await waitFor(`${member.name} ready`, async () =>
        (await readyStatus(member)) === 200 ? true : undefined,
      );
  });

  after(async () => {
    await Promise.all(members.map((member) => member.server.stop()));
    await rm(root, { recursive: true, force: true });
  });

  it('every member serves a well-formed exposition with every required family', async () => {
    for (const member of members) {
      const families = await scrape(member);
      for (const [name, type] of Object.entries(REQUIRED_FAMILIES)) {
        assert.equal(families.get(name)?.type, type, `${member.name}: ${name} should be a ${type}`);
      }
      assert.equal(sampleValue(families, 'synod_raft_has_leader', { group: '0' }), 1);
      const roles = families.get('synod_raft_role')!.samples.filter((sample) => sample.value === 1);
      assert.equal(roles.length, 1, `${member.name} has exactly one role`);
    }
  });

  it('commit index, gRPC request counts and WAL fsyncs move under a put load', async () => {
    const [target] = members as [Member];
    const before = await Promise.all(members.map(scrape));
    const client = new RawEtcdClient(target.client);
    try {
      for (let i = 0; i < PUTS; i++) await client.put(putRequest(`key/${i}`, `value ${i}`), 5_000);
    } finally {
      client.close();
    }
    const method = 'etcdserverpb.KV/Put';
    for (const [i, member] of members.entries()) {
      const commitBefore = sampleValue(before[i]!, 'synod_raft_commit_index', { group: '0' })!;
      // Followers learn the new commit index with the next append or heartbeat.
      const commitAfter = await waitFor(`${member.name} commit index`, async () => {
        const value = sampleValue(await scrape(member), 'synod_raft_commit_index', { group: '0' })!;
        return value >= commitBefore + PUTS ? value : undefined;
      });
      assert.ok(commitAfter >= commitBefore + PUTS);
    }
    const after = await scrape(target);
    const putsBefore = sampleValue(before[0]!, 'synod_grpc_requests_total', { method, code: 'OK' }) ?? 0;
    assert.equal(sampleValue(after, 'synod_grpc_requests_total', { method, code: 'OK' }), putsBefore + PUTS);
    assert.ok(sampleValue(after, 'synod_grpc_request_duration_seconds_count', { method })! >= PUTS);
    assert.ok(sampleValue(after, 'synod_wal_fsync_duration_seconds_count')! > 0);
    assert.ok(sampleValue(after, 'synod_wal_bytes_written_total')! > 0);
    const leader = await waitFor('a leader', async () => {
      for (const member of members) if ((await nodeView(member)).role === 'leader') return member;
      return undefined;
    });
    const leaderFamilies = await scrape(leader);
    for (const peer of members.filter((member) => member !== leader)) {
      assert.ok(
        sampleValue(leaderFamilies, 'synod_peer_sent_messages_total', { peer: peer.server.self.raftId })! > 0,
        `the leader sent messages to ${peer.name}`,
      );
    }
  });

  it('the key browser pages what was put, and the watch tail shows new changes', async () => {
    const [member] = members as [Member];
    const page = (await (await fetch(`${member.admin}/api/keys?prefix=key%2F&limit=10`)).json()) as {
      kvs: { key: string; value: string; version: number }[];
      more: boolean;
      revision: number;
    };
    assert.equal(page.kvs.length, 10);
    assert.equal(page.more, true);
    assert.ok(page.kvs.every((kv) => kv.key.startsWith('key/') && kv.value.startsWith('value ')));
    const watch = await openEventStream(`${member.admin}/api/watch?prefix=w%2F`);
    const client = new RawEtcdClient(member.client);
    try {
      await client.put(putRequest('other', 'x'), 5_000);
      await client.put(putRequest('w/1', 'hello'), 5_000);
    } finally {
      client.close();
    }
    const event = await watch.next();
    watch.close();
    assert.equal(event.event, 'kv');
    const change = JSON.parse(event.data) as {
      type: string;
      key: string;
      value: string;
      modRevision: number;
    };
    assert.deepEqual([change.type, change.key, change.value], ['PUT', 'w/1', 'hello']);
    assert.ok(change.modRevision > page.revision);
  });

  it('the node stream starts with this member’s view of the cluster', async () => {
    const [member] = members as [Member];
    // The key count is refreshed in the background (at most once a second): wait until it caught up.
    await waitFor('the key count', async () => ((await nodeView(member)).keys >= PUTS ? true : undefined));
    const stream = await openEventStream(`${member.admin}/api/node/stream`);
    const first = await stream.next();
    stream.close();
    assert.equal(first.event, 'node');
    const view = JSON.parse(first.data) as NodeView;
    assert.equal(view.name, member.name);
    assert.equal(view.raftId, member.server.self.raftId);
    assert.equal(view.adminUrl, member.admin);
    assert.notEqual(view.leader, '');
    assert.ok(view.appliedIndex <= view.commitIndex && view.commitIndex <= view.lastIndex);
    assert.ok(view.keys >= PUTS, `${view.keys} keys`);
    assert.deepEqual(
      view.members.map((other) => other.name),
      ['n2', 'n3'],
    );
    assert.ok(view.members.every((other) => other.connected));
    assert.ok(view.elections.length >= 1);
    assert.equal(view.dev, true);
  });

  it('a member isolated by the fault controls turns unready, and ready again when healed', async () => {
    const leaderId = (await nodeView(members[0]!)).leader;
    const isolated = members.find((member) => member.server.self.raftId !== leaderId)!;
    const others = members.filter((member) => member !== isolated).map((member) => member.server.self.raftId);
    const post = (blockedPeers: string[]) =>
      fetch(`${isolated.admin}/api/dev/faults`, { method: 'POST', body: JSON.stringify({ blockedPeers }) });
    assert.equal((await post(others)).status, 200);
    const reason = await waitFor(`${isolated.name} unready`, async () => {
      const response = await fetch(`${isolated.admin}/health/ready`);
      return response.status === 503 ? ((await response.json()) as { reason: string }).reason : undefined;
    });
    assert.match(reason, /no leader/);
    // etcd's /health on its metrics listener says the same in etcd's format.
    const etcdHealth = await fetch(`${isolated.admin}/health`);
    assert.equal(etcdHealth.status, 503);
    assert.equal(((await etcdHealth.json()) as { health: string }).health, 'false');
    for (const member of members.filter((other) => other !== isolated)) {
      assert.equal(await readyStatus(member), 200);
      assert.deepEqual(await (await fetch(`${member.admin}/health`)).json(), { health: 'true', reason: '' });
    }
    assert.equal((await post([])).status, 200);
    await waitFor(`${isolated.name} ready again`, async () =>
      (await readyStatus(isolated)) === 200 ? true : undefined,
    );
  });
});
