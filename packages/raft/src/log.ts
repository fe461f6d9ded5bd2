// The Raft log as the core sees it: stable entries (in Storage, already persisted) followed by
// unstable ones (appended in memory, handed to the driver in the next Ready to persist).
import type { Storage } from './storage.js';
import type { Entry, Snapshot } from './types.js';
import { entryBytes, invariant } from './types.js';

export class RaftLog {
  readonly storage: Storage;
  /** Highest index known to be committed (Raft Figure 2: commitIndex). */
  committed: number;
  /** Highest index the application has applied (confirmed by advance()). */
  applied: number;
  /** Highest index handed to the application in a Ready (≥ applied). */
  applying: number;
  private unstableSnapshot: Snapshot | undefined;
  private unstableEntries: Entry[] = [];
  /** Index of unstableEntries[0]. */
  private unstableOffset: number;
  /**
   * First unstable index not yet handed to the driver to persist. Entries between unstableOffset
   * and here are being written (a Ready whose persist has not finished): the driver may pipeline
   * Readys, so each entry is handed out once, and again only if a truncation replaced it.
   */
  private inProgressOffset: number;
  /** The unstable snapshot was handed out and is being written. */
  private snapshotInProgress = false;

  constructor(storage: Storage) {
    this.storage = storage;
    this.committed = storage.initialState().hardState.commit;
    this.applied = storage.firstIndex() - 1;
    this.applying = this.applied;
    this.unstableOffset = storage.lastIndex() + 1;
    this.inProgressOffset = this.unstableOffset;
    invariant(this.committed >= this.applied, 'persisted commit index is below the snapshot index');
    invariant(
      this.committed <= storage.lastIndex(),
      'persisted commit index is beyond the last persisted entry',
    );
  }

  firstIndex(): number {
    return this.unstableSnapshot ? this.unstableSnapshot.metadata.index + 1 : this.storage.firstIndex();
  }

  /** Everything below unstableOffset is stable (or the pending snapshot); a truncation moves the offset down. */
  lastIndex(): number {
    return this.unstableOffset + this.unstableEntries.length - 1;
  }

  /** Last index that is both persisted and still part of the log: what a leader may count for itself. */
  stableLastIndex(): number {
    return this.unstableSnapshot ? this.unstableSnapshot.metadata.index : this.unstableOffset - 1;
  }

  /** Term of the entry at `index`, or undefined when compacted away or beyond the log. */
  term(index: number): number | undefined {
    if (index >= this.unstableOffset) return this.unstableEntries[index - this.unstableOffset]?.term;
    if (this.unstableSnapshot) {
      const snapshotIndex = this.unstableSnapshot.metadata.index;
      if (index === snapshotIndex) return this.unstableSnapshot.metadata.term;
      if (index < snapshotIndex) return undefined;
    }
    return this.storage.term(index);
  }

  lastTerm(): number {
    const term = this.term(this.lastIndex());
    invariant(term !== undefined, 'the last entry has no term');
    return term;
  }

  matchTerm(index: number, term: number): boolean {
    return this.term(index) === term;
  }

  /** Raft §5.4.1: a candidate's log is at least as up to date as ours. */
  isUpToDate(lastIndex: number, lastTerm: number): boolean {
    const ourTerm = this.lastTerm();
    return lastTerm > ourTerm || (lastTerm === ourTerm && lastIndex >= this.lastIndex());
  }

  /** Leader path: append new entries at the end. Returns the new last index. */
  append(entries: readonly Entry[]): number {
    if (entries.length === 0) return this.lastIndex();
    const first = entries[0]!.index;
    invariant(first > this.committed, `append at ${first} would overwrite committed ${this.committed}`);
    this.truncateAndAppend(entries);
    return this.lastIndex();
  }

