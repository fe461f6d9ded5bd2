// Bloom filter: @synod/core's BloomFilter against bloom-filters' BloomFilter.create(n, errorRate),
// the npm library a user would otherwise pick. Same n, same target false-positive rate, same keys.
// Prints one JSON line per comparison on stdout; progress goes to stderr.
import { createRequire } from 'node:module';
import bloomFilters from 'bloom-filters';
import { BloomFilter } from '../../packages/core/src/sketch/index.js';
import { comparePair, RUN_COUNT } from './compare.js';

// bloom-filters is CommonJS with getter exports that Node's ESM loader cannot name statically.
const BaselineBloomFilter = bloomFilters.BloomFilter;
const baselineName = `bloom-filters ${(createRequire(import.meta.url)('bloom-filters/package.json') as { version: string }).version}`;

const itemCount = 100_000;
const targetFalsePositiveRate = 0.01;

const members = Array.from({ length: itemCount }, (_, index) => `member:${index}`);
const absentKeys = Array.from({ length: itemCount }, (_, index) => `absent:${index}`);
/** Half members, half absent: a lookup mix where `has` both hits and misses. */
const lookupKeys = members.map((key, index) => (index % 2 === 0 ? key : absentKeys[index]!));

interface Filter {
  add(key: string): void;
  has(key: string): boolean;
}

/** Ops/s of `body` over `opCount` operations, built fresh by `setup` so that only the loop is timed. */
function time<State>(setup: () => State, body: (state: State) => number, opCount: number): number {
  const state = setup();
  const started = performance.now();
  const sink = body(state);
  const elapsedMs = performance.now() - started;
  if (sink < 0) console.error('unreachable: keeps the loop observable');
  return (opCount / elapsedMs) * 1000;
}

function addAll(filter: Filter): number {
  for (const key of members) filter.add(key);
  return 0;
}

function lookUpAll(filter: Filter): number {
  let hits = 0;
  for (const key of lookupKeys) if (filter.has(key)) hits++;
  return hits;
}

function measuredFalsePositiveRate(filter: Filter): number {
  let falsePositives = 0;
  for (const key of absentKeys) if (filter.has(key)) falsePositives++;
  return falsePositives / absentKeys.length;
}

const createSynod = () => BloomFilter.create(itemCount, targetFalsePositiveRate);
const createBaseline = () => BaselineBloomFilter.create(itemCount, targetFalsePositiveRate);
const filled = <F extends Filter>(filter: F): F => {
  addAll(filter);
  return filter;
};

console.error(`bloom: n=${itemCount}, target FPR ${targetFalsePositiveRate}, ${RUN_COUNT} runs`);
const [synodAdd, baselineAdd] = await comparePair(
  'bloom add',
  () => time(createSynod, addAll, itemCount),
  () => time(createBaseline, addAll, itemCount),
);
const synodFilled = filled(createSynod());
const baselineFilled = filled(createBaseline());
const [synodHas, baselineHas] = await comparePair(
  'bloom has',
  () => time(() => synodFilled, lookUpAll, itemCount),
  () => time(() => baselineFilled, lookUpAll, itemCount),
);

const accuracy = {
  itemCount,
  targetFalsePositiveRate,
  synodBitsPerElement: synodFilled.bitCount / itemCount,
  baselineBitsPerElement: baselineFilled.size / itemCount,
  synodHashCount: synodFilled.hashCount,
  baselineHashCount: baselineFilled._nbHashes,
  synodMeasuredFalsePositiveRate: measuredFalsePositiveRate(synodFilled),
  baselineMeasuredFalsePositiveRate: measuredFalsePositiveRate(baselineFilled),
};
const line = (name: string, synodOpsPerSec: number, baselineOpsPerSec: number) => ({
  name,
  baseline: baselineName,
  synodOpsPerSec: Math.round(synodOpsPerSec),
  baselineOpsPerSec: Math.round(baselineOpsPerSec),
  ratio: Number((synodOpsPerSec / baselineOpsPerSec).toFixed(2)),
  runs: RUN_COUNT,
  ...accuracy,
});
console.log(JSON.stringify(line('bloom add', synodAdd, baselineAdd)));
console.log(JSON.stringify(line('bloom has', synodHas, baselineHas)));
