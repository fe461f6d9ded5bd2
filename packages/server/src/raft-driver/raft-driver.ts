// Drives one Raft group in a real process: ticks on a timer, feeds messages from the transport,
// persists each Ready (durably, with group commit) before sending what depends on it, applies
// committed entries to the state machine, and serves ReadIndex waits. The protocol itself lives
// in @synod/raft; this file only does I/O, in the order the Ready contract requires.
import type {
  ConfChange,
  ConfState,
  Entry,
  HardState,
  Message,
  NodeId,
  RaftConfig,
  Ready,
  Snapshot,
  Storage,
} from '@synod/raft';
import { type ProposeResult, RawNode } from '@synod/raft';
import { buildInTurns, type SteppedBuild } from '../util/next-turn.js';

/** Durable storage as the driver needs it (RaftDiskStorage implements it; tests use a memory fake). */
export interface DriverStorage {
  /** What the Raft core reads. */
  readonly memory: Storage;
  /** Durable (fsynced) when it resolves; concurrent calls may share one fsync. */
  persist(ready: {
    hardState: HardState | undefined;
    entries: readonly Entry[];
    snapshot: Snapshot | undefined;
  }): Promise<void>;
  /**
   * Records a snapshot of the applied state and compacts the log up to `compactTo`. `dataCrc32c`,
   * when known, is the CRC-32C of `snapshot.data` (saves reading it all again to checksum the file).
   */
  saveSnapshot(snapshot: Snapshot, compactTo: number, dataCrc32c?: number): Promise<void>;
}

/** The replicated state machine the driver applies committed entries to. */
export interface StateMachine {
  /** Applies one committed entry (normal entries; config entries are passed too, to be skipped). */
  apply(entry: Entry): void;
  /** Replaces the state with a snapshot received from the leader. */
  restore(snapshot: Snapshot): void;
  /**
   * Starts serialising the state as of the last applied entry. The driver builds it a bounded
   * step per event-loop turn, applying entries in between, so a large state never stalls the
   * member (heartbeats, client requests) for the whole encoding.
   */
  beginSnapshot(): SnapshotBuilder;
  /** The CRC-32C of a finished snapshot's data, when the machine can tell it without reading it all. */
  snapshotChecksum?(data: Uint8Array): number;
}

/** A snapshot of the state machine in the making (see StateMachine.beginSnapshot). */
export type SnapshotBuilder = SteppedBuild<Uint8Array>;

export interface DriverLogger {
  info(object: object, message: string): void;
  warn(object: object, message: string): void;
  error(object: object, message: string): void;
}

export interface RaftDriverOptions {
  readonly nodeId: NodeId;
  readonly raft: Partial<Omit<RaftConfig, 'id'>> & Pick<RaftConfig, 'random'>;
  readonly storage: DriverStorage;
  readonly stateMachine: StateMachine;
  readonly send: (messages: readonly Message[]) => void;
  readonly logger: DriverLogger;
  /** One Raft tick: etcd's heartbeat interval (100 ms) with heartbeatTicks 1, electionTicks 10. */
  readonly tickMs: number;
  readonly snapshotEveryEntries: number;
  readonly entriesKeptAfterSnapshot: number;
  /** Called after membership changed (to update transport peers). */
  readonly onConfChange?: (confState: ConfState) => void;
}

export const DEFAULT_DRIVER_TIMING = {
  tickMs: 100,
  snapshotEveryEntries: 10_000,
  entriesKeptAfterSnapshot: 5_000,
} as const;

/** Proposals a follower forwards to the leader in one message, at most (count and bytes). */
const FORWARD_BATCH_ENTRIES_MAX = 1_024;
const FORWARD_BATCH_BYTES_MAX = 1024 * 1024;
/** Pending linearizable reads per node; beyond it readIndex() is refused (back-pressure). */
const MAX_PENDING_READS = 10_000;
/** Snapshots made stale in a row (by compactions) before the next one is built in one go. */
const STALE_SNAPSHOTS_BEFORE_BLOCKING = 3;
/**
 * A snapshot re-encodes the whole state, so once snapshotEveryEntries have been applied the next
 * one also waits until the log applied since the last one is as large as that snapshot: building
 * snapshots then costs at most about one encoded byte per byte of log, however large the state
 * (a store whose uncompacted history grows with every write would otherwise pay a full encoding
 * every snapshotEveryEntries, more each time). This bounds the wait, and with it the log kept in
 * memory and replayed on restart.
 */
