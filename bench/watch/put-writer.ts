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

/** Puts sent one by one, answers counted as they come. */
class PutSender {
  private readonly client: RawEtcdClient;
  private readonly prefix: string;
  readonly latency = new LatencyHistogram();
  readonly pending = new Set<Promise<void>>();
  acknowledged = 0;
  failed = 0;
  firstFailure: string | undefined;

  constructor(client: RawEtcdClient, prefix: string) {
    this.client = client;
    this.prefix = prefix;
  }

  /** Sends put number `sequence` now; returns its send time. */
  send(sequence: number): number {
    const sentAtMs = monotonicMs();
    const body = encodePutRequest({
      key: Buffer.from(`${this.prefix}${String(sequence % KEYS).padStart(3, '0')}`),
      value: stampedValue(sequence, sentAtMs),
      lease: 0n,
      prevKv: false,
      ignoreValue: false,
      ignoreLease: false,
    });
    const put = this.client.call('/etcdserverpb.KV/Put', body, PUT_TIMEOUT_MS).then(
      () => {
        this.acknowledged++;
        this.latency.record((monotonicMs() - sentAtMs) * 1000);
      },
      (error: Error) => {
        this.failed++;
        this.firstFailure ??= error.message;
      },
    );
    this.pending.add(put);
    void put.finally(() => this.pending.delete(put));
    return sentAtMs;
  }
}

/** Writes `putsPerSecond × seconds` puts to `url`, then waits for every answer. */
export async function writeAtRate(
  url: string,
  prefix: string,
  putsPerSecond: number,
  seconds: number,
): Promise<WriterRun> {
  const client = new RawEtcdClient(url);
  const sender = new PutSender(client, prefix);
  const total = Math.round(putsPerSecond * seconds);
  const startMs = monotonicMs();
  let firstSentAtMs = 0;
  let lastSentAtMs = 0;
  let inFlightStalls = 0;
  try {
    for (let sequence = 0; sequence < total; ) {
      const dueMs = startMs + (sequence * 1000) / putsPerSecond;
      if (monotonicMs() < dueMs) await sleep(Math.min(TICK_MS, dueMs - monotonicMs()));
      else if (sender.pending.size >= IN_FLIGHT_MAX) {
        inFlightStalls++;
        await Promise.race(sender.pending);
      } else {
        lastSentAtMs = sender.send(sequence++);
        if (firstSentAtMs === 0) firstSentAtMs = lastSentAtMs;
      }
    }
    await Promise.all(sender.pending);
  } finally {
    client.close();
  }
  const sendSeconds = (lastSentAtMs - firstSentAtMs) / 1000;
  return {
    putsPerSecond,
    sent: total,
    acknowledged: sender.acknowledged,
    failed: sender.failed,
    firstFailure: sender.firstFailure,
    sendRate: sendSeconds > 0 ? (total - 1) / sendSeconds : Number.NaN,
    inFlightStalls,
    putLatencyP50Ms: sender.latency.quantileUs(0.5) / 1000,
    putLatencyP99Ms: sender.latency.quantileUs(0.99) / 1000,
    firstSentAtMs,
    lastSentAtMs,
  };
}
