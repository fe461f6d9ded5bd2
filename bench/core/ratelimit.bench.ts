// In-memory rate limiting: @synod/core's token bucket (one key, and per key through the LRU-bounded
// KeyedRateLimiter) and fixed window against rate-limiter-flexible's RateLimiterMemory, the usual
// choice in Node. RateLimiterMemory is promise-based (a refusal is a rejection), ours is synchronous,
// so each scenario is run twice: once with our decision wrapped in an awaited promise (like for
// like), once on our synchronous path (what a caller of ours actually pays), both against the same
// awaited baseline. One JSON line per comparison on stdout; progress on stderr.
import { RateLimiterMemory } from 'rate-limiter-flexible';
import {
  FixedWindow,
  KeyedRateLimiter,
  type RateLimitDecision,
  TokenBucket,
  tokenBucketAlgorithm,
} from '../../packages/core/src/ratelimit/index.js';
import { collectGarbage, compareRuns, median, RUN_COUNT, versionOf, WARMUP_RUN_COUNT } from './compare.js';

const requestsPerRun = 200_000;
const keyCount = 10_000;
/** Budgets so large that every request is admitted: these runs measure the admitting path. */
const unlimitedPoints = 1e12;
const windowSeconds = 3_600;
/** The refusing scenario: 100 admitted per window, the rest refused. */
const smallLimit = 100;

const keys = Array.from({ length: keyCount }, (_, index) => `client-${index}`);

/** A side runs `requestsPerRun` requests and returns how many were admitted. */
type Side = () => Promise<number> | number;

async function rate(side: Side): Promise<{ opsPerSec: number; admitted: number }> {
  collectGarbage();
  const started = performance.now();
  const admitted = await side();
  return { opsPerSec: (requestsPerRun / (performance.now() - started)) * 1000, admitted };
}

/** Medians of both sides, plus the admitted counts (which must match the budget). */
async function compare(label: string, synod: Side, baseline: Side) {
  const [synodRuns = [], baselineRuns = []] = await compareRuns(label, [
    () => rate(synod),
    () => rate(baseline),
  ]);
  return {
    synodOpsPerSec: median(synodRuns.map((run) => run.opsPerSec)),
    baselineOpsPerSec: median(baselineRuns.map((run) => run.opsPerSec)),
    synodAdmittedPerRun: synodRuns.at(-1)?.admitted ?? 0,
    baselineAdmittedPerRun: baselineRuns.at(-1)?.admitted ?? 0,
  };
}

const baselineName = versionOf('rate-limiter-flexible');
function report(
  name: string,
  synodPath: 'promise' | 'sync',
  result: Awaited<ReturnType<typeof compare>>,
  extra = {},
) {
  console.log(
    JSON.stringify({
      name,
      baseline: `${baselineName} RateLimiterMemory (promise)`,
      synodPath,
      synodOpsPerSec: Math.round(result.synodOpsPerSec),
      baselineOpsPerSec: Math.round(result.baselineOpsPerSec),
      ratio: Number((result.synodOpsPerSec / result.baselineOpsPerSec).toFixed(2)),
      synodAdmittedPerRun: result.synodAdmittedPerRun,
      baselineAdmittedPerRun: result.baselineAdmittedPerRun,
      requestsPerRun,
      runs: RUN_COUNT,
      ...extra,
    }),
  );
}

/** Requests through a synchronous limiter, each decision awaited as a promise (like the baseline). */
function viaPromise(decide: (index: number) => RateLimitDecision): Side {
  return async () => {
    let admitted = 0;
    for (let index = 0; index < requestsPerRun; index++) {
      if ((await Promise.resolve(decide(index))).allowed) admitted++;
    }
    return admitted;
  };
}

function synchronously(decide: (index: number) => RateLimitDecision): Side {
  return () => {
    let admitted = 0;
    for (let index = 0; index < requestsPerRun; index++) if (decide(index).allowed) admitted++;
    return admitted;
  };
}

/** rate-limiter-flexible: resolves when admitted, rejects with its result object when refused. */
function baselineSide(limiter: RateLimiterMemory, keyOf: (index: number) => string): Side {
  return async () => {
    let admitted = 0;
    for (let index = 0; index < requestsPerRun; index++) {
      try {
        await limiter.consume(keyOf(index));
        admitted++;
      } catch {
        // refused
      }
    }
    return admitted;
  };
}

console.error(
  `ratelimit: ${requestsPerRun} requests per run, ${RUN_COUNT} runs (+${WARMUP_RUN_COUNT} warm-up)`,
);

const oneKey = () => 'client-0';
const roundRobinKey = (index: number) => keys[index % keyCount] as string;

const bucket = new TokenBucket({ capacity: unlimitedPoints, refillPerSecond: unlimitedPoints });
const unlimited = () => new RateLimiterMemory({ points: unlimitedPoints, duration: windowSeconds });
const singleKeyBaseline = unlimited();
for (const path of ['promise', 'sync'] as const) {
  const decide = () => bucket.tryAcquire();
  const synod = path === 'promise' ? viaPromise(decide) : synchronously(decide);
  report(
    'token bucket, one key, admitted',
    path,
    await compare(`one key (${path})`, synod, baselineSide(singleKeyBaseline, oneKey)),
  );
}

const perKey = new KeyedRateLimiter(
  tokenBucketAlgorithm,
  { capacity: unlimitedPoints, refillPerSecond: unlimitedPoints },
  { maxKeys: 2 * keyCount },
);
const perKeyBaseline = unlimited();
for (const path of ['promise', 'sync'] as const) {
  const decide = (index: number) => perKey.tryAcquire(roundRobinKey(index));
  const synod = path === 'promise' ? viaPromise(decide) : synchronously(decide);
  report(
    `token bucket per key, ${keyCount} keys round robin, admitted`,
    path,
    await compare(`per key (${path})`, synod, baselineSide(perKeyBaseline, roundRobinKey)),
    { keyCount },
  );
}

// Same algorithm on both sides (RateLimiterMemory is a fixed window): a fresh limiter per run, so
// both admit exactly `smallLimit` and refuse everything else; the admitted counts must agree.
for (const path of ['promise', 'sync'] as const) {
  const synod: Side = () => {
    const window = new FixedWindow({ limit: smallLimit, windowMs: windowSeconds * 1000 });
    const decide = () => window.tryAcquire();
    return (path === 'promise' ? viaPromise(decide) : synchronously(decide))();
  };
  const baseline: Side = () =>
    baselineSide(new RateLimiterMemory({ points: smallLimit, duration: windowSeconds }), oneKey)();
  report(
    `fixed window, one key, ${smallLimit} admitted then refused`,
    path,
    await compare(`refusing (${path})`, synod, baseline),
  );
}