export const SNAPSHOT_DEFERRED_LOG_BYTES_MAX = 64 * 1024 * 1024;

interface ReadWaiter {
  resolve: (index: number) => void;
  reject: (error: Error) => void;
  index: number;
}

export class NotLeaderError extends Error {
  override readonly name = 'NotLeaderError';
  readonly leader: NodeId;
  constructor(leader: NodeId) {
    super(leader ? `not the leader; the leader is ${leader}` : 'no leader elected');
    this.leader = leader;
  }
}

export class RaftDriver {
  readonly node: RawNode;
  private readonly options: RaftDriverOptions;
  private kickScheduled = false;
  /** The newest Ready's write (Readys' writes complete in order). */
  private lastPersist: Promise<void> = Promise.resolve();
  private tickTimer: ReturnType<typeof setInterval> | undefined;
  private readonly reads = new Map<string, ReadWaiter>();
  private nextReadId = 0;
  private stopped = false;
  /** Proposals a follower forwards to the leader at the end of this turn (see propose). */
  private toForward: Uint8Array[] = [];
  private toForwardBytes = 0;
  private snapshotInFlight = false;
  /** Snapshots given up in a row because the state changed under them. */
  private staleSnapshots = 0;
  /** Snapshots installed from the leader: one arriving while ours is built supersedes ours. */
  private restores = 0;
  /** Data bytes of the entries applied since the last snapshot's index (see SNAPSHOT_DEFERRED_LOG_BYTES_MAX). */
  private appliedBytesSinceSnapshot = 0;
  /** Applied index as confirmed by advance(). */
  appliedIndex: number;
  private readonly appliedListeners = new Set<() => void>();

  constructor(options: RaftDriverOptions) {
    this.options = options;
    this.node = new RawNode({ ...options.raft, id: options.nodeId }, options.storage.memory);
    const snapshot = options.storage.memory.snapshot();
    this.appliedIndex = snapshot.metadata.index;
    // The log before the snapshot is gone: the state machine starts from the snapshot's state.
    if (snapshot.data.byteLength > 0) options.stateMachine.restore(snapshot);
  }

  start(): void {
    this.tickTimer = setInterval(() => {
      this.node.tick();
      this.kick();
    }, this.options.tickMs);
    this.tickTimer.unref?.();
    this.kick();
  }

  stop(): void {
    this.stopped = true;
    if (this.tickTimer) clearInterval(this.tickTimer);
    for (const waiter of this.reads.values()) waiter.reject(new Error('server stopped'));
    this.reads.clear();
  }

  /** Messages from peers. */
  receive(messages: readonly Message[]): void {
    if (this.stopped) return;
    for (const message of messages) this.node.step(message);
    this.kick();
  }

  /** Proposes a command; on a follower it is forwarded to the leader. Throws NotLeaderError without a leader. */
  propose(data: Uint8Array): void {
    const raft = this.node.raft;
    if (raft.role === 'leader') {
      raft.forwardProposal([data]);
    } else {
      if (raft.lead === '') throw new NotLeaderError(raft.lead);
      // Forwarded together: one message to the leader for all the proposals of this turn.
      this.toForward.push(data);
      this.toForwardBytes += data.byteLength;
      if (
        this.toForward.length >= FORWARD_BATCH_ENTRIES_MAX ||
        this.toForwardBytes >= FORWARD_BATCH_BYTES_MAX
      )
        this.forwardProposals();
    }
    this.kick();
  }

  /**
   * Sends the proposals gathered this turn to the leader in one message. A proposal whose leader
   * went away meanwhile is dropped, as one lost on the way would be: its client times out.
   */
  private forwardProposals(): void {
    if (this.toForward.length === 0) return;
    const batch = this.toForward;
    this.toForward = [];
    this.toForwardBytes = 0;
    this.node.raft.forwardProposal(batch);
  }

