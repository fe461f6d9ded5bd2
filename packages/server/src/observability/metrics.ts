// The Prometheus metrics of one Synod member, in its own prom-client Registry (tests run several
// members in one process). Names follow Prometheus conventions: base units, `_total` counters,
// `_seconds` and `_bytes` suffixes. State that already lives somewhere (Raft, transport, WAL
// counters) is read at scrape time through collect callbacks; only what happens per request or per
// fsync is counted as it happens, with plain increments (see cell-histogram.ts).
import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import type { PeerStats } from '../transport/transport-options.js';
import { CellHistogram, type HistogramCells } from './cell-histogram.js';

/** Every metric name starts with this. */
export const METRIC_PREFIX = 'synod_';
/** The `group` label of the single Raft group a member runs today. */
export const DEFAULT_RAFT_GROUP_LABEL = '0';
/**
 * How often the event-loop delay monitor samples, in ms. prom-client's default (10 ms) wakes an
 * idle member 100 times a second, which was most of its idle CPU; lag is still measured to the
 * nanosecond at each sample, only less often.
 */
export const EVENT_LOOP_SAMPLE_MS = 100;

/** Roles as the dashboard and metrics name them (`synod_raft_role{role}`). */
export const RAFT_ROLE_NAMES = ['leader', 'follower', 'candidate', 'pre-candidate', 'learner'] as const;
export type RaftRoleName = (typeof RAFT_ROLE_NAMES)[number];

/** gRPC request latency: 0.5 ms (a local serializable read) to 10 s (etcd's request timeout range). */
export const GRPC_DURATION_BUCKETS_SECONDS: readonly number[] = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];
/** WAL latency: 100 µs (tmpfs, NVMe) doubling to 6.5 s (a stalled disk). */
export const WAL_DURATION_BUCKETS_SECONDS: readonly number[] = Array.from(
  { length: 17 },
  (_, i) => 0.0001 * 2 ** i,
);

/** gRPC status code names (statuscodes.md), used as the `code` label. */
export const GRPC_CODE_NAMES = [
  'OK',
  'CANCELLED',
  'UNKNOWN',
  'INVALID_ARGUMENT',
  'DEADLINE_EXCEEDED',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED',
  'FAILED_PRECONDITION',
  'ABORTED',
  'OUT_OF_RANGE',
  'UNIMPLEMENTED',
  'INTERNAL',
  'UNAVAILABLE',
  'DATA_LOSS',
  'UNAUTHENTICATED',
] as const;

/** The Raft state gauges read at scrape time. */
export interface RaftGaugeState {
  readonly term: number;
  readonly commitIndex: number;
  readonly appliedIndex: number;
  readonly lastIndex: number;
  readonly role: RaftRoleName;
  /** The leader's raft id, '' when none is known. */
  readonly leader: string;
}

/** Where scrape-time values come from. Every source is optional (a metric without one reads 0 or is empty). */
export interface MetricSources {
  readonly raft?: () => RaftGaugeState;
  /** Monotonic WAL byte count (WalStats.bytesWritten). */
  readonly walBytesWritten?: () => number;
  /** Per-peer transport counters (PeerTransport.stats().peers). */
  readonly peers?: () => ReadonlyMap<string, PeerStats>;
}

export interface SynodMetricsOptions {
  readonly sources?: MetricSources;
  readonly group?: string;
  /** Node.js process metrics (CPU, memory, event loop lag, GC) with the `synod_` prefix; default true. */
  readonly processMetrics?: boolean;
}

/** Counters the Raft driver bumps as events happen (leader changes are also seen by RaftObserver). */
export class RaftEventCounters {
  private readonly leaderChanges: Counter<'group'>;
  private readonly proposals: Counter<'group'>;
  private readonly snapshots: Counter<'group'>;
  private readonly group: string;

  constructor(registry: Registry, group: string) {
    this.group = group;
    const counter = (name: string, help: string) =>
      new Counter({
        name: `${METRIC_PREFIX}raft_${name}`,
        help,
        labelNames: ['group'],
        registers: [registry],
      });
    this.leaderChanges = counter('leader_changes_total', 'Leader changes this member has seen.');
    this.proposals = counter(
      'proposals_total',
      'Commands this member handed to Raft (proposed or forwarded).',
    );
    this.snapshots = counter('snapshots_total', 'Snapshots this member saved or received.');
    for (const each of [this.leaderChanges, this.proposals, this.snapshots]) each.inc({ group }, 0);
  }

  /** A new leader (or a new term of the same leader) was observed. */
  onLeaderChange(): void {
    this.leaderChanges.inc({ group: this.group });
  }

  /** The driver proposed (or forwarded) `count` commands. */
  onProposal(count = 1): void {
    this.proposals.inc({ group: this.group }, count);
  }

  /** A snapshot was saved locally or installed from the leader. */
  onSnapshot(): void {
    this.snapshots.inc({ group: this.group });
  }
}

/** Latency observations the WAL reports (WalStats forwards to this). */
export class WalMetrics {
  private readonly fsync: HistogramCells;
  private readonly append: HistogramCells;

