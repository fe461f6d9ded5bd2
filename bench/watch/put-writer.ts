// The fan-out writer: puts under the prefix at a fixed rate, open loop (a put is sent when it is
// due, not when the previous one is answered), each value stamped with its sequence number and
// send time. In-flight puts are bounded; when the bound is reached the writer waits and says so.

import { RawEtcdClient } from '../../packages/server/src/e2e/grpc-client.js';
import { encodePutRequest } from '../../packages/server/src/etcd-api/proto/messages.js';
import { monotonicMs, sleep } from './clock.js';
import { LatencyHistogram } from './latency-histogram.js';
import { stampedValue } from './stamped-value.js';

/** Puts awaiting an answer; past this the writer stops sending and counts the wait. */
const IN_FLIGHT_MAX = 1_000;
/** A put unanswered after this fails the run (its outcome is unknown). */
const PUT_TIMEOUT_MS = 10_000;
/** Keys the writer cycles through under the prefix (the store does not grow a key per put). */
const KEYS = 100;
/** The writer wakes at most this often; every put that is due by then goes out. */
const TICK_MS = 1;

export interface WriterRun {
  readonly putsPerSecond: number;
  readonly sent: number;
  readonly acknowledged: number;
  readonly failed: number;
  readonly firstFailure: string | undefined;
  /** The rate actually achieved from first send to last send. */
  readonly sendRate: number;
  /** Times the writer had to wait because IN_FLIGHT_MAX puts were unanswered. */
  readonly inFlightStalls: number;
  readonly putLatencyP50Ms: number;
  readonly putLatencyP99Ms: number;
  readonly firstSentAtMs: number;
  readonly lastSentAtMs: number;
}

/** Writes `putsPerSecond × seconds` puts to `url`, then waits for every answer. */
export async function writeAtRate(
  url: string,
  prefix: string,
  putsPerSecond: number,
  seconds: number,
): Promise<WriterRun> {
  const client = new RawEtcdClient(url);
  const total = Math.round(putsPerSecond * seconds);
  const latency = new LatencyHistogram();
  const pending = new Set<Promise<void>>();
  let acknowledged = 0;
  let failed = 0;
  let firstFailure: string | undefined;
  let inFlightStalls = 0;
  const send = (sequence: number) => {
    const sentAtMs = monotonicMs();
    const request = {
      key: Buffer.from(`${prefix}${String(sequence % KEYS).padStart(3, '0')}`),
      value: stampedValue(sequence, sentAtMs),
      lease: 0n,
      prevKv: false,
      ignoreValue: false,
      ignoreLease: false,
    };
    const put = client.call('/etcdserverpb.KV/Put', encodePutRequest(request), PUT_TIMEOUT_MS).then(
      () => {
        acknowledged++;
        latency.record((monotonicMs() - sentAtMs) * 1000);
      },
      (error: Error) => {
        failed++;
        firstFailure ??= error.message;
      },
    );
    pending.add(put);
    void put.finally(() => pending.delete(put));
    return sentAtMs;
  };
  const startMs = monotonicMs();
  let firstSentAtMs = 0;
  let lastSentAtMs = 0;
  try {
    for (let sequence = 0; sequence < total; ) {
      const dueMs = startMs + (sequence * 1000) / putsPerSecond;
      if (monotonicMs() < dueMs) await sleep(Math.min(TICK_MS, dueMs - monotonicMs()));
      else if (pending.size >= IN_FLIGHT_MAX) {
        inFlightStalls++;
        await Promise.race(pending);
      } else {
        lastSentAtMs = send(sequence++);
        if (firstSentAtMs === 0) firstSentAtMs = lastSentAtMs;
      }
    }
    await Promise.all(pending);
  } finally {
    client.close();
  }
  const sendSeconds = (lastSentAtMs - firstSentAtMs) / 1000;
  return {
    putsPerSecond,
    sent: total,
    acknowledged,
    failed,
    firstFailure,
    sendRate: sendSeconds > 0 ? (total - 1) / sendSeconds : Number.NaN,
    inFlightStalls,
    putLatencyP50Ms: latency.quantileUs(0.5) / 1000,
    putLatencyP99Ms: latency.quantileUs(0.99) / 1000,
    firstSentAtMs,
    lastSentAtMs,
  };
}
