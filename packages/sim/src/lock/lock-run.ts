// One seeded run of the lock scenario: a Raft cluster replicating the real ClusterState, leader
// lease expiry on each leader's own clock, lock clients that pause and get cut off, a fenced
// storage service, and the nemesis. Checks 1–4 (see README.md) judge the run; the same options
// and seed always produce the same run.
import type { ConfState, Entry, Message, Mutation, RaftConfig } from '@synod/raft';
import { LEASE_EXPIRY_CHECK_INTERVAL_MS } from '@synod/state';
import { SafetyObserver } from '../cluster/invariants.js';
import { type DiskRecord, diskRecordBytes } from '../cluster/raft-disk.js';
import {
  DEFAULT_SIMULATION,
  LEADER_TARGETED_PARTITION_PROBABILITY,
  retargetPartition,
  runLoop,
  type TraceEvent,
} from '../cluster/run.js';
import { SimClock } from '../engine/clock.js';
import { SimDisk } from '../engine/disk.js';
import { EventLoop } from '../engine/event-loop.js';
import type { NemesisKind, NemesisTargets } from '../engine/nemesis.js';
import { allNemesisKinds, describeAction, planNemesis, scheduleNemesisPlan } from '../engine/nemesis.js';
import { SimNetwork } from '../engine/network.js';
import { linksBetween } from '../engine/partition.js';
import { Prng } from '../engine/prng.js';
import { planClientIsolations } from './client-isolation.js';
import type { ProposedCommand } from './command-codec.js';
import { FencedResource } from './fenced-resource.js';
import { LeaseExpiryAudit } from './lease-audit.js';
import type { LeaseMutation } from './lease-leader.js';
import {
  checkFencing,
  checkLeaseLiveness,
  checkLockExclusion,
  checkLockLiveness,
  type LivenessWindow,
  type LockGrant,
  ReferenceReplica,
} from './lock-checks.js';
import {
  emptyLockWorkloadStats,
  LockClient,
  type LockClientOptions,
  type LockWorkloadStats,
} from './lock-client.js';
import { type ClientNetworkMessage, RESOURCE_ID } from './lock-messages.js';
import { LockNode } from './lock-node.js';
import { type LockViolation, MAX_LOCK_VIOLATIONS } from './lock-violation.js';

/** Deliberately broken pieces, for showing that each check can fail. */
export type LockMutation =
  | LeaseMutation
  /** The storage service accepts every write, whatever its token. */
  | 'unfenced-resource'
  /** Clients take the lock as soon as their key is written, without waiting for older keys. */
  | 'lock-without-waiting';

export const allLockMutations: readonly LockMutation[] = [
  'unfenced-resource',
  'promote-without-extension',
  'expiry-by-wall-time',
  'leader-never-revokes',
  'lock-without-waiting',
];

export type LockClientSettings = Omit<LockClientOptions, 'stopAtMs' | 'lockWithoutWaiting'>;

export interface LockSimulationOptions {
  readonly seed: number;
  readonly nodes: number;
  /** Lock clients (3–5 in the tests). */
  readonly clients: number;
  readonly nemesis: readonly NemesisKind[] | 'all' | 'none';
  readonly durationMs: number;
  /** Faults (cluster, client isolation) stop at this fraction of the run; the rest judges liveness. */
  readonly quiesceFraction: number;
  readonly intensity: number;
  /** Broken Raft cores (see @synod/raft's Mutation). */
  readonly mutations: readonly Mutation[];
  readonly lockMutations: readonly LockMutation[];
  readonly tickMs: number;
  readonly raft: Partial<Omit<RaftConfig, 'id' | 'random' | 'mutations'>>;
  readonly snapshotEveryEntries: number;
  readonly entriesKeptAfterSnapshot: number;
  readonly client: LockClientSettings;
  /** Receives a readable trace when set (replays only: it costs time). */
  readonly trace?: (event: TraceEvent) => void;
}

/**
 * etcd extends leases by one election timeout on promote. Lease TTLs here are on etcd's scale
 * (2–4 s; the 2 s minimum is 1.5 × etcd's 1 s election timeout), so the extension is etcd's 1 s,
 * not the simulated cluster's faster 100 ms election timeout.
 */