  constructor(registry: Registry) {
    const histogram = (name: string, help: string) => {
      const metric = new CellHistogram({
        name: `${METRIC_PREFIX}wal_${name}`,
        help,
        labelNames: [],
        buckets: WAL_DURATION_BUCKETS_SECONDS,
      });
      metric.register(registry);
      return metric.cells();
    };
    this.fsync = histogram('fsync_duration_seconds', 'Time of one WAL fdatasync (one per group commit).');
    this.append = histogram(
      'append_duration_seconds',
      'Time from a WAL append call until its records are durable (queueing, write and fsync).',
    );
  }

  observeFsyncSeconds(seconds: number): void {
    this.fsync.observe(seconds);
  }

  observeAppendSeconds(seconds: number): void {
    this.append.observe(seconds);
  }
}

/** The cells of one gRPC method: requests per status code and the latency histogram. */
export interface MethodCells {
  readonly requestsByCode: Float64Array;
  readonly duration: HistogramCells;
}

/** RED metrics of the gRPC front-end: rate and errors by method and code, duration by method. */
export class GrpcMetrics {
  /** Calls started and not yet ended. */
  inflight = 0;
  private readonly methods = new Map<string, MethodCells>();
  private readonly duration: CellHistogram;

  constructor(registry: Registry) {
    const methods = this.methods;
    this.duration = new CellHistogram({
      name: `${METRIC_PREFIX}grpc_request_duration_seconds`,
      help: 'gRPC call latency, from the request headers to the end of the stream.',
      labelNames: ['method'],
      buckets: GRPC_DURATION_BUCKETS_SECONDS,
    });
    this.duration.register(registry);
    new Counter({
      name: `${METRIC_PREFIX}grpc_requests_total`,
      help: 'gRPC calls finished, by method and status code.',
      labelNames: ['method', 'code'],
      registers: [registry],
      collect() {
        this.reset();
        for (const [method, cells] of methods) {
          cells.requestsByCode.forEach((count, code) => {
            if (count > 0) this.inc({ method, code: GRPC_CODE_NAMES[code] ?? String(code) }, count);
          });
        }
      },
    });
    const self = this;
    new Gauge({
      name: `${METRIC_PREFIX}grpc_inflight_requests`,
      help: 'gRPC calls in progress.',
      registers: [registry],
      collect() {
        this.set(self.inflight);
      },
    });
  }

  /** The cells of `method` (e.g. `etcdserverpb.KV/Put`); look up once per call, or cache. */
  forMethod(method: string): MethodCells {
    let cells = this.methods.get(method);
    if (cells === undefined) {
      cells = {
        requestsByCode: new Float64Array(GRPC_CODE_NAMES.length),
        duration: this.duration.cells(method),
      };
      this.methods.set(method, cells);
    }
    return cells;
  }

  /** Records a finished call. */
  static record(cells: MethodCells, code: number, seconds: number): void {
    if (code >= 0 && code < cells.requestsByCode.length) cells.requestsByCode[code]!++;
    cells.duration.observe(seconds);
  }
}

/** Gauges whose values live in stores the lead wires later (watch hub, lease table, MVCC backend). */
export type StoreGaugeName = 'watchers' | 'leases' | 'mvccKeys' | 'mvccDbSizeBytes';

const STORE_GAUGES: Readonly<Record<StoreGaugeName, { name: string; help: string }>> = {
  watchers: { name: 'watchers', help: 'Watchers open on this member.' },
  leases: { name: 'leases', help: 'Leases granted and not yet expired.' },
  mvccKeys: { name: 'mvcc_keys', help: 'Keys in the MVCC store (latest revision).' },
  mvccDbSizeBytes: { name: 'mvcc_db_size_bytes', help: 'Size of the MVCC store, in bytes.' },
};

/**
 * All metrics of one member.
 *
 * @example
 * const metrics = new SynodMetrics({ sources: { raft: () => ({ term: 3, … }) } });
 * metrics.raft.onProposal();
 * metrics.setStoreSource('watchers', () => watchHub.size);
 * const text = await metrics.registry.metrics();
 */
export class SynodMetrics {
  readonly registry = new Registry();
  readonly group: string;
  readonly raft: RaftEventCounters;
  readonly wal: WalMetrics;
  readonly grpc: GrpcMetrics;
  private readonly storeSources = new Map<StoreGaugeName, () => number>();

  constructor(options: SynodMetricsOptions = {}) {
    this.group = options.group ?? DEFAULT_RAFT_GROUP_LABEL;
    const sources = options.sources ?? {};
    this.raft = new RaftEventCounters(this.registry, this.group);
    this.wal = new WalMetrics(this.registry);
    this.grpc = new GrpcMetrics(this.registry);
    this.registerRaftGauges(sources.raft);
    this.registerWalBytes(sources.walBytesWritten);
    this.registerPeerMetrics(sources.peers);
    this.registerStoreGauges();
    if (options.processMetrics ?? true)
      collectDefaultMetrics({
        register: this.registry,
        prefix: METRIC_PREFIX,
        eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS,
      });
  }