  /** The transport lost its connection to `peer`: if it led us, an election starts without waiting. */
  peerDisconnected(peer: NodeId): void {
    if (this.stopped) return;
    this.node.raft.leaderUnreachable(peer);
    this.kick();
  }

  /** Proposes a membership change (leader only; see RawNode.proposeConfChange). */
  proposeConfChange(change: ConfChange): ProposeResult {
    const result = this.node.proposeConfChange(change);
    if (result.ok) this.kick();
    return result;
  }

  /** Asks `target` to take over leadership (leader only); false when it cannot be tried now. */
  transferLeadership(target: NodeId): boolean {
    const started = this.node.transferLeadership(target);
    if (started) this.kick();
    return started;
  }

  /** Resolves with a read index once this node has applied up to it (linearizable read point). */
  readIndex(): Promise<number> {
    if (this.reads.size >= MAX_PENDING_READS) return Promise.reject(new Error('too many pending reads'));
    const context = `${this.options.nodeId}/${this.nextReadId++}`;
    const result = this.node.readIndex(context);
    if (!result.ok) return Promise.reject(new NotLeaderError(this.node.raft.lead));
    this.kick();
    return new Promise((resolve, reject) => this.reads.set(context, { resolve, reject, index: -1 }));
  }

  /** Calls `listener` after every batch of applied entries (e.g. to resolve waiting requests). */
  onApplied(listener: () => void): () => void {
    this.appliedListeners.add(listener);
    return () => this.appliedListeners.delete(listener);
  }

  /** Processes Readys soon, once per macrotask however many events asked for it. */
  private kick(): void {
    if (this.kickScheduled || this.stopped) return;
    this.kickScheduled = true;
    setImmediate(() => {
      this.kickScheduled = false;
      this.processReady();
    });
  }

  /**
   * Takes a Ready and handles it. Readys are pipelined (RawNode allows a few writes in flight):
   * the next one is taken as soon as this one's committed entries are applied, while its write is
   * still being fsynced, so the event loop keeps proposing and replicating instead of waiting for
   * the disk. Writes complete in order (one WAL), and each Ready's messages wait for its write.
   */
  private processReady(): void {
    if (this.stopped) return;
    this.forwardProposals();
    if (!this.node.hasReady()) return;
    const ready = this.node.ready();
    const previous = this.lastPersist;
    const persisted = this.handleReady(ready, previous).catch((error: unknown) => {
      // A failed fsync leaves the node in an unknown durable state: stopping is the only safe move.
      if (!this.stopped)
        this.options.logger.error({ err: error }, 'persisting Raft state failed; stopping this node');
      this.stop();
    });
    this.lastPersist = persisted;
    this.kick();
  }

  private async handleReady(ready: Ready, previous: Promise<void>): Promise<void> {
    // A leader may send appends and heartbeats while its own disk write runs (Raft thesis §10.2.1):
    // it counts itself toward commit only after persisting. Everything else waits for the fsync.
    const early = this.node.raft.role === 'leader' ? ready.messages.filter(isLeaderReplication) : [];
    const late =
      early.length > 0 ? ready.messages.filter((message) => !isLeaderReplication(message)) : ready.messages;
    if (early.length > 0) this.options.send(early);
    const write = this.options.storage.persist({
      hardState: ready.hardState,
      entries: ready.entries,
      snapshot: ready.snapshot,
    });
    // Committed entries are durable on a quorum already, so they are applied (and their clients
    // answered) while this Ready's new entries are being fsynced, not one fsync later. A snapshot
    // is only installed once it is durable, so a crash never leaves state ahead of the disk's log.
    if (!ready.snapshot) this.finishApplying(ready);
    await previous;
    await write;
    if (this.stopped) return;
    if (late.length > 0) this.options.send(late);
    this.node.advancePersisted(ready);
    if (ready.snapshot) {
      this.restores++;
      this.options.stateMachine.restore(ready.snapshot);
      this.finishApplying(ready);
    }
    this.kick();
  }

