// The revisions of one key: every put and delete not yet compacted away, oldest first. A delete
// leaves a tombstone that ends the key's current generation (etcd's keyIndex generations): the
// key is absent at any revision whose latest entry is a tombstone.
import type { KeyValue } from './etcd-types.js';

/** One change to a key: at revision `main`, the `sub`-th change of that revision's request. */
export interface KeyRevision {
  readonly main: number;
  readonly sub: number;
  /** The key's value from this change on; undefined for a delete (tombstone). */
  readonly kv: KeyValue | undefined;
}

export class KeyHistory {
  readonly key: Uint8Array;
  /** Ascending by (main, sub); never empty while the key is in the index. */
  readonly revisions: KeyRevision[] = [];

  constructor(key: Uint8Array) {
    this.key = key;
  }

  /** The key's value at `revision` (seeing every change of that revision), or undefined if absent. */
  visibleAt(revision: number): KeyValue | undefined {
    const index = this.lastIndexAtOrBefore(revision);
    return index < 0 ? undefined : this.revisions[index]!.kv;
  }

  /** The latest value, or undefined when the key is deleted (or has no history). */
  latest(): KeyValue | undefined {
    return this.revisions.at(-1)?.kv;
  }

  append(change: KeyRevision): void {
    const last = this.revisions.at(-1);
    if (
      last !== undefined &&
      (change.main < last.main || (change.main === last.main && change.sub <= last.sub))
    ) {
      throw new Error(`key revision ${change.main}.${change.sub} is not after ${last.main}.${last.sub}`);
    }
    this.revisions.push(change);
  }

  /**
   * Drops what no read at `revision` or later can see: every change before the one visible at
   * `revision`, and that one too when it is a tombstone. Returns whether anything is left.
   */
  compact(revision: number): boolean {
    const index = this.lastIndexAtOrBefore(revision);
    if (index < 0) return this.revisions.length > 0;
    const keepFrom = this.revisions[index]!.kv === undefined ? index + 1 : index;
    if (keepFrom > 0) this.revisions.splice(0, keepFrom);
    return this.revisions.length > 0;
  }

  /** Index of the last change with main ≤ revision, or -1. The latest is checked first: most reads are current. */
  private lastIndexAtOrBefore(revision: number): number {
    const revisions = this.revisions;
    const lastIndex = revisions.length - 1;
    if (lastIndex < 0) return -1;
    if (revisions[lastIndex]!.main <= revision) return lastIndex;
    let low = 0;
    let high = lastIndex; // revisions[high].main > revision
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (revisions[middle]!.main <= revision) low = middle + 1;
      else high = middle;
    }
    return low - 1;
  }
}
