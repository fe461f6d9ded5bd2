// The older part of MemoryStorage's log, packed. A log entry kept as an object costs about 550
// bytes beyond its data (the Entry, its Uint8Array, the ArrayBuffer and the buffer's native
// bookkeeping), and the log holds every entry since the last snapshot: tens of thousands. Here a
// batch of consecutive entries shares one byte array, with its terms, kinds and data offsets in
// typed arrays: about 13 bytes per entry beyond the data.
import type { Entry, EntryKind } from './types.js';
import { invariant } from './types.js';

const KIND_NORMAL = 0;
const KIND_CONFIG = 1;

interface Batch {
  /** Index of the batch's first entry. */
  readonly first: number;
  /** Entries still in the log: a truncation of the log's end lowers it. */
  count: number;
  readonly terms: Float64Array;
  readonly kinds: Uint8Array;
  /** ends[i]: where entry first + i's data ends in `bytes` (it starts where the previous one ends). */
  readonly ends: Uint32Array;
  readonly bytes: Uint8Array;
}

/**
 * Consecutive entries, oldest first. The first batch may start before firstIndex (entries dropped
 * from the front stay in memory until their whole batch goes).
 *
 * @example
 * const archive = new EntryArchive();
 * archive.push(entries);             // indices 5..8
 * archive.dropThrough(6);            // 7..8 remain
 * archive.entry(7);                  // a new Entry whose data is a copy
 */
export class EntryArchive {
  private batches: Batch[] = [];
  /** First index still in the log (meaningful while size > 0). */
  private firstIndex = 0;

  /** Index of the last entry; firstIndex - 1 when empty. */
  lastIndex(): number {
    const last = this.batches.at(-1);
    return last === undefined ? this.firstIndex - 1 : last.first + last.count - 1;
  }

  /** Appends entries following the last one (any index when empty). */
  push(entries: readonly Entry[]): void {
    if (entries.length === 0) return;
    const first = entries[0]!.index;
    if (this.batches.length === 0) this.firstIndex = first;
    invariant(first === this.lastIndex() + 1, `archive push at ${first} after ${this.lastIndex()}`);
    let total = 0;
    for (const entry of entries) total += entry.data.byteLength;
    invariant(total <= 0xffff_ffff, `archive batch of ${total} bytes`);
    const batch: Batch = {
      first,
      count: entries.length,
      terms: new Float64Array(entries.length),
      kinds: new Uint8Array(entries.length),
      ends: new Uint32Array(entries.length),
      bytes: new Uint8Array(total),
    };
    let end = 0;
    for (let offset = 0; offset < entries.length; offset++) {
      const entry = entries[offset]!;
      invariant(entry.index === first + offset, `archive push: entry ${entry.index} out of order`);
      batch.terms[offset] = entry.term;
      batch.kinds[offset] = entry.kind === 'config' ? KIND_CONFIG : KIND_NORMAL;
      batch.bytes.set(entry.data, end);
      end += entry.data.byteLength;
      batch.ends[offset] = end;
    }
    this.batches.push(batch);
  }

  term(index: number): number {
    const batch = this.batchOf(index);
    return batch.terms[index - batch.first]!;
  }

  /** Bytes of the entry's data. */
  dataBytes(index: number): number {
    const batch = this.batchOf(index);
    const offset = index - batch.first;
    return batch.ends[offset]! - (offset === 0 ? 0 : batch.ends[offset - 1]!);
  }

  /**
   * The entry as a new object. Its data is a copy, not a view: a caller that keeps it (or a
   * decoded part of it) must not pin the whole batch.
   */
  entry(index: number): Entry {
    const batch = this.batchOf(index);
    const offset = index - batch.first;
    const start = offset === 0 ? 0 : batch.ends[offset - 1]!;
    const kind: EntryKind = batch.kinds[offset] === KIND_CONFIG ? 'config' : 'normal';
    return { term: batch.terms[offset]!, index, kind, data: batch.bytes.slice(start, batch.ends[offset]!) };
  }

  /** Forgets the entries up to and including `index`. */
  dropThrough(index: number): void {
    if (index < this.firstIndex) return;
    if (index >= this.lastIndex()) {
      this.clear();
      return;
    }
    let gone = 0;
    while (this.batches[gone]!.first + this.batches[gone]!.count - 1 <= index) gone++;
    if (gone > 0) this.batches = this.batches.slice(gone);
    this.firstIndex = index + 1;
  }

  /** Forgets the entries from `index` on. */
  truncateFrom(index: number): void {
    if (index <= this.firstIndex) {
      this.clear();
      return;
    }
    while (this.batches.length > 0 && this.batches.at(-1)!.first >= index) this.batches.pop();
    const last = this.batches.at(-1);
    if (last !== undefined) last.count = Math.min(last.count, index - last.first);
  }

  clear(): void {
    this.batches = [];
  }

  /** The batch holding `index` (binary search: batches are few). */
  private batchOf(index: number): Batch {
    invariant(index >= this.firstIndex && index <= this.lastIndex(), `archive has no entry ${index}`);
    let low = 0;
    let high = this.batches.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >> 1;
      if (this.batches[middle]!.first <= index) low = middle;
      else high = middle - 1;
    }
    return this.batches[low]!;
  }
}