export const LEASE_PROMOTE_EXTENSION_MS = 1_000;
/** Long leases' remaining TTL is checkpointed this often (scaled down from etcd's 5 min to matter here). */
export const LEASE_CHECKPOINT_INTERVAL_MS = 1_000;
/** After the faults stop: time to elect a leader, and for a clock stepped back to catch up (≤ 2 s). */
const RECOVERY_ALLOWANCE_MS = 2_000;
/** A lease may outlive its TTL by the promote extension, one expiry check, and commit latency. */
const LEASE_REVOKE_SLACK_MS = LEASE_PROMOTE_EXTENSION_MS + LEASE_EXPIRY_CHECK_INTERVAL_MS + 1_500;
/** Clients start no new cycle in the run's last stretch. */
const CLIENT_STOP_BEFORE_END_MS = 2_000;
const MAX_PENDING_EVENTS = 100_000;
/** Share of client isolations aimed at a client that holds a lock (when one does). */
const HOLDER_TARGETED_ISOLATION_PROBABILITY = 0.5;
/** Clients start staggered, shortly after the cluster. */
const CLIENT_FIRST_START_MS = 100;
const CLIENT_START_STAGGER_MS = 7;

export const DEFAULT_LOCK_SIMULATION: Omit<LockSimulationOptions, 'seed'> = {
  nodes: 3,
  clients: 4,
  nemesis: 'all',
  durationMs: 20_000,
  quiesceFraction: 0.5,
  intensity: 2,
  mutations: [],
  lockMutations: [],
  tickMs: DEFAULT_SIMULATION.tickMs,
  // Snapshots of the whole MVCC history are larger than the KV scenario's: bigger chunks.
  raft: { ...DEFAULT_SIMULATION.raft, snapshotChunkBytes: 16 * 1024 },
  snapshotEveryEntries: DEFAULT_SIMULATION.snapshotEveryEntries,
  entriesKeptAfterSnapshot: DEFAULT_SIMULATION.entriesKeptAfterSnapshot,
  client: {
    lockNames: ['locks/alpha', 'locks/beta'],
    ttlSecondsMin: 2,
    ttlSecondsMax: 4,
    requestTimeoutMs: 500,
    retryBackoffMs: 20,
    callDeadlineMs: 4_000,
    pollIntervalMs: 50,
    maxWaitMs: 12_000,
    thinkTimeMinMs: 20,
    thinkTimeMaxMs: 200,
    writesPerHoldMax: 4,
    pauseProbability: 0.1,
    pauseBeyondTtlMinMs: 200,
    pauseBeyondTtlMaxMs: 2_000,
    abandonProbability: 0.1,
  },
};

/** What a run measured, beside its verdict. */
export interface LockRunFigures extends LockWorkloadStats {
  readonly leaderElections: number;
  readonly committedEntries: number;
  readonly expiryRevokesProposed: number;
  readonly expiryRevokesApplied: number;
  readonly keysDeletedByExpiry: number;
  readonly eventsExecuted: number;
  readonly virtualMs: number;
}

export interface LockSimulationResult {
  readonly seed: number;
  readonly violations: readonly LockViolation[];
  /** Client requests answered plus writes sent to the resource. */
  readonly operations: number;
  readonly figures: LockRunFigures;
  readonly grants: readonly LockGrant[];
}

/** A wired-up lock scenario, before or while its event loop runs. */
export interface LockCluster {
  readonly options: LockSimulationOptions;
  readonly loop: EventLoop;
  readonly nodes: ReadonlyMap<string, LockNode>;
  readonly clients: ReadonlyMap<string, LockClient>;
  readonly resource: FencedResource;
  readonly replica: ReferenceReplica;
  readonly audit: LeaseExpiryAudit;
  readonly observer: SafetyObserver;
  readonly violations: LockViolation[];
  readonly grants: LockGrant[];
  readonly stats: LockWorkloadStats;
  readonly quiesceAtMs: number;
}

/**
 * Runs one seed of the lock scenario and judges it.
 *
 * @example
 * const result = runLockSimulation({ seed: 7, nodes: 3 });
 * if (result.violations.length > 0) console.log(result.violations[0].message);
 */
export function runLockSimulation(
  partial: Partial<LockSimulationOptions> & { seed: number },
): LockSimulationResult {
  const cluster = buildLockCluster(partial);
  runLoop(cluster.loop, cluster.options.durationMs, cluster.observer);
  return judgeLockRun(cluster);
}

type Emit = (kind: TraceEvent['kind'], node: string | undefined, text: string) => void;

