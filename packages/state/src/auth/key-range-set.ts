// The union of a user's permitted key ranges, merged into disjoint sorted intervals, so that "is
// all of [key, rangeEnd) permitted?" is one binary search. etcd answers the same question with an
// interval tree (server/auth/range_perm_cache.go: a request is allowed when the union of the
// user's roles' permissions of that type covers its whole range).
import { compareBytes, isFromKeyRangeEnd } from '../mvcc/bytes.js';

/** A half-open key interval [begin, end); `end` undefined means no upper bound. */
export interface KeyInterval {
  readonly begin: Uint8Array;
  readonly end: Uint8Array | undefined;
}

/**
 * The keys a (key, rangeEnd) pair names, by etcd's rules: empty rangeEnd is the single key (the
 * interval [key, key + "\0"), which holds that key only), `"\0"` is every key from `key` on.
 * An inverted pair (rangeEnd ≤ key) names no keys; it comes back as such (begin ≥ end).
 */
export function keyInterval(key: Uint8Array, rangeEnd: Uint8Array): KeyInterval {
  if (rangeEnd.length === 0) return { begin: key, end: successorKey(key) };
  if (isFromKeyRangeEnd(rangeEnd)) return { begin: key, end: undefined };
  return { begin: key, end: rangeEnd };
}

/** The smallest key after `key`: `key + "\0"`. */
export function successorKey(key: Uint8Array): Uint8Array {
  const next = new Uint8Array(key.length + 1);
  next.set(key);
  return next;
}

export function isEmptyInterval(interval: KeyInterval): boolean {
  return interval.end !== undefined && compareBytes(interval.begin, interval.end) >= 0;
}

/** Compares interval ends, where undefined (no bound) is above every key. */
function compareEnds(a: Uint8Array | undefined, b: Uint8Array | undefined): number {
  if (a === undefined) return b === undefined ? 0 : 1;
  if (b === undefined) return -1;
  return compareBytes(a, b);
}

/**
 * An immutable set of keys made of intervals.
 *
 * @example
 * const set = KeyRangeSet.from([keyInterval(utf8('a'), utf8('c')), keyInterval(utf8('c'), utf8('e'))]);
 * set.covers(keyInterval(utf8('b'), utf8('d'))); // true: [a, c) ∪ [c, e) = [a, e)
 */
export class KeyRangeSet {
  /** Disjoint, non-adjacent, ascending: begins[i] < ends[i] ≤ begins[i + 1]. */
  private readonly begins: readonly Uint8Array[];
  private readonly ends: readonly (Uint8Array | undefined)[];

  private constructor(begins: Uint8Array[], ends: (Uint8Array | undefined)[]) {
    this.begins = begins;
    this.ends = ends;
  }

  static readonly EMPTY = new KeyRangeSet([], []);

  /** Merges intervals (overlapping and touching ones become one); empty intervals add nothing. */
  static from(intervals: Iterable<KeyInterval>): KeyRangeSet {
    const sorted = [...intervals]
      .filter((interval) => !isEmptyInterval(interval))
      .sort((a, b) => compareBytes(a.begin, b.begin));
    const begins: Uint8Array[] = [];
    const ends: (Uint8Array | undefined)[] = [];
    for (const interval of sorted) {
      const last = ends.length - 1;
      const lastEnd = ends[last];
      if (last >= 0 && (lastEnd === undefined || compareBytes(interval.begin, lastEnd) <= 0)) {
        if (compareEnds(interval.end, lastEnd) > 0) ends[last] = interval.end;
      } else {
        begins.push(interval.begin);
        ends.push(interval.end);
      }
    }
    return new KeyRangeSet(begins, ends);
  }

  /** Disjoint intervals after merging. */
  get intervalCount(): number {
    return this.begins.length;
  }

  /**
   * Whether every key of `interval` is in the set. A non-empty interval is covered only by one
   * merged interval, since merged intervals leave a gap between them. An empty interval is
   * judged by its first key, like a request for that single key.
   */
  covers(interval: KeyInterval): boolean {
    const query = isEmptyInterval(interval) ? keyInterval(interval.begin, new Uint8Array(0)) : interval;
    const index = this.lastBeginAtOrBefore(query.begin);
    if (index < 0) return false;
    return compareEnds(query.end, this.ends[index]) <= 0;
  }

  /** Whether the single key is in the set (no allocation: the hot path of point requests). */
  containsKey(key: Uint8Array): boolean {
    const index = this.lastBeginAtOrBefore(key);
    if (index < 0) return false;
    const end = this.ends[index];
    return end === undefined || compareBytes(key, end) < 0;
  }

  /** Index of the last interval whose begin ≤ key, or -1. */
  private lastBeginAtOrBefore(key: Uint8Array): number {
    let low = 0;
    let high = this.begins.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (compareBytes(this.begins[middle]!, key) <= 0) low = middle + 1;
      else high = middle;
    }
    return low - 1;
  }
}
