// One seeded simulation run: a Raft-replicated KV cluster under a nemesis, clients recording a
// history, Raft's invariants checked at every step and linearizability checked at the end.
// The same options and seed always produce the same run.
import type { ConfState, Message, Mutation, RaftConfig, ReadMode } from '@synod/raft';
import { RaftInvariantError } from '@synod/raft';
import { SimClock } from '../engine/clock.js';
import { SimDisk } from '../engine/disk.js';
import { EventLoop } from '../engine/event-loop.js';
import type { NemesisAction, NemesisKind } from '../engine/nemesis.js';
import { allNemesisKinds, describeAction, planNemesis, scheduleNemesisPlan } from '../engine/nemesis.js';
import type { NetworkTraceEvent } from '../engine/network.js';
import { SimNetwork } from '../engine/network.js';
import type { Partition } from '../engine/partition.js';
import { Prng } from '../engine/prng.js';
import type { Counterexample } from '../history/counterexample.js';
import type { KvCall, KvOperation, KvResult } from '../history/history.js';
import { HistoryRecorder } from '../history/history.js';
import type { Verdict } from '../history/linearizability.js';
import { checkKvHistory } from '../history/linearizability.js';
import { KvWorkload } from '../history/workload.js';
import type { SimProbe } from '../trace/probe.js';
import type { ClientPool } from './client.js';
import { SimClient } from './client.js';
import type { Violation } from './invariants.js';
import { SafetyObserver } from './invariants.js';
import { type DiskRecord, diskRecordBytes } from './raft-disk.js';
import { SimNode } from './sim-node.js';

export interface SimulationOptions {
  readonly seed: number;
  readonly nodes: number;
  readonly nemesis: readonly NemesisKind[] | 'all' | 'none';
  /** Virtual duration of the run. Faults stop at `quiesceFraction` of it; the rest must make progress. */
  readonly durationMs: number;
  readonly quiesceFraction: number;
  /** Nemesis intensity: 1 ≈ one fault of each kind every 2 s (see planNemesis). */
  readonly intensity: number;
  readonly clients: number;
  readonly keys: number;
  readonly readMode: ReadMode;
  readonly mutations: readonly Mutation[];
  readonly tickMs: number;
  readonly raft: Partial<Omit<RaftConfig, 'id' | 'random' | 'mutations' | 'readMode'>>;
  readonly snapshotEveryEntries: number;
  readonly entriesKeptAfterSnapshot: number;
  /** Receives the readable trace when set (it costs time: only for replays). */
  readonly trace?: (event: TraceEvent) => void;
  /** Receives structured trace records when set (see `trace/`; only for replays). */
  readonly probe?: SimProbe;
  /** Drive Raft with pipelined Readys, as the server does (see SimNodeEnvironment.pipelined). */
  readonly pipelined?: boolean;
}

export interface TraceEvent {
  readonly atMs: number;
  readonly node: string | undefined;
  readonly kind: 'node' | 'nemesis' | 'message' | 'client' | 'violation';
  readonly text: string;
}

export const DEFAULT_SIMULATION: Omit<SimulationOptions, 'seed'> = {
  nodes: 5,
  nemesis: 'all',
  durationMs: 15_000,
  quiesceFraction: 0.5,
  intensity: 2,
  clients: 6,
  keys: 4,
  readMode: 'read-index',
  mutations: [],
  tickMs: 10,
  raft: { electionTicks: 10, heartbeatTicks: 3, maxEntriesPerMessage: 64, snapshotChunkBytes: 1024 },
  snapshotEveryEntries: 100,
  entriesKeptAfterSnapshot: 20,
};

export interface SimulationResult {
  readonly seed: number;
  readonly violations: readonly Violation[];
  readonly operations: number;
  readonly okOperations: number;
  readonly failedOperations: number;
  readonly indeterminateOperations: number;
  readonly leaderElections: number;
  readonly committedEntries: number;
  readonly eventsExecuted: number;
  readonly messagesSent: number;
  readonly virtualMs: number;
  readonly history: readonly KvOperation[];
  readonly nemesisPlan: readonly NemesisAction[];
  readonly counterexample?: readonly string[];
  /** The linearizability checker's verdict on `history`. */
  readonly linearizability: Verdict;
  /** The checker's counterexample as data, when `linearizability` is `violation`. */
  readonly counterexampleDetail?: Counterexample<KvCall, KvResult>;
}