  /** Points a store gauge at its source (read at every scrape; a throwing source reads as 0). */
  setStoreSource(name: StoreGaugeName, source: () => number): void {
    this.storeSources.set(name, source);
  }

  /** The exposition text and its content type. */
  async scrape(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  private registerRaftGauges(source: (() => RaftGaugeState) | undefined): void {
    const group = this.group;
    const gauge = (name: string, help: string, read: (state: RaftGaugeState) => number) =>
      new Gauge({
        name: `${METRIC_PREFIX}raft_${name}`,
        help,
        labelNames: ['group'],
        registers: [this.registry],
        collect() {
          const state = readState(source);
          if (state !== undefined) this.set({ group }, read(state));
        },
      });
    gauge('term', 'Current Raft term.', (state) => state.term);
    gauge('commit_index', 'Highest log index this member knows is committed.', (state) => state.commitIndex);
    gauge('applied_index', 'Highest log index applied to the state machine.', (state) => state.appliedIndex);
    gauge('last_index', 'Index of the last entry in this member’s log.', (state) => state.lastIndex);
    gauge('has_leader', '1 when this member knows a leader, else 0.', (state) =>
      state.leader === '' ? 0 : 1,
    );
    new Gauge({
      name: `${METRIC_PREFIX}raft_role`,
      help: 'This member’s Raft role: 1 for the current role, 0 for the others.',
      labelNames: ['group', 'role'],
      registers: [this.registry],
      collect() {
        const state = readState(source);
        if (state === undefined) return;
        for (const role of RAFT_ROLE_NAMES) this.set({ group, role }, role === state.role ? 1 : 0);
      },
    });
  }

  private registerWalBytes(source: (() => number) | undefined): void {
    new Counter({
      name: `${METRIC_PREFIX}wal_bytes_written_total`,
      help: 'Bytes written to WAL segments.',
      registers: [this.registry],
      collect() {
        this.reset();
        this.inc(readSafely(source));
      },
    });
  }

  private registerPeerMetrics(source: (() => ReadonlyMap<string, PeerStats>) | undefined): void {
    const perPeer = (
      kind: 'counter' | 'gauge',
      name: string,
      help: string,
      read: (stats: PeerStats) => number | undefined,
    ) => {
      const collect = function (this: Counter<'peer'> | Gauge<'peer'>) {
        this.reset();
        for (const [peer, stats] of readState(source) ?? []) {
          const value = read(stats);
          if (value === undefined) continue;
          if (this instanceof Counter) this.inc({ peer }, value);
          else this.set({ peer }, value);
        }
      };
      const config = {
        name: `${METRIC_PREFIX}peer_${name}`,
        help,
        labelNames: ['peer'] as const,
        registers: [this.registry],
      };
      if (kind === 'counter') new Counter({ ...config, collect });
      else new Gauge({ ...config, collect });
    };
    perPeer('counter', 'sent_messages_total', 'Raft messages written to the peer.', (s) => s.sentMessages);
    perPeer('counter', 'sent_bytes_total', 'Bytes written to the peer (frames).', (s) => s.sentBytes);
    perPeer(
      'counter',
      'sent_batches_total',
      'Socket writes to the peer (each a batch of Raft messages).',
      (s) => s.sentBatches,
    );
    perPeer(
      'counter',
      'received_messages_total',
      'Raft messages received from the peer.',
      (s) => s.receivedMessages,
    );
    perPeer(
      'counter',
      'dropped_messages_total',
      'Messages to the peer dropped (queue full, too large, or blocked by a fault).',
      (s) => s.droppedMessages + s.blockedMessages,
    );
    perPeer('gauge', 'send_queue_depth', 'Messages queued for the peer.', (s) => s.queuedMessages);
    perPeer('gauge', 'connected', '1 when the connection to the peer is up.', (s) => (s.connected ? 1 : 0));
    perPeer('gauge', 'round_trip_seconds', 'Round-trip time of the last answered ping.', (s) =>
      s.rttMs === undefined ? undefined : s.rttMs / 1000,
    );
  }

  private registerStoreGauges(): void {
    const sources = this.storeSources;
    for (const [key, { name, help }] of Object.entries(STORE_GAUGES) as [
      StoreGaugeName,
      (typeof STORE_GAUGES)[StoreGaugeName],
    ][]) {
      new Gauge({
        name: `${METRIC_PREFIX}${name}`,
        help,
        registers: [this.registry],
        collect() {
          this.set(readSafely(sources.get(key)));
        },
      });
    }
  }
}

/** A scrape must not fail because one source did: a throwing source reads as absent. */
function readState<T>(source: (() => T) | undefined): T | undefined {
  try {
    return source?.();
  } catch {
    return undefined;
  }
}

/** A scrape must not fail because one source did: a throwing source reads as 0. */
function readSafely(source: (() => number) | undefined): number {
  if (source === undefined) return 0;
  try {
    const value = source();
    return Number.isFinite(value) ? value : 0;
  } catch {
    return 0;
  }
}
