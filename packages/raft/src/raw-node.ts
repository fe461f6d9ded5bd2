// The driver's handle on one Raft group member. Everything the application must do comes out
// of ready(), in this order: persist (hardState, entries, snapshot), then send messages, then
// apply committedEntries, then call advance(ready). Nothing is handed out twice.
//
// A driver may also pipeline: apply a Ready's committed entries and call advanceApplied(ready),
// take the next Ready while the first one's write is still running, and call
// advancePersisted(ready) as each write completes, in order. Messages of a Ready still go out only
// after its write AND every earlier Ready's write are durable. A Ready holding a snapshot is never
// pipelined: it is handed out only when no write is running, and nothing follows it until both
// advance calls.
import type { RaftConfig } from './config.js';
import { resolveConfig } from './config.js';
import type { ProposeResult, ReadIndexResult } from './leader.js';
import { Raft } from './leader.js';
import { decodeConfChange } from './membership.js';
import type { Storage } from './storage.js';
import type {
  ConfChange,
  ConfState,
  Entry,
  HardState,
  Message,
  NodeId,
  ReadState,
  Role,
  Snapshot,
} from './types.js';
import { invariant } from './types.js';

export interface Ready {
  /** Persist before sending messages, if present (it changed). */
  readonly hardState: HardState | undefined;
  /** Append to stable storage (truncating any conflicting suffix), before sending messages. */
  readonly entries: readonly Entry[];
  /** Install and persist before anything else, if present. */
  readonly snapshot: Snapshot | undefined;
  /** Send after persisting. */
  readonly messages: readonly Message[];
  /** Apply in order, after persisting. Config entries are applied to membership by advance(). */
  readonly committedEntries: readonly Entry[];
  /** Linearizable read points: serve each once applied ≥ index. */
  readonly readStates: readonly ReadState[];
  /** Read contexts that will never be answered (leadership changed): retry them. */
  readonly droppedReads: readonly string[];
  /** True when hardState or entries must be fsynced before messages go out. */
  readonly mustSync: boolean;
}

export interface Status {
  readonly id: NodeId;
  readonly group: string;
  readonly role: Role;
  readonly term: number;
  readonly vote: NodeId;
  readonly lead: NodeId;
  readonly commit: number;
  readonly applied: number;
  readonly lastIndex: number;
  readonly confState: ConfState;
  readonly leadTransferee: NodeId;
}

/** Readys handed out whose write has not completed (advancePersisted), at most. */
export const MAX_READIES_PERSISTING = 8;

export class RawNode {
  readonly raft: Raft;
  private persistedHardState: HardState;
  /** The hard state in the newest Ready handed out (being written or written). */
  private handedOutHardState: HardState;
  /** A Ready whose committed entries are not yet applied (advanceApplied). */
  private readyApplying: Ready | undefined;
  /** Readys being written, oldest first. */
  private readonly readiesPersisting: Ready[] = [];

  constructor(options: Partial<RaftConfig> & Pick<RaftConfig, 'id' | 'random'>, storage: Storage) {
    this.raft = new Raft(resolveConfig(options), storage);
    this.persistedHardState = storage.initialState().hardState;
    this.handedOutHardState = this.persistedHardState;
  }

  tick(): void {
    this.raft.tick();
  }

  step(message: Message): void {
    this.raft.step(message);
  }

  propose(data: Uint8Array): ProposeResult {
    return this.raft.propose(data);
  }

  proposeConfChange(change: ConfChange): ProposeResult {
    return this.raft.proposeConfChange(change);
  }

  readIndex(context: string): ReadIndexResult {
    return this.raft.readIndex(context);
  }

  transferLeadership(target: NodeId): boolean {
    return this.raft.transferLeadership(target);
  }

  /** Starts an election now (bootstrap, tests). */
  campaign(): void {
    this.raft.campaign(this.raft.config.preVote ? 'preVote' : 'vote', false);
  }

  hasReady(): boolean {
    if (this.readyApplying || this.readiesPersisting.length >= MAX_READIES_PERSISTING) return false;
    const raft = this.raft;
    const persisting = this.readiesPersisting.length > 0;
    // A snapshot is written and installed alone.
    if (persisting && (this.readiesPersisting[0]!.snapshot || raft.log.hasSnapshotToPersist())) return false;
    return (
      raft.messages.length > 0 ||
      this.hardStateChanged() ||
      raft.log.hasToPersist() ||
      raft.log.hasNextCommittedEntries() ||
      raft.readStates.length > 0 ||
      raft.droppedReads.length > 0 ||
      raft.hasPendingBroadcast()
    );
  }