  /**
   * Follower path (AppendEntries receiver, Raft Figure 2 steps 2–5). Returns the index of the
   * last entry now known to match the leader, or undefined when prevLogIndex/prevLogTerm do not match.
   */
  maybeAppend(prevIndex: number, prevTerm: number, leaderCommit: number, entries: readonly Entry[]) {
    if (!this.matchTerm(prevIndex, prevTerm)) return undefined;
    const lastNewIndex = prevIndex + entries.length;
    const conflict = this.findConflict(entries);
    if (conflict !== 0) {
      // Only an actual term conflict truncates: a stale or duplicated message must never cut entries.
      invariant(conflict > this.committed, `entry ${conflict} conflicts with committed ${this.committed}`);
      this.truncateAndAppend(entries.slice(conflict - entries[0]!.index));
    }
    this.commitTo(Math.min(leaderCommit, lastNewIndex));
    return lastNewIndex;
  }

  /** Index of the first entry whose term differs from ours (or which we lack); 0 if all match. */
  findConflict(entries: readonly Entry[]): number {
    for (const entry of entries) {
      if (!this.matchTerm(entry.index, entry.term)) return entry.index;
    }
    return 0;
  }

  /** Fast backtracking: the largest index ≤ `index` whose term is ≤ `term` (etcd's findConflictByTerm). */
  findConflictByTerm(index: number, term: number): { index: number; term: number } {
    let candidate = Math.min(index, this.lastIndex());
    for (;;) {
      const candidateTerm = this.term(candidate);
      if (candidateTerm === undefined) return { index: candidate, term: 0 };
      if (candidateTerm <= term) return { index: candidate, term: candidateTerm };
      candidate--;
    }
  }

  commitTo(index: number): void {
    if (index <= this.committed) return;
    invariant(index <= this.lastIndex(), `commit ${index} beyond last index ${this.lastIndex()}`);
    this.committed = index;
  }

  /** Raft §5.4.2: only entries of the current term are committed by counting replicas. */
  maybeCommit(index: number, currentTerm: number, allowPreviousTerm = false): boolean {
    if (index <= this.committed) return false;
    if (!allowPreviousTerm && this.term(index) !== currentTerm) return false;
    this.commitTo(index);
    return true;
  }

  /** Entries in [lo, hi) from stable and unstable parts, stopping at maxBytes (at least one entry). */
  slice(lo: number, hi: number, maxBytes: number): Entry[] {
    invariant(lo >= this.firstIndex() && hi <= this.lastIndex() + 1, `slice(${lo}, ${hi}) out of range`);
    if (lo >= hi) return [];
    const result: Entry[] = [];
    let bytes = 0;
    if (lo < this.unstableOffset) {
      const stable = this.storage.entries(lo, Math.min(hi, this.unstableOffset), maxBytes);
      for (const entry of stable) bytes += entryBytes(entry);
      result.push(...stable);
      if (stable.length < Math.min(hi, this.unstableOffset) - lo) return result;
    }
    for (let index = Math.max(lo, this.unstableOffset); index < hi; index++) {
      const entry = this.unstableEntries[index - this.unstableOffset]!;
      bytes += entryBytes(entry);
      if (result.length > 0 && bytes > maxBytes) break;
      result.push(entry);
    }
    return result;
  }

  unstable(): { entries: readonly Entry[]; snapshot: Snapshot | undefined } {
    return { entries: this.unstableEntries, snapshot: this.unstableSnapshot };
  }

  hasUnstable(): boolean {
    return this.unstableEntries.length > 0 || this.unstableSnapshot !== undefined;
  }

  /** The unstable snapshot and entries not yet handed out to persist (see inProgressOffset). */
  toPersist(): { entries: readonly Entry[]; snapshot: Snapshot | undefined } {
    const from = Math.max(this.inProgressOffset, this.unstableOffset) - this.unstableOffset;
    return {
      entries: from === 0 ? this.unstableEntries : this.unstableEntries.slice(from),
      snapshot: this.snapshotInProgress ? undefined : this.unstableSnapshot,
    };
  }

  hasToPersist(): boolean {
    return (
      (this.unstableSnapshot !== undefined && !this.snapshotInProgress) ||
      this.inProgressOffset <= this.lastIndex()
    );
  }

