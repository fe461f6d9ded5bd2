// Closed-loop latency through the etcd3 npm client (the client our users run): N concurrent
// workers, each issuing its next call as soon as the last one returns, for a fixed time after a
// warm-up whose calls are not counted.
import { noop } from 'cockatiel';
import { Etcd3 } from 'etcd3';

export const LATENCY_OPERATIONS = ['put', 'get', 'sget'] as const;
export type LatencyOperation = (typeof LATENCY_OPERATIONS)[number];

export const LATENCY_OPERATION_NAMES: Readonly<Record<LatencyOperation, string>> = {
  put: 'put',
  get: 'linearizable get',
  sget: 'serializable get',
};

/** gRPC channels the workers share, as an application would pool a few clients. */
const CONNECTIONS_MAX = 4;
/** Keys each worker cycles through; the get phases read what the put phase wrote. */
const KEYS_PER_WORKER = 100;
/** Latency samples kept per phase (8 bytes each); later ones are counted but not kept. */
const SAMPLES_MAX = 1_000_000;
const VALUE = 'v'.repeat(256);

export interface LatencyResult {
  readonly operation: LatencyOperation;
  readonly clients: number;
  readonly operations: number;
  readonly seconds: number;
  readonly operationsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly errors: number;
}

export interface LatencyTiming {
  readonly warmupMs: number;
  readonly measureMs: number;
}

/** Runs put, then linearizable get, then serializable get with `clients` workers. */
export async function measureLatencies(
  endpoints: readonly string[],
  clients: number,
  timing: LatencyTiming,
  onResult: (result: LatencyResult) => void,
): Promise<LatencyResult[]> {
  // No retries and no circuit breaker: a failed call is counted, not hidden.
  const pool = Array.from(
    { length: Math.min(CONNECTIONS_MAX, clients) },
    () => new Etcd3({ hosts: [...endpoints], faultHandling: { host: () => noop, global: noop } }),
  );
  const results: LatencyResult[] = [];
  try {
    for (const operation of LATENCY_OPERATIONS) {
      const result = await runPhase(pool, operation, clients, timing);
      results.push(result);
      onResult(result);
    }
  } finally {
    for (const client of pool) client.close();
  }
  return results;
}

function callOf(client: Etcd3, operation: LatencyOperation, key: string): Promise<unknown> {
  if (operation === 'put') return client.put(key).value(VALUE).exec();
  if (operation === 'get') return client.get(key).string();
  return client.get(key).serializable(true).string();
}

async function runPhase(
  pool: readonly Etcd3[],
  operation: LatencyOperation,
  clients: number,
  timing: LatencyTiming,
): Promise<LatencyResult> {
  const samples = new Float64Array(SAMPLES_MAX);
  let sampleCount = 0;
  let completedInWindow = 0;
  let errors = 0;
  const measureFrom = performance.now() + timing.warmupMs;
  const measureUntil = measureFrom + timing.measureMs;
  const worker = async (index: number) => {
    const client = pool[index % pool.length]!;
    for (let sequence = 0; performance.now() < measureUntil; sequence++) {
      const key = `bench/kv/latency/${index}/${sequence % KEYS_PER_WORKER}`;
      const startedAt = performance.now();
      let failed = false;
      try {
        await callOf(client, operation, key);
      } catch {
        failed = true;
      }
      const endedAt = performance.now();
      // Latency: every call started in the window (the warm-up's are dropped). Rate: the calls
      // that completed in the window.
      if (startedAt >= measureFrom) {
        if (failed) errors++;
        else if (sampleCount < SAMPLES_MAX) samples[sampleCount++] = endedAt - startedAt;
      }
      if (!failed && endedAt >= measureFrom && endedAt <= measureUntil) completedInWindow++;
    }
  };
  await Promise.all(Array.from({ length: clients }, (_, index) => worker(index)));
  const sorted = samples.subarray(0, sampleCount).sort();
  const seconds = timing.measureMs / 1000;
  return {
    operation,
    clients,
    operations: completedInWindow,
    seconds,
    operationsPerSecond: Math.round(completedInWindow / seconds),
    p50Ms: percentile(sorted, 0.5),
    p99Ms: percentile(sorted, 0.99),
    errors,
  };
}

/** Nearest-rank percentile of sorted samples. */
function percentile(sorted: Float64Array, fraction: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.max(1, Math.ceil(fraction * sorted.length));
  return sorted[rank - 1]!;
}