/** What every part of a run is wired with. */
interface RunContext {
  readonly options: LockSimulationOptions;
  readonly root: Prng;
  readonly loop: EventLoop;
  readonly emit: Emit;
  readonly report: (violation: LockViolation) => void;
  readonly quiesceAtMs: number;
  readonly nemesisKinds: readonly NemesisKind[];
}

/** Builds members, clients, the resource and the faults for one seed; nothing has run yet. */
export function buildLockCluster(partial: Partial<LockSimulationOptions> & { seed: number }): LockCluster {
  const options: LockSimulationOptions = { ...DEFAULT_LOCK_SIMULATION, ...partial };
  const loop = new EventLoop({ maxPendingEvents: MAX_PENDING_EVENTS });
  const emit: Emit = (kind, node, text) => options.trace?.({ atMs: loop.now, node, kind, text });
  const violations: LockViolation[] = [];
  const context: RunContext = {
    options,
    root: new Prng(options.seed),
    loop,
    emit,
    report: (violation) => {
      if (violations.length < MAX_LOCK_VIOLATIONS) violations.push(violation);
      emit('violation', violation.node, `${violation.kind}: ${violation.message}`);
    },
    quiesceAtMs: Math.floor(options.durationMs * options.quiesceFraction),
    nemesisKinds:
      options.nemesis === 'none' ? [] : options.nemesis === 'all' ? allNemesisKinds : options.nemesis,
  };
  const observer = new SafetyObserver(
    () => loop.now,
    (violation) => context.report(violation),
    (node, text) => emit('node', node, text),
  );
  const audit = new LeaseExpiryAudit(LEASE_PROMOTE_EXTENSION_MS, (node, message) =>
    context.report({ kind: 'lease-expiry', atMs: loop.now, node, message }),
  );
  const replica = new ReferenceReplica();
  const resource = new FencedResource(!options.lockMutations.includes('unfenced-resource'));
  const nodes = new Map<string, LockNode>();
  const clients = new Map<string, LockClient>();
  const raftNetwork = new SimNetwork<Message>({
    loop,
    random: context.root.fork('network'),
    deliver: (_from, to, message) => nodes.get(to)?.receive(message),
  });
  const clientNetwork: SimNetwork<ClientNetworkMessage> = new SimNetwork<ClientNetworkMessage>({
    loop,
    random: context.root.fork('client-network'),
    deliver: (from, to, message) => {
      if (to === RESOURCE_ID) serveResourceWrite(context, resource, clientNetwork, from, message);
      else if (message.kind === 'request') nodes.get(to)?.handleRequest(from, message.request);
      else clients.get(to)?.receive(message);
    },
  });
  const parts = { raftNetwork, clientNetwork, observer, audit, replica };
  for (const node of createNodes(context, parts)) nodes.set(node.id, node);
  for (const node of nodes.values()) node.start();
  scheduleClusterFaults(context, nodes, [raftNetwork, clientNetwork]);
  const workload = createClients(context, clientNetwork, [...nodes.keys()]);
  for (const client of workload.clients) clients.set(client.id, client);
  scheduleClientFaults(context, clients, [...nodes.keys()], clientNetwork);
  const { grants, stats } = workload;
  const { quiesceAtMs } = context;
  return {
    options,
    loop,
    nodes,
    clients,
    resource,
    replica,
    audit,
    observer,
    violations,
    grants,
    stats,
    quiesceAtMs,
  };
}

/** The storage service's side of the client network: apply the write, answer the writer. */
function serveResourceWrite(
  context: RunContext,
  resource: FencedResource,
  network: SimNetwork<ClientNetworkMessage>,
  from: string,
  message: ClientNetworkMessage,
): void {
  if (message.kind !== 'write') return;
  const ack = resource.write(message.write, context.loop.now);
  const { holder, token, resource: name } = message.write;
  const verdict = ack.accepted ? 'accepted' : 'refused';
  context.emit(
    'client',
    RESOURCE_ID,
    `${verdict} ${holder}'s write to ${name} with token ${token} (highest ${ack.highestToken})`,
  );
  network.send(RESOURCE_ID, from, { kind: 'writeAck', ack });
}

interface NodeParts {
  readonly raftNetwork: SimNetwork<Message>;
  readonly clientNetwork: SimNetwork<ClientNetworkMessage>;
  readonly observer: SafetyObserver;
  readonly audit: LeaseExpiryAudit;
  readonly replica: ReferenceReplica;
}

