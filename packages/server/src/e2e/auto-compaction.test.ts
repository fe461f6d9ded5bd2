// --auto-compaction-retention on real members: the leader compacts history older than the
// retention on its own, on every member, and reads of compacted revisions get etcd's error.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { bareEndpoint, etcdctl, etcdctlMissing, eventually } from './etcdctl.fixture.js';
import { ProcessCluster } from './process-cluster.js';

describe('auto compaction', { skip: etcdctlMissing() }, () => {
  let cluster: ProcessCluster;
  before(async () => {
    cluster = await ProcessCluster.create(3, [
      '--auto-compaction-mode',
      'periodic',
      '--auto-compaction-retention',
      '1s',
    ]);
    await cluster.startAll();
  });
  after(async () => {
    await cluster?.stopAll();
  });

  test('history older than the retention is compacted on every member; newer history stays', async () => {
    const endpoints = cluster.members.map((member) => bareEndpoint(member.clientUrl));
    await etcdctl(endpoints[0]!, ['put', 'config', 'v1']);
    const first = JSON.parse(await etcdctl(endpoints[0]!, ['put', 'config', 'v2', '-w', 'json'])) as {
      header: { revision: number };
    };
    for (const endpoint of endpoints) {
      await eventually(
        async () => {
          try {
            await etcdctl(endpoint, [
              'get',
              'config',
              `--rev=${first.header.revision - 1}`,
              '--consistency=s',
            ]);
            return false;
          } catch (error) {
            return /required revision has been compacted/.test((error as Error).message);
          }
        },
        `compaction on ${endpoint}`,
        10_000,
      );
    }
    // A revision written just now is still readable.
    const recent = JSON.parse(await etcdctl(endpoints[1]!, ['put', 'config', 'v3', '-w', 'json'])) as {
      header: { revision: number };
    };
    assert.equal(
      await etcdctl(endpoints[2]!, [
        'get',
        'config',
        '--print-value-only',
        `--rev=${recent.header.revision}`,
      ]),
      'v3',
    );
  });
});
