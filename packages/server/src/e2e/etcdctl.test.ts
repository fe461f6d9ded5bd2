// Debian's etcdctl (package etcd-client) against a real 3-process Synod cluster.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { etcdctl, etcdctlMissing } from './etcdctl.fixture.js';
import { ProcessCluster } from './process-cluster.js';

describe('etcdctl against a 3-member cluster', { skip: etcdctlMissing() }, () => {
  let cluster: ProcessCluster;
  before(async () => {
    cluster = await ProcessCluster.create(3);
    await cluster.startAll();
  });
  after(async () => {
    await cluster?.stopAll();
  });

  test('put, get and del through any member', async () => {
    const [first, second, third] = cluster.members.map((member) => member.clientUrl);
    assert.equal(await etcdctl(first!, ['put', 'greeting', 'hello']), 'OK');
    assert.equal(await etcdctl(second!, ['get', 'greeting']), 'greeting\nhello');
    assert.equal(await etcdctl(third!, ['get', 'greeting', '--print-value-only']), 'hello');
    assert.equal(await etcdctl(third!, ['del', 'greeting']), '1');
    assert.equal(await etcdctl(first!, ['get', 'greeting']), '');
  });

  test('prefix ranges, limits and serializable reads', async () => {
    for (const key of ['app/a', 'app/b', 'app/c', 'other'])
      await etcdctl(cluster.endpoints, ['put', key, `v-${key}`]);
    assert.equal(
      await etcdctl(cluster.endpoints, ['get', 'app/', '--prefix', '--keys-only']),
      'app/a\n\napp/b\n\napp/c',
    );
    assert.equal(
      await etcdctl(cluster.endpoints, ['get', 'app/', '--prefix', '--keys-only', '--limit=2']),
      'app/a\n\napp/b',
    );
    assert.equal(
      await etcdctl(cluster.members[2]!.clientUrl, ['get', 'app/b', '--consistency=s', '--print-value-only']),
      'v-app/b',
    );
    const json = JSON.parse(
      await etcdctl(cluster.endpoints, ['get', 'app/', '--prefix', '--limit=1', '-w', 'json']),
    );
    assert.equal(json.count, 3, 'count is the number of keys in the range, whatever the limit');
    assert.equal(json.more, true);
    assert.equal(json.kvs.length, 1);
  });

  test('txn: compares choose the branch', async () => {
    await etcdctl(cluster.endpoints, ['put', 'txn-key', 'one']);
    const succeeded = await etcdctl(
      cluster.endpoints,
      ['txn'],
      'value("txn-key") = "one"\n\nput txn-key two\n\nput txn-key failed\n\n',
    );
    assert.match(succeeded, /^SUCCESS/);
    const failed = await etcdctl(
      cluster.endpoints,
      ['txn'],
      'value("txn-key") = "one"\n\nput txn-key three\n\nput txn-key other\n\n',
    );
    assert.match(failed, /^FAILURE/);
    assert.equal(await etcdctl(cluster.endpoints, ['get', 'txn-key', '--print-value-only']), 'other');
  });

  test('endpoint status, hashkv and member list, with and without http:// in the endpoints', async () => {
    // etcdctl 3.4 dials each endpoint of `endpoint status|hashkv` with the URL's scheme in
    // :authority; etcd accepts that, so we must too (node:http2 refuses it with PROTOCOL_ERROR).
    for (const endpoints of [cluster.endpoints, cluster.endpoints.replaceAll('http://', '')]) {
      const status = JSON.parse(await etcdctl(endpoints, ['endpoint', 'status', '-w', 'json'])) as {
        Status: { header: { member_id: number }; leader: number; raftTerm?: number };
      }[];
      assert.equal(status.length, 3);
      const leaders = new Set(status.map((entry) => entry.Status.leader));
      assert.equal(leaders.size, 1, 'every member reports the same leader');
      const hashes = JSON.parse(await etcdctl(endpoints, ['endpoint', 'hashkv', '-w', 'json'])) as unknown[];
      assert.equal(hashes.length, 3);
    }
    const members = JSON.parse(await etcdctl(cluster.endpoints, ['member', 'list', '-w', 'json'])) as {
      members: { name: string; peerURLs: string[]; clientURLs: string[] }[];
    };
    assert.deepEqual(members.members.map((member) => member.name).sort(), ['m1', 'm2', 'm3']);
  });
});
