// Async pool overhead: @synod/core's WorkerPool (and its Semaphore) against p-limit, the usual
// choice, running 100k trivial async tasks at concurrency 16, all submitted at once (p-limit's
// queue is unbounded, so ours gets a queue bound of 100k). Reports tasks/s. One JSON line per
// comparison on stdout; progress on stderr.
import pLimit from 'p-limit';
import { Semaphore, WorkerPool } from '../../packages/core/src/concurrency/index.js';
import { collectGarbage, comparePair, RUN_COUNT, versionOf, WARMUP_RUN_COUNT } from './compare.js';

const taskCount = 100_000;
const concurrency = 16;

/** The task: trivial async work, so the pool's own bookkeeping dominates. */
const task = async (): Promise<number> => 1;

/** A side submits `taskCount` tasks at once and awaits them all; returns the sum of their results. */
type Side = () => Promise<number>;

async function rate(side: Side): Promise<number> {
  collectGarbage();
  const started = performance.now();
  const total = await side();
  const elapsedMs = performance.now() - started;
  if (total !== taskCount) throw new Error(`only ${total} of ${taskCount} tasks completed`);
  return (taskCount / elapsedMs) * 1000;
}

function compare(label: string, synod: Side, baseline: Side): Promise<[number, number]> {
  return comparePair(
    label,
    () => rate(synod),
    () => rate(baseline),
  );
}

async function sumAll(results: Promise<number>[]): Promise<number> {
  return (await Promise.all(results)).reduce((sum, value) => sum + value, 0);
}

function report(name: string, [synodOpsPerSec, baselineOpsPerSec]: [number, number]): void {
  console.log(
    JSON.stringify({
      name,
      baseline: versionOf('p-limit'),
      synodOpsPerSec: Math.round(synodOpsPerSec),
      baselineOpsPerSec: Math.round(baselineOpsPerSec),
      ratio: Number((synodOpsPerSec / baselineOpsPerSec).toFixed(2)),
      taskCount,
      concurrency,
      runs: RUN_COUNT,
    }),
  );
}

console.error(
  `concurrency: ${taskCount} tasks at concurrency ${concurrency}, ${RUN_COUNT} runs (+${WARMUP_RUN_COUNT} warm-up)`,
);

const pool = new WorkerPool({ concurrency, maxQueueLength: taskCount });
const limit = pLimit(concurrency);
const baseline: Side = () => sumAll(Array.from({ length: taskCount }, () => limit(task)));

report(
  'worker pool, 100k trivial async tasks',
  await compare(
    'pool vs p-limit',
    () => sumAll(Array.from({ length: taskCount }, () => pool.run(task))),
    baseline,
  ),
);

const semaphore = new Semaphore(concurrency);
report(
  'semaphore withPermit, 100k trivial async tasks',
  await compare(
    'semaphore vs p-limit',
    () => sumAll(Array.from({ length: taskCount }, () => semaphore.withPermit(task))),
    baseline,
  ),
);
