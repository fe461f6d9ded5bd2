// What observability costs a member: the gRPC call observer per call (RED metrics and a no-op
// request span, with and without a caller's traceparent) against prom-client's own labelled
// counter and histogram; one /metrics scrape of a member-sized registry; and one log line with a
// synchronous versus an asynchronous pino destination. Prints one JSON line per case. Not a test.
// Usage: node --import tsx packages/server/src/observability/observability.bench.ts
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import type { ServerHttp2Stream } from 'node:http2';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { Counter, Histogram, Registry } from 'prom-client';
import { createLogger } from '../node/logger.js';
import type { PeerStats } from '../transport/transport-options.js';
import { GrpcObserver } from './grpc-observer.js';
import { GrpcMetrics, SynodMetrics } from './metrics.js';

const CALLS = 1_000_000;
const ROUNDS = 5;
const SCRAPES = 200;
const LOG_LINES = 100_000;
const METHODS = [
  '/etcdserverpb.KV/Range',
  '/etcdserverpb.KV/Put',
  '/etcdserverpb.KV/DeleteRange',
  '/etcdserverpb.KV/Txn',
  '/etcdserverpb.Lease/LeaseGrant',
  '/etcdserverpb.Watch/Watch',
];
const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
const stream = {} as ServerHttp2Stream;
const noop = (): void => {};

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** Nanoseconds per call of `body`, median of ROUNDS rounds of `count` calls (after one warm-up round). */
function nsPerCall(count: number, body: (i: number) => void): number {
  const rounds: number[] = [];
  for (let round = 0; round <= ROUNDS; round++) {
    const started = process.hrtime.bigint();
    for (let i = 0; i < count; i++) body(i);
    const ns = Number(process.hrtime.bigint() - started) / count;
    if (round > 0) rounds.push(ns);
  }
  return median(rounds);
}

function print(result: Record<string, unknown>): void {
  console.log(JSON.stringify(result));
}

function benchObserver(): void {
  const metrics = new SynodMetrics({ processMetrics: false });
  const observer = new GrpcObserver({ metrics: metrics.grpc });
  const plain = { ':path': METHODS[1] };
  const traced = { ':path': METHODS[1], traceparent: TRACEPARENT };
  const observe = (headers: typeof plain) => (i: number) => {
    const observation = observer.callStarted(METHODS[i % METHODS.length]!, headers);
    observation.run(stream, noop);
    observation.callEnded(0);
  };
  print({ bench: 'grpc-observer', case: 'no traceparent', nsPerCall: nsPerCall(CALLS, observe(plain)) });
  print({
    bench: 'grpc-observer',
    case: 'traceparent, no SDK',
    nsPerCall: nsPerCall(CALLS, observe(traced)),
  });
  const metricsOnly = (i: number) => {
    GrpcMetrics.record(metrics.grpc.forMethod(METHODS[i % METHODS.length]!), 0, 0.001);
  };
  print({ bench: 'grpc-observer', case: 'metrics only (cells)', nsPerCall: nsPerCall(CALLS, metricsOnly) });
  const registry = new Registry();
  const counter = new Counter({
    name: 'c_total',
    help: 'c',
    labelNames: ['method', 'code'],
    registers: [registry],
  });
  const histogram = new Histogram({
    name: 'h_seconds',
    help: 'h',
    labelNames: ['method'],
    registers: [registry],
  });
  const children = METHODS.map((method) => ({
    counter: counter.labels(method, 'OK'),
    histogram: histogram.labels(method),
  }));
  const promClient = (i: number) => {
    const child = children[i % children.length]!;
    child.counter.inc();
    child.histogram.observe(0.001);
  };
  print({
    bench: 'grpc-observer',
    case: 'prom-client cached children (comparison)',
    nsPerCall: nsPerCall(CALLS, promClient),
  });
}

async function benchScrape(): Promise<void> {
  const peers = new Map<string, PeerStats>(
    ['a', 'b', 'c', 'd'].map((nodeId) => [
      nodeId,
      {
        nodeId,
        connected: true,
        linkBlocked: false,
        queuedBytes: 0,
        queuedMessages: 0,
        sentMessages: 1,
        sentBatches: 1,
        sentBytes: 1,
        receivedMessages: 1,
        droppedMessages: 0,
        blockedMessages: 0,
        reconnects: 0,
        rttMs: 0.3,
      },
    ]),
  );
  const metrics = new SynodMetrics({
    sources: {
      raft: () => ({ term: 3, commitIndex: 9, appliedIndex: 9, lastIndex: 9, role: 'leader', leader: 'a' }),
      walBytesWritten: () => 1,
      peers: () => peers,
    },
  });
  for (const method of METHODS)
    for (let code = 0; code < 4; code++)
      GrpcMetrics.record(metrics.grpc.forMethod(method.slice(1)), code, 0.01);
  const timesMs: number[] = [];
  let bytes = 0;
  for (let i = 0; i < SCRAPES; i++) {
    const started = performance.now();
    bytes = (await metrics.scrape()).body.length;
    timesMs.push(performance.now() - started);
  }
  print({ bench: 'metrics-scrape', medianMs: Number(median(timesMs).toFixed(3)), bytes });
}

async function benchLogger(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'synod-log-bench-'));
  try {
    for (const sync of [true, false]) {
      const destination = pino.destination({
        dest: join(dir, `log-${sync}.jsonl`),
        sync,
        minLength: sync ? 0 : 4096,
      });
      if (!sync) await once(destination, 'ready');
      const logger = createLogger('info', { node: 'n1' }, (line) => destination.write(line));
      logger.bindContext(() => ({ group: '0', term: 7 }));
      const ns = nsPerCall(LOG_LINES, (i) => logger.info({ peer: 'b2', index: i }, 'peer connection lost'));
      destination.flushSync();
      print({
        bench: 'log-line',
        destination: sync ? 'sync (chosen)' : 'async (sonic-boom buffer)',
        nsPerLine: Math.round(ns),
      });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

benchObserver();
await benchScrape();
await benchLogger();
