// Consistent-hash ring: @synod/core's ConsistentHashRing against hashring (ketama-compatible, the
// npm library a user would otherwise pick), 10 nodes, 100k keys. Both use 160 points per node
// (hashring's default: 40 virtual nodes × 4 points each). Reports lookups/s, replica-list lookups/s,
// and balance (max/mean keys per node). One JSON line per comparison on stdout; progress on stderr.
import { createRequire } from 'node:module';
import { ConsistentHashRing, loadImbalance } from '../../packages/core/src/hashing/index.js';

interface BaselineRing {
  get(key: string): string | undefined;
  range(key: string, size: number, unique?: boolean): string[];
}
type BaselineRingConstructor = new (servers: string[]) => BaselineRing;
// hashring ships no type declarations; this is the part of its API the benchmark uses.
const require = createRequire(import.meta.url);
const HashRing = require('hashring') as BaselineRingConstructor;
const baselineName = `hashring ${(require('hashring/package.json') as { version: string }).version}`;

const nodeCount = 10;
const keyCount = 100_000;
const replicaCount = 3;
const runCount = 7;
const warmupRunCount = 2;

const nodes = Array.from({ length: nodeCount }, (_, index) => `10.0.0.${index + 1}:2379`);
const keys = Array.from({ length: keyCount }, (_, index) => `user:${index}`);
const synodRing = new ConsistentHashRing(nodes);
const baselineRing = new HashRing(nodes);

function median(values: number[]): number {
  const sorted = [...values].sort((left, right) => left - right);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** Lookups/s of `lookup` over every key once. */
function rate(lookup: (key: string) => unknown): number {
  let sink = 0;
  const started = performance.now();
  for (const key of keys) if (lookup(key) !== undefined) sink++;
  const elapsedMs = performance.now() - started;
  if (sink !== keyCount) throw new Error(`a lookup returned nothing (${sink} of ${keyCount})`);
  return (keyCount / elapsedMs) * 1000;
}

/** Warms both sides up, then alternates which runs first, and reports the median of each. */
function compare(label: string, synod: () => number, baseline: () => number): [number, number] {
  for (let run = 0; run < warmupRunCount; run++) {
    synod();
    baseline();
  }
  const synodRates: number[] = [];
  const baselineRates: number[] = [];
  for (let run = 0; run < runCount; run++) {
    if (run % 2 === 0) {
      synodRates.push(synod());
      baselineRates.push(baseline());
    } else {
      baselineRates.push(baseline());
      synodRates.push(synod());
    }
    console.error(`  ${label} run ${run + 1}/${runCount}`);
  }
  return [median(synodRates), median(baselineRates)];
}

console.error(`ring: ${nodeCount} nodes, ${keyCount} keys, ${runCount} runs`);
const [synodLookup, baselineLookup] = compare(
  'ring lookup',
  () => rate((key) => synodRing.ownerOf(key)),
  () => rate((key) => baselineRing.get(key)),
);
const [synodReplicas, baselineReplicas] = compare(
  'ring replicas',
  () => rate((key) => synodRing.ownersOf(key, replicaCount)),
  () => rate((key) => baselineRing.range(key, replicaCount)),
);

const balance = {
  nodeCount,
  keyCount,
  pointsPerNode: synodRing.pointCount / nodeCount,
  synodMaxOverMeanLoad: Number(loadImbalance(keys, nodes, (key) => synodRing.ownerOf(key)).toFixed(4)),
  baselineMaxOverMeanLoad: Number(loadImbalance(keys, nodes, (key) => baselineRing.get(key)).toFixed(4)),
};
const line = (name: string, synodOpsPerSec: number, baselineOpsPerSec: number) => ({
  name,
  baseline: baselineName,
  synodOpsPerSec: Math.round(synodOpsPerSec),
  baselineOpsPerSec: Math.round(baselineOpsPerSec),
  ratio: Number((synodOpsPerSec / baselineOpsPerSec).toFixed(2)),
  runs: runCount,
  ...balance,
});
console.log(JSON.stringify(line('ring lookup', synodLookup, baselineLookup)));
console.log(JSON.stringify(line(`ring replicas (${replicaCount})`, synodReplicas, baselineReplicas)));