  /** What the driver must do next. Call advance(ready) when done (or the two pipelined halves). */
  ready(): Ready {
    invariant(this.readyApplying === undefined, 'ready() called again before advance()');
    invariant(this.readiesPersisting.length < MAX_READIES_PERSISTING, 'too many Readys being written');
    const raft = this.raft;
    raft.flushBroadcast();
    const unstable = raft.log.toPersist();
    const hardState = this.hardStateChanged() ? this.currentHardState() : undefined;
    const entries = [...unstable.entries];
    const committedEntries = raft.log.nextCommittedEntries(raft.config.maxCommittedBytesPerReady);
    const ready: Ready = {
      hardState,
      entries,
      snapshot: unstable.snapshot,
      messages: raft.messages,
      committedEntries,
      readStates: raft.readStates,
      droppedReads: raft.droppedReads,
      mustSync:
        entries.length > 0 ||
        (hardState !== undefined &&
          (hardState.term !== this.handedOutHardState.term ||
            hardState.vote !== this.handedOutHardState.vote)),
    };
    raft.messages = [];
    raft.readStates = [];
    raft.droppedReads = [];
    raft.log.markInProgress();
    if (hardState) this.handedOutHardState = hardState;
    if (committedEntries.length > 0)
      raft.log.applyingTo(committedEntries[committedEntries.length - 1]!.index);
    this.readyApplying = ready;
    this.readiesPersisting.push(ready);
    return ready;
  }

  /**
   * The driver persisted, sent and applied `ready`. Config entries among its committed entries
   * take effect now; returns the membership after them when it changed.
   */
  advance(ready: Ready): ConfState | undefined {
    this.advancePersisted(ready);
    return this.advanceApplied(ready);
  }

  /** `ready`'s hard state, entries and snapshot are durable (call in the order Readys were taken). */
  advancePersisted(ready: Ready): void {
    invariant(this.readiesPersisting[0] === ready, 'advancePersisted() out of order');
    this.readiesPersisting.shift();
    const raft = this.raft;
    if (ready.hardState) this.persistedHardState = ready.hardState;
    if (ready.snapshot) raft.log.stableSnapshotTo(ready.snapshot.metadata.index);
    const lastEntry = ready.entries[ready.entries.length - 1];
    if (lastEntry) raft.onPersisted(lastEntry.index, lastEntry.term);
  }

  /**
   * `ready`'s committed entries (and snapshot) are applied. Config entries among them take effect
   * now; returns the membership after them when it changed. A snapshot Ready must be persisted first.
   */
  advanceApplied(ready: Ready): ConfState | undefined {
    invariant(this.readyApplying === ready, 'advanceApplied() with a Ready that is not the one applying');
    invariant(
      !ready.snapshot || !this.readiesPersisting.includes(ready),
      'a snapshot is applied only once it is persisted',
    );
    this.readyApplying = undefined;
    const raft = this.raft;
    if (ready.snapshot) raft.log.snapshotApplied(ready.snapshot.metadata.index);
    let confState: ConfState | undefined;
    for (const entry of ready.committedEntries) {
      raft.log.appliedTo(entry.index);
      if (entry.kind !== 'config') continue;
      confState = raft.applyConfigEntry(entry, decodeConfChange(entry.data)) ?? confState;
    }
    if (ready.committedEntries.length > 0) raft.maybeAutoLeave();
    return confState;
  }

  status(): Status {
    const raft = this.raft;
    return {
      id: raft.id,
      group: raft.config.group,
      role: raft.role,
      term: raft.term,
      vote: raft.vote,
      lead: raft.lead,
      commit: raft.log.committed,
      applied: raft.log.applied,
      lastIndex: raft.log.lastIndex(),
      confState: raft.confState,
      leadTransferee: raft.leadTransferee,
    };
  }

  private currentHardState(): HardState {
    return { term: this.raft.term, vote: this.raft.vote, commit: this.raft.log.committed };
  }

  private hardStateChanged(): boolean {
    const current = this.currentHardState();
    const persisted = this.handedOutHardState;
    return (
      current.term !== persisted.term ||
      current.vote !== persisted.vote ||
      current.commit !== persisted.commit
    );
  }
}
