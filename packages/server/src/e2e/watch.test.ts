// Watch on a real 3-member cluster through Debian's etcdctl: a prefix watch sees puts and deletes
// made through another member, history replay with --rev, and events across a leader change.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { bareEndpoint, etcdctl, etcdctlMissing, eventually } from './etcdctl.fixture.js';
import { RawEtcdClient } from './grpc-client.js';
import { ProcessCluster } from './process-cluster.js';

/** `etcdctl watch …` running in the background, collecting its output lines. */
function startWatch(endpoint: string, args: readonly string[]): { child: ChildProcess; lines: string[] } {
  const child = spawn('etcdctl', [`--endpoints=${endpoint}`, 'watch', ...args], {
    env: { ...process.env, ETCDCTL_API: '3' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  let partial = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    partial += chunk.toString();
    const complete = partial.split('\n');
    partial = complete.pop() ?? '';
    lines.push(...complete);
  });
  return { child, lines };
}

async function leaderIndex(cluster: ProcessCluster): Promise<number> {
  for (let i = 0; i < cluster.members.length; i++) {
    if (!cluster.members[i]!.process) continue;
    const client = new RawEtcdClient(cluster.members[i]!.clientUrl);
    try {
      const status = await client.status(2_000);
      if (status.leader !== 0n && status.leader === status.header?.memberId) return i;
    } catch {
      // down
    } finally {
      client.close();
    }
  }
  return -1;
}

describe('watch through etcdctl on a 3-member cluster', { skip: etcdctlMissing() }, () => {
  let cluster: ProcessCluster;
  const watchers: ChildProcess[] = [];
  before(async () => {
    cluster = await ProcessCluster.create(3);
    await cluster.startAll();
  });
  after(async () => {
    for (const child of watchers) child.kill('SIGKILL');
    await cluster?.stopAll();
  });

  test('a prefix watch on one member sees puts and deletes made through another, in order', async () => {
    const watch = startWatch(bareEndpoint(cluster.members[0]!.clientUrl), ['--prefix', 'cfg/']);
    watchers.push(watch.child);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const writer = bareEndpoint(cluster.members[1]!.clientUrl);
    await etcdctl(writer, ['put', 'cfg/a', '1']);
    await etcdctl(writer, ['put', 'other', 'x']);
    await etcdctl(writer, ['put', 'cfg/b', '2']);
    await etcdctl(writer, ['del', 'cfg/a']);
    await eventually(async () => watch.lines.length >= 8, 'four events', 10_000);
    assert.deepEqual(watch.lines.slice(0, 8), ['PUT', 'cfg/a', '1', 'PUT', 'cfg/b', '2', 'DELETE', 'cfg/a']);
  });

  test('--rev replays history from a past revision, with previous values', async () => {
    const endpoint = bareEndpoint(cluster.members[2]!.clientUrl);
    const revision = Number(
      /"revision":(\d+)/.exec(await etcdctl(endpoint, ['put', 'hist/k', 'v1', '-w', 'json']))?.[1],
    );
    await etcdctl(endpoint, ['put', 'hist/k', 'v2']);
    const watch = startWatch(endpoint, ['--rev', String(revision), '--prev-kv', 'hist/k']);
    watchers.push(watch.child);
    await eventually(async () => watch.lines.length >= 8, 'the replayed events', 10_000);
    // The creation has no previous value; the update prints the previous key-value first.
    assert.deepEqual(watch.lines.slice(0, 8), ['PUT', 'hist/k', 'v1', 'PUT', 'hist/k', 'v1', 'hist/k', 'v2']);
  });

  test('a watch on a surviving member keeps delivering across a leader kill', async () => {
    const leader = await leaderIndex(cluster);
    assert.ok(leader >= 0);
    const survivor = cluster.members[(leader + 1) % 3]!;
    const watch = startWatch(bareEndpoint(survivor.clientUrl), ['--prefix', 'fail/']);
    watchers.push(watch.child);
    await new Promise((resolve) => setTimeout(resolve, 500));
    await etcdctl(bareEndpoint(survivor.clientUrl), ['put', 'fail/before', '1']);
    await cluster.kill(cluster.members[leader]!);
    await eventually(async () => (await leaderIndex(cluster)) >= 0, 'a new leader', 10_000);
    await etcdctl(bareEndpoint(survivor.clientUrl), ['put', 'fail/after', '2']);
    await eventually(async () => watch.lines.length >= 6, 'both events', 10_000);
    assert.deepEqual(watch.lines.slice(0, 6), ['PUT', 'fail/before', '1', 'PUT', 'fail/after', '2']);
  });
});
