// The one interface between the Raft core and persisted state. The core only reads through it;
// the driver writes (after it has made the writes durable) and then tells the core via advance().
import type { ConfState, Entry, HardState, Snapshot } from './types.js';
import { entryBytes, invariant } from './types.js';

export interface InitialState {
  readonly hardState: HardState;
  readonly confState: ConfState;
}

/** Read access to stable (persisted) Raft state. */
export interface Storage {
  initialState(): InitialState;
  /** Entries in [lo, hi), at least one if any exist, stopping before `maxBytes` is exceeded. */
  entries(lo: number, hi: number, maxBytes: number): Entry[];
  /** Term of the entry at `index`; the snapshot index is answered too. `undefined` if compacted or beyond. */
  term(index: number): number | undefined;
  /** Index of the first entry still in the log (snapshot index + 1). */
  firstIndex(): number;
  lastIndex(): number;
  /** The latest snapshot (index 0 when none). */
  snapshot(): Snapshot;
}

export const EMPTY_CONF_STATE: ConfState = {
  voters: [],
  votersOutgoing: [],
  learners: [],
  learnersNext: [],
  autoLeave: false,
};

export const EMPTY_HARD_STATE: HardState = { term: 0, vote: '', commit: 0 };

/**
 * Stable storage held in memory: the driver appends here what it has persisted elsewhere (or,
 * in tests and benchmarks, nothing else). Entries are kept after a dummy entry at the snapshot index.
 */
export class MemoryStorage implements Storage {
  private hardState: HardState = EMPTY_HARD_STATE;
  private latestSnapshot: Snapshot;
  /** log[0] is a dummy holding the snapshot's index and term. */
  private log: Entry[];

  constructor(confState: ConfState = EMPTY_CONF_STATE) {
    this.latestSnapshot = { metadata: { index: 0, term: 0, confState }, data: new Uint8Array(0) };
    this.log = [{ index: 0, term: 0, kind: 'normal', data: new Uint8Array(0) }];
  }

  initialState(): InitialState {
    return { hardState: this.hardState, confState: this.latestSnapshot.metadata.confState };
  }

  setHardState(hardState: HardState): void {
    this.hardState = hardState;
  }

  /** Replaces the conf state a fresh node boots with (bootstrap only). */
  bootstrap(confState: ConfState): void {
    invariant(this.lastIndex() === 0, 'bootstrap on a non-empty storage');
    this.latestSnapshot = {
      metadata: { ...this.latestSnapshot.metadata, confState },
      data: new Uint8Array(0),
    };
  }

  firstIndex(): number {
    return this.log[0]!.index + 1;
  }

  lastIndex(): number {
    return this.log[0]!.index + this.log.length - 1;
  }

  term(index: number): number | undefined {
    const offset = this.log[0]!.index;
    if (index < offset || index > this.lastIndex()) return undefined;
    return this.log[index - offset]!.term;
  }

  entries(lo: number, hi: number, maxBytes: number): Entry[] {
    const offset = this.log[0]!.index;
    invariant(lo > offset && hi <= this.lastIndex() + 1 && lo <= hi, `entries(${lo}, ${hi}) out of range`);
    const result: Entry[] = [];
    let bytes = 0;
    for (let index = lo; index < hi; index++) {
      const entry = this.log[index - offset]!;
      bytes += entryBytes(entry);
      if (result.length > 0 && bytes > maxBytes) break;
      result.push(entry);
    }
    return result;
  }

  snapshot(): Snapshot {
    return this.latestSnapshot;
  }

  /** Appends persisted entries, truncating any conflicting suffix first. */
  append(entries: readonly Entry[]): void {
    if (entries.length === 0) return;
    const first = entries[0]!.index;
    const offset = this.log[0]!.index;
    invariant(first > offset, `append at ${first} overlaps the snapshot at ${offset}`);
    invariant(first <= this.lastIndex() + 1, `append at ${first} leaves a gap after ${this.lastIndex()}`);
    this.log.length = first - offset;
    for (const entry of entries) this.log.push(entry);
  }

  /** Installs a snapshot received from the leader, discarding the log it covers. */
  applySnapshot(snapshot: Snapshot): void {
    const { index, term } = snapshot.metadata;
    if (index <= this.latestSnapshot.metadata.index) return;
    const keepsSuffix = this.term(index) === term;
    const suffix = keepsSuffix ? this.log.slice(index - this.log[0]!.index + 1) : [];
    this.latestSnapshot = snapshot;
    this.log = [{ index, term, kind: 'normal', data: new Uint8Array(0) }, ...suffix];
  }

  /**
   * Records a snapshot the application took at `index` (≤ applied). The log is kept; call
   * compact() separately, usually some entries behind, so slow followers can still catch up from the log.
   */
  createSnapshot(index: number, confState: ConfState, data: Uint8Array): Snapshot {
    const term = this.term(index);
    invariant(term !== undefined, `snapshot at ${index} outside the log`);
    invariant(index >= this.latestSnapshot.metadata.index, `snapshot at ${index} older than the current one`);
    const snapshot: Snapshot = { metadata: { index, term, confState }, data };
    this.latestSnapshot = snapshot;
    return snapshot;
  }

  /** All entries from firstIndex on, e.g. to rewrite a log file after compaction. */
  allEntries(): readonly Entry[] {
    return this.log.slice(1);
  }

  /** Drops entries up to and including `index` (never beyond the snapshot: those are still needed). */
  compact(index: number): void {
    const offset = this.log[0]!.index;
    if (index <= offset) return;
    invariant(index <= this.lastIndex(), `compact(${index}) beyond last index ${this.lastIndex()}`);
    invariant(index <= this.latestSnapshot.metadata.index, `compact(${index}) beyond the snapshot`);
    const term = this.log[index - offset]!.term;
    this.log = [
      { index, term, kind: 'normal', data: new Uint8Array(0) },
      ...this.log.slice(index - offset + 1),
    ];
  }
}
