// The etcd3 npm client's lock and election helpers on a real 3-member cluster while the leader is
// SIGKILLed: critical sections never overlap, and the election hands over to a waiting candidate.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Etcd3 } from 'etcd3';
import { RawEtcdClient } from './grpc-client.js';
import { ProcessCluster } from './process-cluster.js';

async function leaderIndex(cluster: ProcessCluster): Promise<number> {
  for (let i = 0; i < cluster.members.length; i++) {
    if (!cluster.members[i]!.process) continue;
    const client = new RawEtcdClient(cluster.members[i]!.clientUrl);
    try {
      const status = await client.status(2_000);
      if (status.leader !== 0n && status.leader === status.header?.memberId) return i;
    } catch {
      // down or starting
    } finally {
      client.close();
    }
  }
  return -1;
}

async function waitForLeader(cluster: ProcessCluster): Promise<number> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const leader = await leaderIndex(cluster);
    if (leader >= 0) return leader;
    if (Date.now() > deadline) throw new Error('no leader within 15 s');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Critical sections each worker runs; some fail while the leader is down, which is fine. */
const ROUNDS_PER_WORKER = 12;

describe('etcd3 lock and election helpers under a leader kill', () => {
  let cluster: ProcessCluster;
  const clients: Etcd3[] = [];
  before(async () => {
    cluster = await ProcessCluster.create(3);
    await cluster.startAll();
    await waitForLeader(cluster);
  });
  after(async () => {
    for (const client of clients) client.close();
    await cluster?.stopAll();
  });

  test('lock: critical sections of three clients never overlap while the leader is killed', async () => {
    const hosts = cluster.members.map((member) => member.clientUrl);
    let inside = 0;
    let overlaps = 0;
    let completed = 0;
    const worker = async (name: string) => {
      const client = new Etcd3({ hosts, dialTimeout: 2_000 });
      clients.push(client);
      for (let round = 0; round < ROUNDS_PER_WORKER; round++) {
        try {
          await client
            .lock('counter-lock')
            .ttl(5)
            .do(async () => {
              inside++;
              if (inside > 1) overlaps++;
              await new Promise((resolve) => setTimeout(resolve, 50));
              inside--;
              completed++;
            });
        } catch {
          // the call failed during the election: try again
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      }
      return name;
    };
    const running = Promise.all([worker('a'), worker('b'), worker('c')]);
    await new Promise((resolve) => setTimeout(resolve, 700));
    const leader = await waitForLeader(cluster);
    await cluster.kill(cluster.members[leader]!);
    await running;
    assert.equal(overlaps, 0, 'two clients were inside the lock at once');
    assert.ok(completed >= ROUNDS_PER_WORKER, `only ${completed} critical sections completed`);
    await cluster.start(cluster.members[leader]!);
    await waitForLeader(cluster);
  });

  test('election: a waiting candidate becomes leader when the leader resigns, across a leader kill', async () => {
    const hosts = cluster.members.map((member) => member.clientUrl);
    const alpha = new Etcd3({ hosts });
    const beta = new Etcd3({ hosts });
    clients.push(alpha, beta);
    const first = await alpha.election('service', 5).campaign('alpha').wait();
    assert.equal(await alpha.election('service').leader(), 'alpha');
    const waiting = beta.election('service', 5).campaign('beta').wait();
    const leader = await waitForLeader(cluster);
    await cluster.kill(cluster.members[leader]!);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    assert.equal(
      await beta.election('service').leader(),
      'alpha',
      'alpha still leads after the Raft leader died',
    );
    await first.resign();
    const second = await waiting;
    assert.equal(await beta.election('service').leader(), 'beta');
    await second.resign();
  });
});
