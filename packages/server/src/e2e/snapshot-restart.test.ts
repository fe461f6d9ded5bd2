// Members that took snapshots (and compacted their logs) restart from the snapshot plus the log
// after it, and a member that was down while the others compacted catches up from a snapshot.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { rangeRequest } from '@synod/state';
import { RawEtcdClient } from './grpc-client.js';
import { ProcessCluster, type ProcessMember } from './process-cluster.js';

const encoder = new TextEncoder();
/** Small, so a few hundred writes take several snapshots and compact the log past them. */
const SNAPSHOT_COUNT = 40;

function putOf(key: string, value: string) {
  return {
    key: encoder.encode(key),
    value: encoder.encode(value),
    lease: 0n,
    prevKv: false,
    ignoreValue: false,
    ignoreLease: false,
  };
}

async function writeKeys(url: string, from: number, to: number): Promise<void> {
  const client = new RawEtcdClient(url);
  try {
    for (let i = from; i < to; i++)
      await client.put(putOf(`k/${String(i).padStart(4, '0')}`, `v${i}`), 10_000);
  } finally {
    client.close();
  }
}

/** Keys and the newest value this member holds locally (serializable: no leader involved). */
async function localKeys(member: ProcessMember): Promise<{ count: number; last: string }> {
  const client = new RawEtcdClient(member.clientUrl);
  try {
    const response = await client.range(
      rangeRequest(encoder.encode('k/'), {
        rangeEnd: encoder.encode('k0'),
        sortOrder: 'DESCEND',
        serializable: true,
      }),
      5_000,
    );
    return {
      count: response.count,
      last: new TextDecoder().decode(response.kvs[0]?.value ?? new Uint8Array()),
    };
  } finally {
    client.close();
  }
}

async function eventually(check: () => Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      // member still starting
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('snapshots on real members', () => {
  let cluster: ProcessCluster;
  after(async () => {
    await cluster?.stopAll();
  });

  test('every member restarts with all its data after snapshots compacted the log', async () => {
    cluster = await ProcessCluster.create(3, ['--snapshot-count', String(SNAPSHOT_COUNT)]);
    await cluster.startAll();
    await writeKeys(cluster.members[0]!.clientUrl, 0, 200);
    for (const member of cluster.members) await cluster.kill(member);
    await cluster.startAll();
    for (const member of cluster.members) {
      await eventually(
        async () => (await localKeys(member)).count === 200,
        `${member.name} to hold 200 keys`,
      );
      assert.equal((await localKeys(member)).last, 'v199');
    }
  });

  test('a member that missed compacted entries catches up from a snapshot', async () => {
    const lagging = cluster.members[2]!;
    await cluster.kill(lagging);
    await writeKeys(cluster.members[0]!.clientUrl, 200, 400);
    await cluster.start(lagging);
    await eventually(async () => (await localKeys(lagging)).count === 400, `${lagging.name} to catch up`);
    assert.equal((await localKeys(lagging)).last, 'v399');
  });
});
