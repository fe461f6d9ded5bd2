// Time from SIGKILL of the leader to the first write acknowledged by the new leader. A client
// keeps writing to the surviving members, one new put every few milliseconds whatever happened to
// the last ones (so a call stuck on the dead leader does not delay the next), each with a short
// deadline. The figure is the time from the kill to the first acknowledgement of a put sent after
// the kill: such a put cannot have been committed by the dead leader.
import type { PutRequest } from '@synod/state';
import { RawEtcdClient } from '../../packages/server/src/e2e/grpc-client.js';
import { type ClusterMember, type MemberCluster, sleep } from './member-cluster.js';

/** One new put every this many ms: the resolution of the measurement. */
export const WRITE_INTERVAL_MS = 10;
/** The per-request deadline of the writing client. */
export const WRITE_DEADLINE_MS = 300;
/** Puts in flight at once; the writer skips a beat rather than exceed it. */
const IN_FLIGHT_MAX = 64;
/** The writer must see acknowledgements before the kill, or the cluster was not serving. */
const BEFORE_KILL_MS = 300;
/** A failover slower than this is reported as failed. */
const FAILOVER_TIMEOUT_MS = 20_000;
/** After the killed member rejoins, the cluster settles this long before the next kill. */
const SETTLE_MS = 1_000;

export interface FailoverRun {
  readonly killedLeader: string;
  readonly newLeader: string;
  /** From SIGKILL to the first acknowledged put sent after it. */
  readonly firstWriteMs: number;
}

const encoder = new TextEncoder();

function putOf(sequence: number): PutRequest {
  return {
    key: encoder.encode('bench/kv/failover'),
    value: encoder.encode(String(sequence)),
    lease: 0n,
    prevKv: false,
    ignoreValue: false,
    ignoreLease: false,
  };
}

/**
 * Kills the leader `repeats` times, restarting it after each measurement. Each run is reported
 * as soon as it is measured, so a member that fails to restart does not lose the figure.
 */
export async function measureFailovers(
  cluster: MemberCluster,
  repeats: number,
  onRun: (run: FailoverRun, index: number) => void,
): Promise<void> {
  for (let index = 0; index < repeats; index++) {
    const leader = await cluster.leader();
    const survivors = cluster.liveMembers().filter((member) => member !== leader);
    const firstWriteMs = await killAndTimeFirstWrite(cluster, leader, survivors);
    const newLeader = await cluster.leader();
    onRun({ killedLeader: leader.name, newLeader: newLeader.name, firstWriteMs }, index);
    await cluster.start(leader);
    await cluster.leader();
    await sleep(SETTLE_MS);
  }
}

async function killAndTimeFirstWrite(
  cluster: MemberCluster,
  leader: ClusterMember,
  survivors: readonly ClusterMember[],
): Promise<number> {
  const clients = survivors.map((member) => new RawEtcdClient(member.clientUrl));
  let killedAt = Number.POSITIVE_INFINITY;
  let acknowledgedBeforeKill = 0;
  let firstWriteAt: number | undefined;
  let inFlight = 0;
  let sequence = 0;
  const writer = setInterval(() => {
    if (inFlight >= IN_FLIGHT_MAX) return;
    const client = clients[sequence % clients.length]!;
    const sentAt = performance.now();
    inFlight++;
    client
      .put(putOf(sequence++), WRITE_DEADLINE_MS)
      .then(() => {
        if (sentAt < killedAt) acknowledgedBeforeKill++;
        else firstWriteAt ??= performance.now();
      })
      .catch(() => undefined) // timed out, refused or no leader yet: the next put tries again
      .finally(() => inFlight--);
  }, WRITE_INTERVAL_MS);
  try {
    await sleep(BEFORE_KILL_MS);
    if (acknowledgedBeforeKill === 0) throw new Error(`${cluster.system}: no put succeeded before the kill`);
    killedAt = performance.now();
    await cluster.kill(leader);
    while (firstWriteAt === undefined) {
      if (performance.now() - killedAt > FAILOVER_TIMEOUT_MS)
        throw new Error(`${cluster.system}: no write succeeded ${FAILOVER_TIMEOUT_MS} ms after the kill`);
      await sleep(1);
    }
    return firstWriteAt - killedAt;
  } finally {
    clearInterval(writer);
    while (inFlight > 0) await sleep(WRITE_INTERVAL_MS);
    for (const client of clients) client.close();
  }
}