/** Bound on scheduled events: a storm of messages ends the run as a violation instead of exhausting memory. */
const MAX_PENDING_EVENTS = 100_000;
/** A healthy 15 s run executes a few hundred thousand events; a livelock runs into this bound. */
const MAX_EVENTS_PER_RUN = 2_000_000;
/** Share of partitions re-aimed so the current leader ends up on the cut-off side. */
export const LEADER_TARGETED_PARTITION_PROBABILITY = 0.5;
/** Longest single fault the nemesis plans (partition, crash, degraded network): liveness is judged after it. */
const LONGEST_FAULT_MS = 4_000;
/** Time a healed cluster gets to elect a leader and serve again before liveness is judged. */
const RECOVERY_ALLOWANCE_MS = 3_000;

/** A wired-up simulated cluster, before or while its event loop runs. */
export interface SimCluster {
  readonly options: SimulationOptions;
  readonly loop: EventLoop;
  readonly network: SimNetwork<Message>;
  readonly nodes: ReadonlyMap<string, SimNode>;
  readonly observer: SafetyObserver;
  readonly recorder: HistoryRecorder;
  readonly pool: ClientPool;
  readonly plan: readonly NemesisAction[];
  readonly quiesceAtMs: number;
}

export function runSimulation(partial: Partial<SimulationOptions> & { seed: number }): SimulationResult {
  const cluster = buildSimCluster(partial);
  runLoop(cluster.loop, cluster.options.durationMs, cluster.observer);
  return summarizeSimulation(cluster);
}