  /** An unstable snapshot is waiting to be handed out. */
  hasSnapshotToPersist(): boolean {
    return this.unstableSnapshot !== undefined && !this.snapshotInProgress;
  }

  /** Everything returned by toPersist() was handed to the driver. */
  markInProgress(): void {
    this.inProgressOffset = this.lastIndex() + 1;
    if (this.unstableSnapshot) this.snapshotInProgress = true;
  }

  /** Committed entries not yet handed to the application, bounded by maxBytes. */
  nextCommittedEntries(maxBytes: number): Entry[] {
    if (this.unstableSnapshot !== undefined) return []; // the snapshot is applied first
    const lo = Math.max(this.applying + 1, this.firstIndex());
    if (this.committed < lo) return [];
    return this.slice(lo, this.committed + 1, maxBytes);
  }

  hasNextCommittedEntries(): boolean {
    return this.unstableSnapshot === undefined && this.committed > this.applying;
  }

  applyingTo(index: number): void {
    invariant(index <= this.committed && index >= this.applying, `applyingTo(${index}) out of order`);
    this.applying = index;
  }

  appliedTo(index: number): void {
    invariant(index <= this.applying && index >= this.applied, `appliedTo(${index}) out of order`);
    this.applied = index;
  }

  /** The driver persisted entries up to (index, term): they leave the unstable part. */
  stableTo(index: number, term: number): void {
    if (index < this.unstableOffset || this.term(index) !== term) return; // replaced meanwhile
    this.unstableEntries = this.unstableEntries.slice(index + 1 - this.unstableOffset);
    this.unstableOffset = index + 1;
    this.inProgressOffset = Math.max(this.inProgressOffset, this.unstableOffset);
  }

  stableSnapshotTo(index: number): void {
    if (this.unstableSnapshot?.metadata.index !== index) return;
    this.unstableSnapshot = undefined;
    this.snapshotInProgress = false;
  }

  /** Replaces the log with a snapshot from the leader (InstallSnapshot receiver). */
  restore(snapshot: Snapshot): void {
    const { index } = snapshot.metadata;
    invariant(index > this.committed, `restore(${index}) at or below commit ${this.committed}`);
    this.committed = index;
    this.unstableSnapshot = snapshot;
    this.snapshotInProgress = false;
    this.unstableEntries = [];
    this.unstableOffset = index + 1;
    this.inProgressOffset = this.unstableOffset;
  }

  /** After the application installed a snapshot, nothing below it is applied separately. */
  snapshotApplied(index: number): void {
    this.applied = Math.max(this.applied, index);
    this.applying = Math.max(this.applying, index);
  }

  /** Only for the 'truncate-without-conflict' mutation: replace everything after `prevIndex`. */
  forceTruncateAfter(prevIndex: number, entries: readonly Entry[]): void {
    this.inProgressOffset = Math.min(this.inProgressOffset, prevIndex + 1);
    if (prevIndex + 1 <= this.unstableOffset) {
      this.unstableOffset = prevIndex + 1;
      this.unstableEntries = [...entries];
    } else {
      this.unstableEntries = this.unstableEntries
        .slice(0, prevIndex + 1 - this.unstableOffset)
        .concat(entries);
    }
  }

  private truncateAndAppend(entries: readonly Entry[]): void {
    const first = entries[0]!.index;
    // Replaced entries (even ones being written) must be handed out again.
    this.inProgressOffset = Math.min(this.inProgressOffset, first);
    if (first === this.unstableOffset + this.unstableEntries.length) {
      for (const entry of entries) this.unstableEntries.push(entry);
    } else if (first <= this.unstableOffset) {
      // Replaces the unstable part and possibly a suffix of stable entries; the driver truncates on persist.
      this.unstableOffset = first;
      this.unstableEntries = [...entries];
    } else {
      this.unstableEntries = this.unstableEntries.slice(0, first - this.unstableOffset).concat(entries);
    }
  }
}
