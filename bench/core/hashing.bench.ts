// Consistent-hash ring: @synod/core's ConsistentHashRing against hashring (ketama-compatible, the
// npm library a user would otherwise pick), 10 nodes, 100k keys. Both use 160 points per node
// (hashring's default: 40 virtual nodes × 4 points each). Reports lookups/s, replica-list lookups/s,
// and balance (max/mean keys per node). One JSON line per comparison on stdout; progress on stderr.
import { createRequire } from 'node:module';
import { ConsistentHashRing, loadImbalance } from '../../packages/core/src/hashing/index.js';
import { comparePair, RUN_COUNT } from './compare.js';

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

const nodes = Array.from({ length: nodeCount }, (_, index) => `10.0.0.${index + 1}:2379`);
const keys = Array.from({ length: keyCount }, (_, index) => `user:${index}`);
const synodRing = new ConsistentHashRing(nodes);
const baselineRing = new HashRing(nodes);

/** Lookups/s of `lookup` over every key once. */
function rate(lookup: (key: string) => unknown): number {
  let sink = 0;
  const started = performance.now();
  for (const key of keys) if (lookup(key) !== undefined) sink++;
  const elapsedMs = performance.now() - started;
  if (sink !== keyCount) throw new Error(`a lookup returned nothing (${sink} of ${keyCount})`);
  return (keyCount / elapsedMs) * 1000;
}

console.error(`ring: ${nodeCount} nodes, ${keyCount} keys, ${RUN_COUNT} runs`);
const [synodLookup, baselineLookup] = await comparePair(
  'ring lookup',
  () => rate((key) => synodRing.ownerOf(key)),
  () => rate((key) => baselineRing.get(key)),
);
const [synodReplicas, baselineReplicas] = await comparePair(
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
  runs: RUN_COUNT,
  ...balance,
});
console.log(JSON.stringify(line('ring lookup', synodLookup, baselineLookup)));
console.log(JSON.stringify(line(`ring replicas (${replicaCount})`, synodReplicas, baselineReplicas)));
