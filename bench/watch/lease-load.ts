// The lease load: create many leases, then keep them alive as clients would — one keep-alive per
// lease every TTL/3 (etcd's clientv3 renews at a third of the TTL), spread evenly over the period
// and over a few LeaseKeepAlive streams, each on its own connection, round-robin across members.
import type http2 from 'node:http2';
import { RawEtcdClient } from '../../packages/server/src/e2e/grpc-client.js';
import {
  decodeLeaseGrantResponse,
  decodeLeaseKeepAliveResponse,
  decodeLeaseLeasesResponse,
  encodeLeaseGrantRequest,
  encodeLeaseKeepAliveRequest,
} from '../../packages/server/src/etcd-api/lease/lease-messages.js';
import { monotonicMs, sleep } from './clock.js';
import { type BidiStream, connectSession, describeEnd, openBidiStream } from './grpc-stream.js';
import { LatencyHistogram } from './latency-histogram.js';

const GRANT_TIMEOUT_MS = 10_000;
const LEASES_TIMEOUT_MS = 10_000;
/** Keep-alives are sent by a ticker this often (each tick sends all that are due). */
const KEEPALIVE_TICK_MS = 10;
/** After the last keep-alive, answers get this long to arrive. */
const ANSWER_GRACE_MS = 5_000;
const STREAM_FAILURES_MAX = 20;
const KEEPALIVE_PATH = '/etcdserverpb.Lease/LeaseKeepAlive';

export interface GrantRun {
  readonly ids: bigint[];
  readonly seconds: number;
  readonly grantsPerSecond: number;
  readonly failed: number;
  readonly firstFailure: string | undefined;
}

/** Grants `count` leases of `ttlSeconds` through `url`, `concurrency` calls at a time. */
export async function grantLeases(
  url: string,
  count: number,
  ttlSeconds: number,
  concurrency: number,
): Promise<GrantRun> {
  const client = new RawEtcdClient(url);
  const ids: bigint[] = [];
  let next = 0;
  let failed = 0;
  let firstFailure: string | undefined;
  const startMs = monotonicMs();
  const grantNext = async (): Promise<void> => {
    while (next < count) {
      next++;
      try {
        const body = encodeLeaseGrantRequest({ ttl: ttlSeconds, id: 0n });
        const response = await client.call('/etcdserverpb.Lease/LeaseGrant', body, GRANT_TIMEOUT_MS);
        ids.push(decodeLeaseGrantResponse(response).id);
      } catch (error) {
        failed++;
        firstFailure ??= (error as Error).message;
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: concurrency }, grantNext));
  } finally {
    client.close();
  }
  const seconds = (monotonicMs() - startMs) / 1000;
  return { ids, seconds, grantsPerSecond: ids.length / seconds, failed, firstFailure };
}

export interface KeepAliveRun {
  readonly streams: number;
  readonly sent: number;
  readonly answered: number;
  /** Answers with TTL 0: the lease had expired (a failure of the run). */
  readonly expiredAnswers: number;
  /** Keep-alives still unanswered when the next one for the lease was due. */
  readonly overdue: number;
  readonly unanswered: number;
  readonly sendRate: number;
  readonly answerP50Ms: number;
  readonly answerP99Ms: number;
  readonly streamFailures: string[];
}

interface KeepAliveStream {
  readonly session: http2.ClientHttp2Session;
  readonly stream: BidiStream;
  /** Send time of the unanswered keep-alive of each lease. */
  readonly pending: Map<bigint, number>;
}

/**
 * Keeps `ids` alive for `seconds`: lease i is renewed at (i/N + k) × TTL/3 from the start, on
 * stream i mod `streams`; stream s connects to urls[s mod urls.length].
 */
export async function keepLeasesAlive(
  urls: readonly string[],
  ids: readonly bigint[],
  ttlSeconds: number,
  streamCount: number,
  seconds: number,
): Promise<KeepAliveRun> {
  const latency = new LatencyHistogram();
  const streamFailures: string[] = [];
  let answered = 0;
  let expiredAnswers = 0;
  let finishing = false;
  const streams: KeepAliveStream[] = Array.from({ length: streamCount }, (_, index) => {
    const url = urls[index % urls.length]!;
    const session = connectSession(url);
    const pending = new Map<bigint, number>();
    const stream = openBidiStream(session, KEEPALIVE_PATH, (message, arrivedAtMs) => {
      const response = decodeLeaseKeepAliveResponse(message);
      const sentAtMs = pending.get(response.id);
      if (sentAtMs === undefined) return;
      pending.delete(response.id);
      answered++;
      latency.record((arrivedAtMs - sentAtMs) * 1000);
      if (response.ttl <= 0) expiredAnswers++;
    });
    void stream.ended.then((end) => {
      if (!finishing && streamFailures.length < STREAM_FAILURES_MAX)
        streamFailures.push(`keep-alive stream to ${url} ${describeEnd(end)}`);
    });
    return { session, stream, pending };
  });
  const schedule = await sendOnSchedule(streams, ids, (ttlSeconds * 1000) / 3, seconds * 1000);
  const graceEnd = monotonicMs() + ANSWER_GRACE_MS;
  const unansweredCount = () => streams.reduce((total, { pending }) => total + pending.size, 0);
  while (unansweredCount() > 0 && monotonicMs() < graceEnd && streamFailures.length === 0)
    await sleep(KEEPALIVE_TICK_MS);
  finishing = true;
  for (const { stream, session } of streams) {
    stream.cancel();
    session.close();
  }
  return {
    streams: streamCount,
    sent: schedule.sent,
    answered,
    expiredAnswers,
    overdue: schedule.overdue,
    unanswered: unansweredCount(),
    sendRate: schedule.sent / seconds,
    answerP50Ms: latency.quantileUs(0.5) / 1000,
    answerP99Ms: latency.quantileUs(0.99) / 1000,
    streamFailures,
  };
}

/** Sends every keep-alive as it falls due until `durationMs` has passed. */
async function sendOnSchedule(
  streams: readonly KeepAliveStream[],
  ids: readonly bigint[],
  periodMs: number,
  durationMs: number,
): Promise<{ sent: number; overdue: number }> {
  const startMs = monotonicMs();
  const requests = ids.map((id) => encodeLeaseKeepAliveRequest({ id }));
  let sent = 0;
  let overdue = 0;
  for (let round = 0; ; round++) {
    for (let index = 0; index < ids.length; index++) {
      const dueMs = startMs + (round + index / ids.length) * periodMs;
      if (dueMs - startMs >= durationMs) return { sent, overdue };
      while (monotonicMs() < dueMs) await sleep(KEEPALIVE_TICK_MS);
      const { stream, pending } = streams[index % streams.length]!;
      if (pending.has(ids[index]!)) overdue++;
      pending.set(ids[index]!, monotonicMs());
      stream.send(requests[index]!);
      sent++;
    }
  }
}

/** How many of `ids` the member at `url` lists (LeaseLeases). */
export async function countLiveLeases(url: string, ids: readonly bigint[]): Promise<number> {
  const client = new RawEtcdClient(url);
  try {
    const response = await client.call(
      '/etcdserverpb.Lease/LeaseLeases',
      new Uint8Array(0),
      LEASES_TIMEOUT_MS,
    );
    const listed = new Set(decodeLeaseLeasesResponse(response).leases.map((lease) => lease.id));
    return ids.filter((id) => listed.has(id)).length;
  } finally {
    client.close();
  }
}