  /** Applies `ready`'s committed entries, serves reads that became ready, and confirms to Raft. */
  private finishApplying(ready: Ready): void {
    if (ready.snapshot) this.appliedBytesSinceSnapshot = 0;
    for (const entry of ready.committedEntries) {
      this.options.stateMachine.apply(entry);
      this.appliedBytesSinceSnapshot += entry.data.byteLength;
    }
    const lastApplied = ready.committedEntries.at(-1)?.index ?? ready.snapshot?.metadata.index;
    for (const state of ready.readStates) {
      const waiter = this.reads.get(state.context);
      if (waiter) waiter.index = state.index;
    }
    for (const context of ready.droppedReads) {
      this.reads.get(context)?.reject(new NotLeaderError(this.node.raft.lead));
      this.reads.delete(context);
    }
    const confState = this.node.advanceApplied(ready);
    if (lastApplied !== undefined) this.appliedIndex = Math.max(this.appliedIndex, lastApplied);
    if (confState) this.options.onConfChange?.(confState);
    this.releaseReads();
    for (const listener of this.appliedListeners) listener();
    this.maybeSnapshot();
  }

  private releaseReads(): void {
    for (const [context, waiter] of this.reads) {
      if (waiter.index < 0 || waiter.index > this.appliedIndex) continue;
      this.reads.delete(context);
      waiter.resolve(waiter.index);
    }
  }

  private maybeSnapshot(): void {
    const memory = this.options.storage.memory;
    const snapshotIndex = memory.snapshot().metadata.index;
    if (this.snapshotInFlight || this.appliedIndex - snapshotIndex < this.options.snapshotEveryEntries)
      return;
    const logBytes = this.appliedBytesSinceSnapshot;
    if (logBytes < memory.snapshot().data.byteLength && logBytes < SNAPSHOT_DEFERRED_LOG_BYTES_MAX) return;
    const index = this.appliedIndex;
    const term = memory.term(index);
    if (term === undefined) return;
    const confState = this.node.raft.confState;
    const builder = this.options.stateMachine.beginSnapshot();
    this.snapshotInFlight = true;
    this.buildSnapshot(builder)
      .then((data) => {
        if (data === undefined) return undefined;
        // What was applied after `index` stays counted toward the next snapshot.
        this.appliedBytesSinceSnapshot -= logBytes;
        const snapshot: Snapshot = { metadata: { index, term, confState }, data };
        const compactTo = Math.max(memory.firstIndex() - 1, index - this.options.entriesKeptAfterSnapshot);
        return this.options.storage
          .saveSnapshot(snapshot, compactTo, this.options.stateMachine.snapshotChecksum?.(data))
          .then(() => this.options.logger.info({ index, compactTo }, 'snapshot saved, log compacted'));
      })
      .catch((error: unknown) => this.options.logger.error({ err: error, index }, 'saving a snapshot failed'))
      .finally(() => {
        this.snapshotInFlight = false;
      });
  }

  /**
   * Steps `builder` to the end, one step per event-loop turn, so entries keep being applied and
   * messages answered meanwhile. Undefined when it cannot finish: the state changed under it (a
   * compaction; the next applied entry starts a new one), a leader's snapshot replaced the state,
   * or the node stopped. After a few stale ones in a row, the next is built in one go.
   */
  private async buildSnapshot(builder: SnapshotBuilder): Promise<Uint8Array | undefined> {
    if (this.staleSnapshots >= STALE_SNAPSHOTS_BEFORE_BLOCKING) {
      while (!builder.step()) {
        // nothing runs in between: this one cannot go stale
      }
      this.staleSnapshots = 0;
      return builder.finish();
    }
    const restores = this.restores;
    const data = await buildInTurns(builder, () => this.stopped || this.restores !== restores);
    if (data !== undefined) this.staleSnapshots = 0;
    else if (builder.stale) {
      this.staleSnapshots++;
      this.options.logger.info(
        { stale: this.staleSnapshots },
        'snapshot abandoned: a compaction ran while it was built',
      );
    }
    return data;
  }
}

function isLeaderReplication(message: Message): boolean {
  return message.type === 'append' || message.type === 'heartbeat' || message.type === 'snapshot';
}