function createNodes(context: RunContext, parts: NodeParts): LockNode[] {
  const { options, root, loop, emit, report } = context;
  const nodeIds = Array.from({ length: options.nodes }, (_, i) => `n${i + 1}`);
  const bootstrapConf: ConfState = {
    voters: nodeIds,
    votersOutgoing: [],
    learners: [],
    learnersNext: [],
    autoLeave: false,
  };
  const shared = {
    ...parts,
    loop,
    bootstrapConf,
    raftOptions: { ...options.raft, readMode: 'read-index' as const, mutations: new Set(options.mutations) },
    tickMs: options.tickMs,
    snapshotEveryEntries: options.snapshotEveryEntries,
    entriesKeptAfterSnapshot: options.entriesKeptAfterSnapshot,
    lease: {
      promoteExtensionMs: LEASE_PROMOTE_EXTENSION_MS,
      checkpointIntervalMs: LEASE_CHECKPOINT_INTERVAL_MS,
      mutations: new Set(options.lockMutations.filter(isLeaseMutation)),
    },
    onApplied: (node: string, entry: Entry, proposed: ProposedCommand | undefined) => {
      const gap = parts.replica.apply(entry, proposed, loop.now);
      if (gap !== undefined) report({ kind: 'crash', atMs: loop.now, node, message: gap });
    },
    onRenewed: (_node: string, lease: bigint) => parts.replica.renewed(lease, loop.now),
    trace: (node: string, text: string) => emit('node', node, text),
  };
  return nodeIds.map((id) => {
    const disk = new SimDisk<DiskRecord>({
      random: root.fork(`disk/${id}`),
      recordSizeBytes: diskRecordBytes,
    });
    const env = { ...shared, disk, clock: new SimClock({ time: loop }) };
    return new LockNode(id, env, root.fork(`node/${id}`));
  });
}

function createClients(
  context: RunContext,
  network: SimNetwork<ClientNetworkMessage>,
  nodeIds: readonly string[],
): { clients: LockClient[]; grants: LockGrant[]; stats: LockWorkloadStats } {
  const { options, root, loop, emit } = context;
  const grants: LockGrant[] = [];
  const stats = emptyLockWorkloadStats();
  const world = {
    loop,
    network,
    nodes: nodeIds,
    grants,
    stats,
    trace: (client: string, text: string) => emit('client', client, text),
  };
  const clientOptions: LockClientOptions = {
    ...options.client,
    stopAtMs: options.durationMs - CLIENT_STOP_BEFORE_END_MS,
    lockWithoutWaiting: options.lockMutations.includes('lock-without-waiting'),
  };
  const random = root.fork('clients');
  const clients: LockClient[] = [];
  for (let c = 0; c < options.clients; c++) {
    const clock = new SimClock({ time: loop });
    const client = new LockClient(c, clock, world, random.fork(`c${c}`), clientOptions);
    client.start(CLIENT_FIRST_START_MS + c * CLIENT_START_STAGGER_MS);
    clients.push(client);
  }
  return { clients, grants, stats };
}

/** The nemesis over the members: partitions (half aimed at the leader), crashes, weather, clocks. */
function scheduleClusterFaults(
  context: RunContext,
  nodes: ReadonlyMap<string, LockNode>,
  networks: readonly [SimNetwork<Message>, SimNetwork<ClientNetworkMessage>],
): void {
  const { options, root, loop, emit, nemesisKinds, quiesceAtMs } = context;
  if (nemesisKinds.length === 0) return;
  const [raftNetwork, clientNetwork] = networks;
  const plan = planNemesis(root.fork('nemesis'), {
    nodes: [...nodes.keys()],
    durationMs: options.durationMs,
    kinds: nemesisKinds,
    intensity: options.intensity,
    quiesceAtMs,
  });
  const retargetRandom = root.fork('retarget');
  const targets: NemesisTargets = {
    network: {
      heal: () => raftNetwork.heal(),
      // Loss, duplication and reordering hit clients and the storage service too.
      configure: (conditions) => {
        raftNetwork.configure(conditions);
        clientNetwork.configure(conditions);
      },
      applyPartition: (partition) => {
        const leader = currentLeader(nodes);
        const aimed = leader !== undefined && retargetRandom.chance(LEADER_TARGETED_PARTITION_PROBABILITY);
        const applied = aimed ? retargetPartition(partition, leader) : partition;
        if (aimed) emit('nemesis', undefined, `partition aimed at leader ${leader}: ${applied.description}`);
        raftNetwork.applyPartition(applied);
      },
    },
    crash: (id) => nodes.get(id)?.crash(),
    restart: (id) => nodes.get(id)?.start(),
    clock: (id) => nodes.get(id)!.clock,
  };
  scheduleNemesisPlan(loop, plan, targets, (action) => emit('nemesis', undefined, describeAction(action)));
}

