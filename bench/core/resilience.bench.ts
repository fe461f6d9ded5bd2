// Resilience policies: per-call overhead of @synod/core's circuit breaker and retry on a
// successful async call, against cockatiel (policy objects, the closest design) and opossum
// (the most used Node breaker). Every call is awaited in turn, so a run measures the latency a
// policy adds to one call. Each comparison also reports the bare call's rate and the nanoseconds
// each side adds to it. One JSON line per comparison on stdout; progress on stderr.
import {
  ConsecutiveBreaker,
  circuitBreaker as cockatielCircuitBreaker,
  retry as cockatielRetry,
  wrap as cockatielWrap,
  ExponentialBackoff,
  handleAll,
} from 'cockatiel';
import CircuitBreaker from 'opossum';
import { circuitBreaker, exponentialBackoff, retry, wrap } from '../../packages/core/src/resilience/index.js';
import { collectGarbage, compareSides, RUN_COUNT, versionOf, WARMUP_RUN_COUNT } from './compare.js';

const callsPerRun = 200_000;
const failureThreshold = 5;
const openDurationMs = 10_000;
const maxAttempts = 3;

/** The protected call: already-resolved async work, so the policy's own cost dominates. */
const operation = async (): Promise<number> => 1;

/** Calls/s of `call`, awaited one after another; checks every call really ran. */
async function rate(call: () => Promise<number>): Promise<number> {
  collectGarbage();
  let total = 0;
  const started = performance.now();
  for (let index = 0; index < callsPerRun; index++) total += await call();
  const elapsedMs = performance.now() - started;
  if (total !== callsPerRun) throw new Error(`only ${total} of ${callsPerRun} calls returned their value`);
  return (callsPerRun / elapsedMs) * 1000;
}

function compare(label: string, sides: readonly (() => Promise<number>)[]): Promise<number[]> {
  return compareSides(
    label,
    sides.map((side) => () => rate(side)),
  );
}

function report(name: string, baseline: string, [synod, baselineRate, raw]: number[]): void {
  const overheadNs = (opsPerSec: number) => Math.round(1e9 / opsPerSec - 1e9 / (raw ?? Number.NaN));
  const synodOpsPerSec = synod ?? Number.NaN;
  const baselineOpsPerSec = baselineRate ?? Number.NaN;
  console.log(
    JSON.stringify({
      name,
      baseline,
      synodOpsPerSec: Math.round(synodOpsPerSec),
      baselineOpsPerSec: Math.round(baselineOpsPerSec),
      ratio: Number((synodOpsPerSec / baselineOpsPerSec).toFixed(2)),
      bareCallOpsPerSec: Math.round(raw ?? Number.NaN),
      synodOverheadNsPerCall: overheadNs(synodOpsPerSec),
      baselineOverheadNsPerCall: overheadNs(baselineOpsPerSec),
      callsPerRun,
      runs: RUN_COUNT,
    }),
  );
}

const cockatiel = versionOf('cockatiel');
const opossum = versionOf('opossum');
console.error(
  `resilience: ${callsPerRun} awaited calls per run, ${RUN_COUNT} runs (+${WARMUP_RUN_COUNT} warm-up)`,
);

// Same configuration on every side: trip after 5 consecutive failures, probe after 10 s.
const synodBreaker = circuitBreaker({
  tripPolicy: { kind: 'consecutive', failureThreshold },
  openDurationMs,
});
const cockatielBreaker = cockatielCircuitBreaker(handleAll, {
  halfOpenAfter: openDurationMs,
  breaker: new ConsecutiveBreaker(failureThreshold),
});
// opossum's per-call timeout is off: neither other side times calls out. Its rolling statistics
// cannot be turned off; they are part of what a user of opossum pays.
const opossumBreaker = new CircuitBreaker(operation, { timeout: false, resetTimeout: openDurationMs });
const synodRetry = retry({
  maxAttempts,
  backoff: exponentialBackoff({ initialDelayMs: 128, maxDelayMs: 30_000 }),
});
const cockatielRetryPolicy = cockatielRetry(handleAll, { maxAttempts, backoff: new ExponentialBackoff() });
const synodBoth = wrap(
  retry({ maxAttempts, backoff: exponentialBackoff({ initialDelayMs: 128 }) }),
  circuitBreaker({ tripPolicy: { kind: 'consecutive', failureThreshold }, openDurationMs }),
);
const cockatielBoth = cockatielWrap(
  cockatielRetry(handleAll, { maxAttempts, backoff: new ExponentialBackoff() }),
  cockatielCircuitBreaker(handleAll, {
    halfOpenAfter: openDurationMs,
    breaker: new ConsecutiveBreaker(failureThreshold),
  }),
);

report(
  'circuit breaker, successful async call',
  cockatiel,
  await compare('breaker vs cockatiel', [
    () => synodBreaker.execute(operation),
    () => cockatielBreaker.execute(operation),
    operation,
  ]),
);
report(
  'circuit breaker, successful async call',
  opossum,
  await compare('breaker vs opossum', [
    () => synodBreaker.execute(operation),
    () => opossumBreaker.fire(),
    operation,
  ]),
);
report(
  'retry, successful async call',
  cockatiel,
  await compare('retry vs cockatiel', [
    () => synodRetry.execute(operation),
    () => cockatielRetryPolicy.execute(operation),
    operation,
  ]),
);
report(
  'retry wrapping a circuit breaker, successful async call',
  cockatiel,
  await compare('retry+breaker vs cockatiel', [
    () => synodBoth.execute(operation),
    () => cockatielBoth.execute(operation),
    operation,
  ]),
);
opossumBreaker.shutdown();
