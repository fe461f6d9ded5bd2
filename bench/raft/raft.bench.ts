// `npm run bench -- raft`: how fast the Raft core and the simulator run.
// 1. Entries committed per second by an in-memory 3-node cluster with instant delivery (no
//    simulated delays, no disk): the cost of the protocol itself, per entry, with batching.
// 2. Simulated nemesis runs per minute (5 nodes, the default 15 s virtual run), on one thread
//    and on all cores, which is what bounds how many seeds CI can afford.
import { availableParallelism } from 'node:os';
import { InMemoryCluster } from '../../packages/raft/src/in-memory-cluster.js';
import { runSeedsInParallel } from '../../packages/sim/src/parallel.js';

const PAYLOAD_BYTES = 128;
const BATCH = 256;
const MEASURE_MS = 3_000;

function committedPerSecond(batch: number): { entriesPerSecond: number; messagesPerEntry: number } {
  const cluster = new InMemoryCluster(['a', 'b', 'c']);
  const leader = cluster.electLeader();
  const node = cluster.member(leader).node;
  const payload = new Uint8Array(PAYLOAD_BYTES).fill(7);
  const startCommit = node.raft.log.committed;
  const startMessages = cluster.messagesDelivered;
  const started = performance.now();
  let rounds = 0;
  while (performance.now() - started < MEASURE_MS) {
    for (let i = 0; i < batch; i++) node.propose(payload);
    cluster.stabilize();
    rounds++;
    // Compact now and then, as a real node would, so memory stays flat.
    if (rounds % 64 === 0) {
      for (const member of cluster.members.values()) {
        const applied = member.node.raft.log.applied;
        member.storage.createSnapshot(applied, member.node.raft.confState, new Uint8Array(0));
        member.storage.compact(applied);
        member.applied.length = 0;
      }
    }
  }
  const seconds = (performance.now() - started) / 1000;
  const committed = node.raft.log.committed - startCommit;
  return {
    entriesPerSecond: Math.round(committed / seconds),
    messagesPerEntry: Number(((cluster.messagesDelivered - startMessages) / committed).toFixed(3)),
  };
}

async function simulatedRunsPerMinute(workers: number, seeds: number): Promise<number> {
  const started = performance.now();
  const summary = await runSeedsInParallel({ nodes: 5, nemesis: 'all' }, 10_000, seeds, workers);
  if (summary.violations > 0)
    throw new Error(`violations in bench runs: seeds ${summary.failures.map((f) => f.seed)}`);
  return Math.round((seeds / (performance.now() - started)) * 60_000);
}

for (const batch of [1, 16, BATCH]) {
  process.stderr.write(`in-memory 3-node cluster, proposals in batches of ${batch}...\n`);
  committedPerSecond(batch); // warm-up
  const result = committedPerSecond(batch);
  console.log(
    JSON.stringify({
      name: `raft.inMemory3.committed.batch${batch}`,
      payloadBytes: PAYLOAD_BYTES,
      ...result,
    }),
  );
}
const cores = Math.max(1, Math.min(availableParallelism(), 8));
for (const workers of [1, cores]) {
  process.stderr.write(`simulated 5-node nemesis runs on ${workers} worker(s)...\n`);
  const runsPerMinute = await simulatedRunsPerMinute(workers, workers === 1 ? 16 : 32 * workers);
  console.log(
    JSON.stringify({
      name: `sim.runsPerMinute.workers${workers}`,
      nodes: 5,
      virtualSeconds: 15,
      runsPerMinute,
    }),
  );
}
