// Rebuilds the Raft log from WAL records in file order, with the same rules MemoryStorage applies
// when the records were first written: an entries record replaces any suffix it conflicts with
// (the later record for an index wins, so no explicit truncate record is needed), and a snapshot
// marker the log does not contain restarts the log after it (a snapshot installed from the leader).
import type { Entry, HardState } from '@synod/raft';
import type { WalRecord } from './wal-record.js';

export interface SnapshotMark {
  readonly index: number;
  readonly term: number;
}

/** The log as the WAL describes it: entries after `base`, the last hard state, the newest marker. */
export class LogReplay {
  /** Index just before entries[0]; undefined until the first entries record. */
  base: number | undefined;
  /** Term at `base`, known only when a snapshot marker set the base. */
  baseTerm: number | undefined;
  readonly entries: Entry[] = [];
  hardState: HardState | undefined;
  latestSnapshotMarker: SnapshotMark | undefined;

  lastIndex(): number | undefined {
    return this.base === undefined ? undefined : this.base + this.entries.length;
  }

  /** Term of the entry at `index`, if the replayed log holds it (or it is the marked base). */
  term(index: number): number | undefined {
    if (this.base === undefined) return undefined;
    if (index === this.base) return this.baseTerm;
    return this.entries[index - this.base - 1]?.term;
  }

  /** Applies one record; returns why it cannot follow what came before, or undefined when it fits. */
  apply(record: WalRecord): string | undefined {
    switch (record.type) {
      case 'entries':
        return this.applyEntries(record.entries);
      case 'hardState':
        this.hardState = record.hardState;
        return undefined;
      case 'snapshotMarker':
        this.applyMarker(record.index, record.term);
        return undefined;
      case 'segmentHeader':
        return undefined;
    }
  }

  private applyEntries(batch: readonly Entry[]): string | undefined {
    const first = batch[0]!.index;
    if (this.base === undefined) this.base = first - 1;
    const last = this.base + this.entries.length;
    if (first > last + 1) return `entries start at index ${first} but the log ends at ${last}`;
    if (first <= this.base) return `entries at index ${first} overwrite the log start ${this.base + 1}`;
    this.entries.length = first - this.base - 1;
    for (const entry of batch) this.entries.push(entry);
    return undefined;
  }

  private applyMarker(index: number, term: number): void {
    if (this.latestSnapshotMarker === undefined || index > this.latestSnapshotMarker.index)
      this.latestSnapshotMarker = { index, term };
    // Before the first entries (older segments released) a marker says nothing about the log: a
    // local snapshot's marker can trail the entries it covers into the next segment.
    if (this.base === undefined || index <= this.base || this.term(index) === term) return;
    // The log lacks (index, term): the snapshot came from the leader and replaced the log.
    this.base = index;
    this.baseTerm = term;
    this.entries.length = 0;
  }
}