/** Client clocks skew and drift like the members'; clients (the holder, half the time) get cut off. */
function scheduleClientFaults(
  context: RunContext,
  clients: ReadonlyMap<string, LockClient>,
  nodeIds: readonly string[],
  clientNetwork: SimNetwork<ClientNetworkMessage>,
): void {
  const { options, root, loop, emit, nemesisKinds, quiesceAtMs } = context;
  const clientIds = [...clients.keys()];
  if (nemesisKinds.includes('clock-skew')) {
    const plan = planNemesis(root.fork('client-clocks'), {
      nodes: clientIds,
      durationMs: options.durationMs,
      kinds: ['clock-skew'],
      intensity: options.intensity,
      quiesceAtMs,
    });
    const ignore = (): void => {};
    const targets: NemesisTargets = {
      network: { heal: ignore, applyPartition: ignore, configure: ignore },
      crash: ignore,
      restart: ignore,
      clock: (id) => clients.get(id)!.clock,
    };
    scheduleNemesisPlan(loop, plan, targets, (action) => emit('nemesis', undefined, describeAction(action)));
  }
  if (!nemesisKinds.includes('partition')) return;
  const windows = planClientIsolations(root.fork('client-isolation'), {
    quiesceAtMs,
    intensity: options.intensity,
  });
  const victimRandom = root.fork('client-isolation-victim');
  for (const window of windows) {
    loop.scheduleAt(window.startMs, () => {
      const holders = clientIds.filter((id) => clients.get(id)!.holding);
      const aimAtHolder = holders.length > 0 && victimRandom.chance(HOLDER_TARGETED_ISOLATION_PROBABILITY);
      const victim = victimRandom.pick(aimAtHolder ? holders : clientIds);
      clientNetwork.blockLinks([...linksBetween([victim], nodeIds), ...linksBetween(nodeIds, [victim])]);
      emit('nemesis', victim, `client ${victim} cut off from the cluster until t=${window.endMs}ms`);
    });
    loop.scheduleAt(window.endMs, () => clientNetwork.heal());
  }
}

function isLeaseMutation(mutation: LockMutation): mutation is LeaseMutation {
  return mutation !== 'unfenced-resource' && mutation !== 'lock-without-waiting';
}

function currentLeader(nodes: ReadonlyMap<string, LockNode>): string | undefined {
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

/** The end-of-run checks (1, 2 and the liveness halves) and the run's figures. */
export function judgeLockRun(cluster: LockCluster): LockSimulationResult {
  const { options, loop, resource, replica, audit, observer, violations, grants, stats, quiesceAtMs } =
    cluster;
  const report = (found: readonly LockViolation[]): void => {
    for (const violation of found) if (violations.length < MAX_LOCK_VIOLATIONS) violations.push(violation);
  };
  report(checkFencing(resource.accepted, grants));
  report(checkLockExclusion(grants, replica));
  const window: LivenessWindow = {
    fromMs: quiesceAtMs + RECOVERY_ALLOWANCE_MS,
    endMs: options.durationMs,
    leaseSlackMs: LEASE_REVOKE_SLACK_MS,
  };
  // A broken Raft core may legitimately stop making progress; its safety verdicts are what count.
  if (options.mutations.length === 0) {
    report(checkLeaseLiveness(replica, window));
    report(checkLockLiveness(grants, window));
  }
  return {
    seed: options.seed,
    violations,
    operations: stats.requests + stats.writesSent,
    grants,
    figures: {
      ...stats,
      writesFenced: resource.refused,
      leaderElections: observer.leaderElections(),
      committedEntries: observer.maxCommittedIndex(),
      expiryRevokesProposed: audit.expiryRevokesProposed,
      expiryRevokesApplied: replica.expiryRevokes,
      keysDeletedByExpiry: replica.keysDeletedByExpiry,
      eventsExecuted: loop.eventsExecuted,
      virtualMs: loop.now,
    },
  };
}
