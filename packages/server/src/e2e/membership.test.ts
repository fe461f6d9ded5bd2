// Membership and maintenance on real processes through Debian's etcdctl: a member added as a
// learner catches up from a snapshot and is promoted, a voter is removed, the hashes of every
// member agree, a snapshot is saved, leadership moves, and NOSPACE is raised and disarmed.
import assert from 'node:assert/strict';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { bareEndpoint, etcdctl, etcdctlMissing, eventually } from './etcdctl.fixture.js';
import { ProcessCluster, type ProcessMember } from './process-cluster.js';

interface ListedMember {
  readonly id: string;
  readonly name: string;
  readonly isLearner: boolean;
}

/** etcdctl's simple output keeps 64-bit ids exact (its JSON output has them as numbers). */
async function memberList(endpoint: string): Promise<ListedMember[]> {
  return (await etcdctl(endpoint, ['member', 'list'])).split('\n').map((line) => {
    const [id, , name, , , isLearner] = line.split(', ').map((field) => field.trim());
    return { id: id!, name: name!, isLearner: isLearner === 'true' };
  });
}

describe('membership and maintenance through etcdctl', { skip: etcdctlMissing() }, () => {
  let cluster: ProcessCluster;
  let endpoint: string;
  before(async () => {
    // Small snapshots: the new member must be sent one, the log before it is gone.
    cluster = await ProcessCluster.create(3, ['--snapshot-count', '20']);
    await cluster.startAll();
    endpoint = bareEndpoint(cluster.members[0]!.clientUrl);
    for (let i = 0; i < 60; i++) await etcdctl(endpoint, ['put', `k${i}`, `v${i}`]);
  });
  after(async () => {
    await cluster?.stopAll();
  });

  test('member add as learner, start it, it catches up, promote; remove a voter', async () => {
    const joiner: ProcessMember = await cluster.addMember('m4');
    const added = await etcdctl(endpoint, [
      'member',
      'add',
      'm4',
      `--peer-urls=${joiner.peerUrl}`,
      '--learner',
    ]);
    assert.match(added, /Member\s+[0-9a-f]+ added to cluster/);
    assert.match(added, /ETCD_INITIAL_CLUSTER_STATE="existing"/);
    await cluster.start(joiner, ['--initial-cluster-state', 'existing']);
    const joinerEndpoint = bareEndpoint(joiner.clientUrl);
    await eventually(
      async () =>
        (await etcdctl(joinerEndpoint, ['get', 'k59', '--consistency=s', '--print-value-only'])) === 'v59',
      'the learner to catch up',
      20_000,
    );
    const learner = (await memberList(endpoint)).find((member) => member.name === 'm4');
    assert.equal(learner?.isLearner, true);
    const id = learner!.id;
    await eventually(
      async () => /promoted/.test(await etcdctl(endpoint, ['member', 'promote', id])),
      'the promotion',
      15_000,
    );
    const promoted = (await memberList(endpoint)).find((member) => member.name === 'm4');
    assert.ok(!promoted?.isLearner);
    await etcdctl(joinerEndpoint, ['put', 'from-m4', 'yes']);
    assert.equal(await etcdctl(endpoint, ['get', 'from-m4', '--print-value-only']), 'yes');

    // Remove a voter that does not lead (removing the leader works too, but a write sent to it
    // just before would time out, as with etcd).
    const statusLines = (
      await etcdctl(cluster.endpoints.replaceAll('http://', ''), ['endpoint', 'status'])
    ).split('\n');
    const leaderId = statusLines.map((line) => line.split(', ')).find((fields) => fields[4] === 'true')?.[1];
    const removed = (await memberList(endpoint)).find(
      (member) => (member.name === 'm2' || member.name === 'm3') && member.id !== leaderId,
    )!;
    assert.match(await etcdctl(endpoint, ['member', 'remove', removed.id]), /removed from cluster/);
    await cluster.kill(cluster.members.find((member) => member.name === removed.name)!);
    assert.equal((await memberList(endpoint)).length, 3);
    await etcdctl(endpoint, ['put', 'after-remove', 'ok']);
    assert.equal(await etcdctl(joinerEndpoint, ['get', 'after-remove', '--print-value-only']), 'ok');
  });

  test('endpoint status and hashkv agree on every member; move-leader; snapshot save', async () => {
    const live = cluster.members
      .filter((member) => member.process)
      .map((member) => bareEndpoint(member.clientUrl));
    const all = live.join(',');
    await eventually(async () => {
      const hashes = JSON.parse(await etcdctl(all, ['endpoint', 'hashkv', '-w', 'json'])) as {
        HashKV: { hash: number };
      }[];
      return hashes.length === live.length && new Set(hashes.map((entry) => entry.HashKV.hash)).size === 1;
    }, 'equal hashes on every member');
    // Simple output: endpoint, member id (hex), version, size, is leader, is learner, term, …
    const statuses = (await etcdctl(all, ['endpoint', 'status'])).split('\n').map((line) => line.split(', '));
    const target = statuses.find((fields) => fields[4] === 'false')![1]!;
    assert.match(await etcdctl(all, ['move-leader', target]), /Leadership transferred/);
    const file = join(cluster.rootDir, 'backup.db');
    assert.match(await etcdctl(live[0]!, ['snapshot', 'save', file]), /Snapshot saved/);
    assert.ok(existsSync(file) && statSync(file).size > 0);
  });

  test('alarm list and disarm', async () => {
    const live = cluster.members
      .filter((member) => member.process)
      .map((member) => bareEndpoint(member.clientUrl));
    assert.equal(await etcdctl(live[0]!, ['alarm', 'list']), '');
    await etcdctl(live[0]!, ['alarm', 'disarm']);
  });
});
