// Leases on a real 3-member cluster through Debian's etcdctl: grant, attach, keep-alive and
// time-to-live through a follower (forwarded to the leader), revoke, expiry deleting keys.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { bareEndpoint, etcdctl, etcdctlMissing, eventually } from './etcdctl.fixture.js';
import { RawEtcdClient } from './grpc-client.js';
import { ProcessCluster } from './process-cluster.js';

async function leaderIndex(cluster: ProcessCluster): Promise<number> {
  for (let i = 0; i < cluster.members.length; i++) {
    const client = new RawEtcdClient(cluster.members[i]!.clientUrl);
    try {
      const status = await client.status(5_000);
      if (status.leader === status.header?.memberId) return i;
    } finally {
      client.close();
    }
  }
  throw new Error('no leader');
}

describe('leases through etcdctl on a 3-member cluster', { skip: etcdctlMissing() }, () => {
  let cluster: ProcessCluster;
  let follower: string;
  let all: string;
  before(async () => {
    cluster = await ProcessCluster.create(3);
    await cluster.startAll();
    await eventually(async () => (await leaderIndex(cluster)) >= 0, 'a leader');
    const leader = await leaderIndex(cluster);
    follower = bareEndpoint(cluster.members[(leader + 1) % 3]!.clientUrl);
    all = cluster.members.map((member) => bareEndpoint(member.clientUrl)).join(',');
  });
  after(async () => {
    await cluster?.stopAll();
  });

  test('grant, attach, keep-alive, time-to-live with keys, list and revoke through a follower', async () => {
    const granted = await etcdctl(follower, ['lease', 'grant', '60']);
    const id = /lease ([0-9a-f]+) granted with TTL\(60s\)/.exec(granted)?.[1];
    assert.ok(id, granted);
    await etcdctl(follower, ['put', '--lease', id, 'svc/a', '1']);
    await etcdctl(follower, ['put', '--lease', id, 'svc/b', '2']);
    const kept = await etcdctl(follower, ['lease', 'keep-alive', '--once', id]);
    assert.match(kept, new RegExp(`lease ${id} keepalived with TTL\\(60\\)`));
    const ttl = await etcdctl(follower, ['lease', 'timetolive', '--keys', id]);
    assert.match(
      ttl,
      new RegExp(
        `lease ${id} granted with TTL\\(60s\\), remaining\\((59|60)s\\), attached keys\\(\\[svc/a svc/b\\]\\)`,
      ),
    );
    assert.match(await etcdctl(all, ['lease', 'list']), new RegExp(id));
    assert.match(await etcdctl(follower, ['lease', 'revoke', id]), /revoked/);
    assert.equal(await etcdctl(all, ['get', '--prefix', 'svc/']), '');
    await assert.rejects(
      etcdctl(follower, ['put', '--lease', id, 'svc/c', '3']),
      /requested lease not found/,
    );
  });

  test('an expired lease is revoked by the leader and its keys are deleted', async () => {
    const granted = await etcdctl(all, ['lease', 'grant', '2']);
    const id = /lease ([0-9a-f]+) granted/.exec(granted)?.[1];
    assert.ok(id, granted);
    await etcdctl(all, ['put', '--lease', id, 'ephemeral', 'x']);
    assert.equal(await etcdctl(all, ['get', 'ephemeral', '--print-value-only']), 'x');
    await eventually(
      async () => (await etcdctl(all, ['get', 'ephemeral'])) === '',
      'the key to expire',
      10_000,
    );
    const ttl = await etcdctl(follower, ['lease', 'timetolive', id]);
    assert.match(ttl, /already expired/);
  });
});