/** Builds nodes, network, nemesis and clients for one seed; nothing has run yet. */
export function buildSimCluster(partial: Partial<SimulationOptions> & { seed: number }): SimCluster {
  const options: SimulationOptions = { ...DEFAULT_SIMULATION, ...partial };
  const root = new Prng(options.seed);
  // A healthy run keeps a few thousand events pending; far more means a message storm (a bug).
  const loop = new EventLoop({ maxPendingEvents: MAX_PENDING_EVENTS });
  const { trace, probe } = options;
  const emit = (kind: TraceEvent['kind'], node: string | undefined, text: string) =>
    trace?.({ atMs: loop.now, node, kind, text });
  const observer = new SafetyObserver(
    () => loop.now,
    (violation) => {
      emit('violation', violation.node, `${violation.kind}: ${violation.message}`);
      probe?.violation(violation);
    },
    (node, text) => emit('node', node, text),
  );
  const ids = Array.from({ length: options.nodes }, (_, i) => `n${i + 1}`);
  const nodes = new Map<string, SimNode>();
  const network = new SimNetwork<Message>({
    loop,
    random: root.fork('network'),
    deliver: (_from, to, message) => nodes.get(to)?.receive(message),
    ...(trace || probe
      ? {
          onTrace: (event) => {
            if (trace) traceMessage(event, emit);
            probe?.message(event);
          },
        }
      : {}),
  });
  const bootstrapConf: ConfState = {
    voters: ids,
    votersOutgoing: [],
    learners: [],
    learnersNext: [],
    autoLeave: false,
  };
  for (const id of ids) {
    const clock = new SimClock({ time: loop });
    const disk = new SimDisk<DiskRecord>({
      random: root.fork(`disk/${id}`),
      recordSizeBytes: diskRecordBytes,
    });
    const env = {
      loop,
      network,
      disk,
      clock,
      observer,
      bootstrapConf,
      raftOptions: { ...options.raft, readMode: options.readMode, mutations: new Set(options.mutations) },
      tickMs: options.tickMs,
      snapshotEveryEntries: options.snapshotEveryEntries,
      entriesKeptAfterSnapshot: options.entriesKeptAfterSnapshot,
      trace: (node: string, text: string) => emit('node', node, text),
      probe,
      pipelined: options.pipelined ?? false,
    };
    nodes.set(id, new SimNode(id, env, root.fork(`node/${id}`)));
  }
  for (const node of nodes.values()) node.start();

  const quiesceAtMs = Math.floor(options.durationMs * options.quiesceFraction);
  const plan =
    options.nemesis === 'none'
      ? []
      : planNemesis(root.fork('nemesis'), {
          nodes: ids,
          durationMs: options.durationMs,
          kinds: options.nemesis === 'all' ? allNemesisKinds : options.nemesis,
          intensity: options.intensity,
          quiesceAtMs,
        });
  const retargetRandom = root.fork('retarget');
  scheduleNemesisPlan(
    loop,
    plan,
    {
      network: {
        heal: () => network.heal(),
        configure: (conditions) => network.configure(conditions),
        applyPartition: (partition) => {
          // Like Jepsen's "partition the primary": the worst case is a leader cut off with a minority.
          const leader = currentLeader(nodes);
          const aimed = leader && retargetRandom.chance(LEADER_TARGETED_PARTITION_PROBABILITY);
          const applied = aimed ? retargetPartition(partition, leader) : partition;
          if (aimed)
            emit('nemesis', undefined, `partition aimed at leader ${leader}: ${applied.description}`);
          network.applyPartition(applied);
          probe?.nemesisApplied(loop.now, { ...applied, atMs: loop.now, kind: 'partition' });
        },
      },
      crash: (id) => nodes.get(id)?.crash(),
      restart: (id) => nodes.get(id)?.start(),
      clock: (id) => clockOf(nodes, id),
    },
    (action) => {
      emit('nemesis', undefined, describeAction(action));
      // Partitions are reported once applied, after they were aimed (see applyPartition above).
      if (action.kind !== 'partition') probe?.nemesisApplied(loop.now, action);
    },
  );

  const recorder = new HistoryRecorder();
  const workload = new KvWorkload({ random: root.fork('workload'), keys: options.keys });
  const pool: ClientPool = { nextProcess: 0, okOperations: 0, lastOkAtMs: 0, lastOkInvokedAtMs: 0 };
  const clientOptions = {
    requestLatencyMs: 1,
    operationTimeoutMs: 1_000,
    retryBackoffMs: 20,
    thinkTimeMs: 15,
    stopAtMs: options.durationMs - 1_000,
  };
  const clientRandom = root.fork('clients');
  for (let c = 0; c < options.clients; c++) {
    const client = new SimClient(
      loop,
      clientRandom.fork(`c${c}`),
      nodes,
      workload,
      recorder,
      clientOptions,
      pool,
    );
    client.start(100 + c * 7);
  }

  return { options, loop, network, nodes, observer, recorder, pool, plan, quiesceAtMs };
}

function currentLeader(nodes: Map<string, SimNode>): string | undefined {
  let leader: string | undefined;
  let leaderTerm = -1;
  for (const [id, node] of nodes) {
    const raft = node.raft?.raft;
    if (raft?.role === 'leader' && raft.term > leaderTerm) {
      leader = id;
      leaderTerm = raft.term;
    }
  }
  return leader;
}

/** Swaps names so the node with the most blocked incoming links (the most cut off) is `leader`. */
export function retargetPartition(partition: Partition, leader: string): Partition {
  const blockedIn = new Map<string, number>();
  for (const link of partition.blockedLinks) blockedIn.set(link.to, (blockedIn.get(link.to) ?? 0) + 1);
  let victim: string | undefined;
  for (const [node, count] of blockedIn)
    if (victim === undefined || count > blockedIn.get(victim)!) victim = node;
  if (victim === undefined || victim === leader) return partition;
  const rename = (node: string) => (node === victim ? leader : node === leader ? victim : node);
  const blockedLinks = partition.blockedLinks.map((link) => ({
    from: rename(link.from),
    to: rename(link.to),
  }));
  const description = partition.description.replace(/n\d+/g, (node) => rename(node));
  return { shape: partition.shape, description, blockedLinks };
}

