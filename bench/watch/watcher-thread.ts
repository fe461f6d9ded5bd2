// A worker thread of the fan-out client: it holds some of the watch connections, creates its
// watches on the prefix, and for every event checks order (mod_revision strictly rising per
// watcher), counts it, and records its put-to-delivery time. Threads, so that receiving a million
// events a second is not limited by one event loop; what each thread's loop did is measured (ELU).
import type http2 from 'node:http2';
import { parentPort, workerData } from 'node:worker_threads';
import { encodeWatchRequest } from '../../packages/server/src/etcd-api/watch/watch-codec.js';
import type {
  FromWatcherThread,
  ToWatcherThread,
  WatchConnectionTarget,
  WatcherThreadSetup,
  WatcherThreadSummary,
} from './fanout-messages.js';
import { type BidiStream, connectSession, describeEnd, openBidiStream } from './grpc-stream.js';
import { LatencyHistogram } from './latency-histogram.js';
import { sentAtMsOf } from './stamped-value.js';
import { WatchLedger } from './watch-ledger.js';
import { EVENT_TYPE, scanWatchResponse } from './watch-response-scan.js';

const PROGRESS_INTERVAL_MS = 1_000;
const STREAM_FAILURES_MAX = 20;
const WATCH_PATH = '/etcdserverpb.Watch/Watch';

interface StreamState {
  readonly target: WatchConnectionTarget;
  readonly firstSlot: number;
  readonly slotsByWatchId: Map<number, number>;
  readonly histogram: LatencyHistogram;
  stream: BidiStream | undefined;
}

class WatcherThread {
  private readonly setup: WatcherThreadSetup;
  private readonly post: (message: FromWatcherThread) => void;
  private readonly watchers: number;
  /** Per watcher (slot): events counted and checked for order. */
  private readonly ledger: WatchLedger;
  private readonly streams: StreamState[] = [];
  private readonly sessions: http2.ClientHttp2Session[] = [];
  private readonly histograms = new Map<string, LatencyHistogram>();
  private readonly streamFailures: string[] = [];
  private created = 0;
  private foreignEvents = 0;
  private canceledWatches = 0;
  private firstArrivalMs = 0;
  private lastArrivalMs = 0;
  private finishing = false;

  constructor(setup: WatcherThreadSetup, post: (message: FromWatcherThread) => void) {
    this.setup = setup;
    this.post = post;
    this.watchers = setup.connections.length * setup.streamsPerConnection * setup.watchesPerStream;
    this.ledger = new WatchLedger(this.watchers);
  }

  start(): void {
    const prefix = Buffer.from(this.setup.prefix);
    const rangeEnd = Buffer.from(prefix);
    rangeEnd[rangeEnd.length - 1]!++;
    const create = encodeWatchRequest({
      kind: 'create',
      request: {
        key: prefix,
        rangeEnd,
        startRevision: 0,
        progressNotify: false,
        filters: [],
        prevKv: false,
        watchId: 0,
        fragment: false,
      },
    });
    for (const target of this.setup.connections) {
      const session = connectSession(target.url);
      this.sessions.push(session);
      const histogram = this.histograms.get(target.member) ?? new LatencyHistogram();
      this.histograms.set(target.member, histogram);
      for (let index = 0; index < this.setup.streamsPerConnection; index++) {
        const state: StreamState = {
          target,
          firstSlot: this.streams.length * this.setup.watchesPerStream,
          slotsByWatchId: new Map(),
          histogram,
          stream: undefined,
        };
        this.streams.push(state);
        this.openStream(session, state, create);
      }
    }
    setInterval(() => this.post({ kind: 'progress', ...this.progress() }), PROGRESS_INTERVAL_MS).unref();
  }

  private openStream(session: http2.ClientHttp2Session, state: StreamState, create: Uint8Array): void {
    const stream = openBidiStream(session, WATCH_PATH, (message, arrivedAtMs) =>
      this.onResponse(state, message, arrivedAtMs),
    );
    state.stream = stream;
    for (let watch = 0; watch < this.setup.watchesPerStream; watch++) stream.send(create);
    void stream.ended.then((end) => {
      if (this.finishing) return;
      const failure = `watch stream to ${state.target.member} (${state.target.url}) ${describeEnd(end)}`;
      if (this.streamFailures.length < STREAM_FAILURES_MAX) this.streamFailures.push(failure);
      this.post({ kind: 'failed', message: failure });
    });
  }

  private onResponse(state: StreamState, message: Uint8Array, arrivedAtMs: number): void {
    const response = scanWatchResponse(message);
    if (response.created) {
      const slot = state.firstSlot + state.slotsByWatchId.size;
      if (
        state.slotsByWatchId.size >= this.setup.watchesPerStream ||
        state.slotsByWatchId.has(response.watchId)
      )
        throw new Error(`unexpected created response for watch ${response.watchId}`);
      state.slotsByWatchId.set(response.watchId, slot);
      if (++this.created === this.watchers) this.post({ kind: 'created', watches: this.created });
    }
    if (response.canceled) {
      this.canceledWatches++;
      const failure = `watch ${response.watchId} on ${state.target.member} canceled: ${response.cancelReason}`;
      if (this.streamFailures.length < STREAM_FAILURES_MAX) this.streamFailures.push(failure);
    }
    if (response.events.length === 0) return;
    const slot = state.slotsByWatchId.get(response.watchId);
    if (this.firstArrivalMs === 0) this.firstArrivalMs = arrivedAtMs;
    this.lastArrivalMs = arrivedAtMs;
    for (const event of response.events) {
      const sentAtMs = sentAtMsOf(event.value);
      if (slot === undefined || event.type !== EVENT_TYPE.put || Number.isNaN(sentAtMs)) {
        this.foreignEvents++;
        continue;
      }
      state.histogram.record((arrivedAtMs - sentAtMs) * 1000);
      if (this.ledger.record(slot, event.modRevision)) this.post({ kind: 'complete' });
    }
  }

  onCommand(command: ToWatcherThread): void {
    if (command.kind === 'expect') {
      if (this.ledger.expect(command.events)) this.post({ kind: 'complete' });
    } else {
      this.finishing = true;
      this.post({ kind: 'summary', summary: this.summary() });
      for (const state of this.streams) state.stream?.cancel();
      for (const session of this.sessions) session.close();
    }
  }

  private progress(): { delivered: number; eventsPerWatcherMin: number } {
    return { delivered: this.ledger.delivered, eventsPerWatcherMin: this.ledger.eventsPerWatcherMin };
  }

  private summary(): WatcherThreadSummary {
    const { ledger } = this;
    return {
      watchers: this.watchers,
      delivered: ledger.delivered,
      watchersComplete: ledger.complete,
      eventsPerWatcherMin: ledger.eventsPerWatcherMin,
      eventsPerWatcherMax: ledger.eventsPerWatcherMax,
      orderViolations: ledger.orderViolations,
      foreignEvents: this.foreignEvents,
      canceledWatches: this.canceledWatches,
      latencyByMember: Object.fromEntries(
        [...this.histograms].map(([member, histogram]) => [member, histogram.toData()]),
      ),
      firstArrivalMs: this.firstArrivalMs,
      lastArrivalMs: this.lastArrivalMs,
      streamFailures: this.streamFailures,
    };
  }
}

if (parentPort === null) throw new Error('watcher-thread.ts runs as a worker thread of the fan-out bench');
const port = parentPort;
const thread = new WatcherThread(workerData as WatcherThreadSetup, (message) => port.postMessage(message));
port.on('message', (command: ToWatcherThread) => thread.onCommand(command));
thread.start();
