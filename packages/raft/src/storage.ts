// The one interface between the Raft core and persisted state. The core only reads through it;
// the driver writes (after it has made the writes durable) and then tells the core via advance().
import { EntryArchive } from './entry-archive.js';
import type { ConfState, Entry, HardState, Snapshot } from './types.js';
import { ENTRY_OVERHEAD_BYTES, entryBytes, invariant } from './types.js';

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

/** Entries kept as objects at the log's end, where Raft reads (apply, replication to followers). */
export const RECENT_ENTRIES_MAX = 1_024;
/** Older entries move to the archive in batches of at most this many entries, and of this many bytes. */
const ARCHIVE_BATCH_ENTRIES = 512;
const ARCHIVE_BATCH_BYTES = 1024 * 1024;

export interface MemoryStorageOptions {
  /** Entries kept as given before the oldest are packed (tests make it small). */
  readonly recentEntriesMax?: number;
}

/**
 * Stable storage held in memory: the driver appends here what it has persisted elsewhere (or,
 * in tests and benchmarks, nothing else). The log starts after a base (the snapshot's index and
 * term, or a later compaction point). The newest entries are kept as given; older ones are packed
 * into an EntryArchive, since the log holds every entry since the last snapshot and an entry
 * object costs far more than its data. Entries read from the archive are new objects.
 */
export class MemoryStorage implements Storage {
  private hardState: HardState = EMPTY_HARD_STATE;
  private latestSnapshot: Snapshot;
  /** The entry just before the log (compacted away, or the snapshot's). */
  private baseIndex = 0;
  private baseTerm = 0;
  /** Entries baseIndex + 1 … recentFirst - 1. */
  private readonly archive = new EntryArchive();
  /** Entries recentFirst …, as given. */
  private recent: Entry[] = [];
  private recentFirst = 1;
  private readonly recentEntriesMax: number;

  constructor(confState: ConfState = EMPTY_CONF_STATE, options: MemoryStorageOptions = {}) {
    this.latestSnapshot = { metadata: { index: 0, term: 0, confState }, data: new Uint8Array(0) };
    this.recentEntriesMax = options.recentEntriesMax ?? RECENT_ENTRIES_MAX;
    invariant(this.recentEntriesMax >= 2, `recentEntriesMax ${this.recentEntriesMax} is below 2`);
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
    return this.baseIndex + 1;
  }

  lastIndex(): number {
    return this.recentFirst + this.recent.length - 1;
  }

  term(index: number): number | undefined {
    if (index < this.baseIndex || index > this.lastIndex()) return undefined;
    if (index >= this.recentFirst) return this.recent[index - this.recentFirst]!.term;
    if (index === this.baseIndex) return this.baseTerm;
    return this.archive.term(index);
  }

  entries(lo: number, hi: number, maxBytes: number): Entry[] {
    invariant(
      lo > this.baseIndex && hi <= this.lastIndex() + 1 && lo <= hi,
      `entries(${lo}, ${hi}) out of range`,
    );
    const result: Entry[] = [];
    let bytes = 0;
    for (let index = lo; index < hi; index++) {
      if (index >= this.recentFirst) {
        const entry = this.recent[index - this.recentFirst]!;
        bytes += entryBytes(entry);
        if (result.length > 0 && bytes > maxBytes) break;
        result.push(entry);
        continue;
      }
      // Sized before it is copied out, so an entry left out costs nothing.
      bytes += this.archive.dataBytes(index) + ENTRY_OVERHEAD_BYTES;
      if (result.length > 0 && bytes > maxBytes) break;
      result.push(this.archive.entry(index));
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
    invariant(first > this.baseIndex, `append at ${first} overlaps the snapshot at ${this.baseIndex}`);
    invariant(first <= this.lastIndex() + 1, `append at ${first} leaves a gap after ${this.lastIndex()}`);
    if (first >= this.recentFirst) {
      this.recent.length = first - this.recentFirst;
    } else {
      this.archive.truncateFrom(first);
      this.recent = [];
      this.recentFirst = first;
    }
    for (const entry of entries) this.recent.push(entry);
    if (this.recent.length > this.recentEntriesMax) this.archiveOldest();
  }

  /** Installs a snapshot received from the leader, discarding the log it covers. */
  applySnapshot(snapshot: Snapshot): void {
    const { index, term } = snapshot.metadata;
    if (index <= this.latestSnapshot.metadata.index) return;
    const keepsSuffix = this.term(index) === term;
    this.latestSnapshot = snapshot;
    if (keepsSuffix) {
      this.dropThrough(index);
    } else {
      this.archive.clear();
      this.recent = [];
      this.recentFirst = index + 1;
    }
    this.baseIndex = index;
    this.baseTerm = term;
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
    return this.entries(this.firstIndex(), this.lastIndex() + 1, Number.POSITIVE_INFINITY);
  }

  /** Drops entries up to and including `index` (never beyond the snapshot: those are still needed). */
  compact(index: number): void {
    if (index <= this.baseIndex) return;
    invariant(index <= this.lastIndex(), `compact(${index}) beyond last index ${this.lastIndex()}`);
    invariant(index <= this.latestSnapshot.metadata.index, `compact(${index}) beyond the snapshot`);
    const term = this.term(index)!;
    this.dropThrough(index);
    this.baseIndex = index;
    this.baseTerm = term;
  }

  /** Forgets entries up to and including `index` (≤ lastIndex). */
  private dropThrough(index: number): void {
    if (index < this.recentFirst) {
      this.archive.dropThrough(index);
      return;
    }
    this.archive.clear();
    this.recent = this.recent.slice(index + 1 - this.recentFirst);
    this.recentFirst = index + 1;
  }

  /** Packs the oldest recent entries, leaving half of recentEntriesMax as objects. */
  private archiveOldest(): void {
    const moving = this.recent.length - (this.recentEntriesMax >> 1);
    let start = 0;
    while (start < moving) {
      let end = start;
      let bytes = 0;
      while (end < moving && end - start < ARCHIVE_BATCH_ENTRIES) {
        bytes += this.recent[end]!.data.byteLength;
        if (end > start && bytes > ARCHIVE_BATCH_BYTES) break;
        end++;
      }
      this.archive.push(this.recent.slice(start, end));
      start = end;
    }
    this.recent = this.recent.slice(moving);
    this.recentFirst += moving;
  }
}