function clockOf(nodes: Map<string, SimNode>, id: string): SimClock {
  const node = nodes.get(id);
  if (!node) throw new Error(`no node ${id}`);
  return node.clock;
}

function traceMessage(
  event: NetworkTraceEvent<Message>,
  emit: (kind: TraceEvent['kind'], node: string | undefined, text: string) => void,
): void {
  if (event.kind === 'send') return; // deliveries and drops tell the story
  const message = event.message;
  const what = event.kind === 'drop' ? `drop(${event.reason})` : event.kind;
  emit(
    'message',
    event.to,
    `${what} ${event.from}→${event.to} ${message.type} t${message.term}${describeMessage(message)}`,
  );
}

function describeMessage(message: Message): string {
  switch (message.type) {
    case 'append':
      return ` prev=${message.prevLogIndex}/${message.prevLogTerm} entries=${message.entries.length} commit=${message.commit}`;
    case 'appendResponse':
      return message.reject
        ? ` reject at ${message.index} hint=${message.rejectHint}/${message.hintTerm}`
        : ` ok ${message.index}`;
    case 'voteResponse':
    case 'preVoteResponse':
      return message.reject ? ' reject' : ' grant';
    case 'snapshot':
      return ` index=${message.metadata.index} bytes ${message.offset}+${message.chunk.byteLength}/${message.totalBytes}`;
    default:
      return '';
  }
}

/** Runs the event loop; a broken invariant thrown by a core ends the run as a violation. */
export function runLoop(loop: EventLoop, durationMs: number, observer: SafetyObserver): void {
  try {
    loop.runUntil(durationMs, MAX_EVENTS_PER_RUN);
  } catch (error) {
    const kind = error instanceof RaftInvariantError ? 'core invariant' : 'unexpected error';
    const message = error instanceof Error ? `${error.message}\n${error.stack ?? ''}` : String(error);
    observer.report('crash', `${kind}: ${message}`);
  }
}

/** Checks the history and the liveness of a finished run and gathers its result. */
export function summarizeSimulation(cluster: SimCluster): SimulationResult {
  const { options, loop, network, observer, recorder, plan, quiesceAtMs } = cluster;
  const history = recorder.operations();
  let counterexample: readonly string[] | undefined;
  const report = checkKvHistory(history);
  if (report.verdict === 'violation') {
    counterexample = report.counterexample?.lines ?? [];
    observer.report('linearizability', `history is not linearizable:\n${counterexample.join('\n')}`);
  } else if (report.verdict === 'unknown') {
    observer.report(
      'linearizability',
      `checker gave up (${report.stoppedBy ?? 'budget'}): history too hard to decide`,
    );
  }
  const livenessFromMs = Math.min(
    quiesceAtMs + LONGEST_FAULT_MS + RECOVERY_ALLOWANCE_MS,
    options.durationMs - 2_000,
  );
  const recovered = history.some((op) => op.outcome === 'ok' && op.invokedAt >= livenessFromMs);
  if (options.nemesis !== 'none' && !recovered && options.mutations.length === 0) {
    observer.report('liveness', `no operation succeeded after faults stopped (from t=${livenessFromMs}ms)`);
  }
  return {
    seed: options.seed,
    violations: observer.violations,
    operations: history.length,
    okOperations: history.filter((op) => op.outcome === 'ok').length,
    failedOperations: history.filter((op) => op.outcome === 'fail').length,
    indeterminateOperations: history.filter((op) => op.outcome === 'indeterminate').length,
    leaderElections: observer.leaderElections(),
    committedEntries: observer.maxCommittedIndex(),
    eventsExecuted: loop.eventsExecuted,
    messagesSent: network.stats.sent,
    virtualMs: loop.now,
    history,
    nemesisPlan: plan,
    ...(counterexample ? { counterexample } : {}),
    linearizability: report.verdict,
    ...(report.counterexample ? { counterexampleDetail: report.counterexample } : {}),
  };
}
