// History reads for watchers that catch up: the events a range of keys saw from a revision on, in
// (revision, sub-revision) order, as apply() reported them. Only the histories of keys in the range
// are read (a single-key read is one lookup), merged through a min-heap, and cut at a revision
// boundary once a batch is full, so a watch never sees a revision split across two reads.
import type { RangeBound } from './bytes.js';
import type { KeyValue, KvEvent } from './etcd-types.js';
import type { KeyHistory } from './key-history.js';
import type { KeyIndex } from './key-index.js';

export interface HistoryEventsOptions {
  /** Fill each event's prevKv (the key before the event's revision), as apply() does. */
  readonly prevKv: boolean;
  /** Events per read; exceeded only when the first revision read has more events on its own. */
  readonly maxEvents: number;
  /**
   * Approximate bytes per read (keys and values, see {@link eventBytes}); exceeded only when the
   * first revision read is bigger on its own. Unbounded when absent.
   */
  readonly maxBytes?: number;
}

/** One batch of history: every event in the range with revision in [fromRevision, nextRevision). */
export interface HistoryEvents {
  /** Whole revisions only, ascending by (revision, sub-revision). */
  readonly events: KvEvent[];
  /** Where the next read resumes; the store's current revision + 1 once the read reached it. */
  readonly nextRevision: number;
}

/** Per-event overhead in the byte estimate: the revisions, version, lease and framing. */
const EVENT_OVERHEAD_BYTES = 32;
const EMPTY_VALUE = new Uint8Array(0);

/** The byte estimate the read's `maxBytes` bounds: keys and values, plus a fixed overhead. */
export function eventBytes(event: KvEvent): number {
  const previous = event.prevKv === undefined ? 0 : event.prevKv.key.length + event.prevKv.value.length;
  return EVENT_OVERHEAD_BYTES + event.kv.key.length + event.kv.value.length + previous;
}

/** A key's next unread change: `history.revisions[position]`. */
interface Cursor {
  readonly history: KeyHistory;
  position: number;
}

/**
 * Reads the events of keys in [key, bound) with revision ≥ `fromRevision` (which the caller has
 * checked against compaction), up to the store's `currentRevision`.
 */
export function readHistoryEvents(
  index: KeyIndex,
  key: Uint8Array,
  bound: RangeBound,
  fromRevision: number,
  currentRevision: number,
  options: HistoryEventsOptions,
): HistoryEvents {
  if (!Number.isSafeInteger(fromRevision))
    throw new Error(`fromRevision must be an integer, got ${fromRevision}`);
  if (!Number.isSafeInteger(options.maxEvents) || options.maxEvents < 1) {
    throw new Error(`maxEvents must be a positive integer, got ${options.maxEvents}`);
  }
  const heap = new CursorHeap();
  index.visit(key, bound, (history) => {
    // Most keys in a wide range have not changed lately: one comparison skips them.
    const last = history.revisions.at(-1);
    if (last !== undefined && last.main >= fromRevision) {
      heap.push({ history, position: firstPositionAtOrAfter(history, fromRevision) });
    }
    return true;
  });
  return takeWholeRevisions(heap, fromRevision, currentRevision, options);
}

/** Pops events in order until the heap is empty or the batch is full at a revision boundary. */
function takeWholeRevisions(
  heap: CursorHeap,
  fromRevision: number,
  currentRevision: number,
  options: HistoryEventsOptions,
): HistoryEvents {
  const maxBytes = options.maxBytes ?? Number.POSITIVE_INFINITY;
  const events: KvEvent[] = [];
  let bytes = 0;
  let revision = -1;
  // Where the revision being read starts in `events`.
  let revisionStart = 0;
  for (let cursor = heap.peek(); cursor !== undefined; cursor = heap.peek()) {
    const change = cursor.history.revisions[cursor.position]!;
    if (change.main !== revision) {
      if (events.length >= options.maxEvents || bytes >= maxBytes)
        return { events, nextRevision: change.main };
      revision = change.main;
      revisionStart = events.length;
    }
    const event = eventAt(cursor.history, cursor.position, options.prevKv);
    events.push(event);
    bytes += eventBytes(event);
    // Over the bound inside a later revision: give that revision back whole, to the next read.
    if (revisionStart > 0 && (events.length > options.maxEvents || bytes > maxBytes)) {
      events.length = revisionStart;
      return { events, nextRevision: revision };
    }
    cursor.position++;
    if (cursor.position < cursor.history.revisions.length) heap.siftDownTop();
    else heap.pop();
  }
  return { events, nextRevision: Math.max(fromRevision, currentRevision + 1) };
}

/** The event apply() reported for a key's change: the same kv, and prevKv as etcd's watch fills it. */
function eventAt(history: KeyHistory, position: number, withPrevKv: boolean): KvEvent {
  const change = history.revisions[position]!;
  const kv = change.kv;
  // A creation has no prevKv; any other change's is the key as of the revision before.
  const created = kv !== undefined && kv.version === 1;
  const prevKv = withPrevKv && !created ? visibleBefore(history, position, change.main) : undefined;
  return kv === undefined
    ? { type: 'DELETE', kv: tombstoneKeyValue(history.key, change.main), prevKv }
    : { type: 'PUT', kv, prevKv };
}

/** The key's value at `revision - 1`: the last change before `position` made by an earlier revision. */
function visibleBefore(history: KeyHistory, position: number, revision: number): KeyValue | undefined {
  let earlier = position - 1;
  while (earlier >= 0 && history.revisions[earlier]!.main === revision) earlier--;
  return earlier < 0 ? undefined : history.revisions[earlier]!.kv;
}

/** A DELETE event's kv as apply() reports it: the key and the deletion revision only. */
function tombstoneKeyValue(key: Uint8Array, revision: number): KeyValue {
  return { key, createRevision: 0, modRevision: revision, version: 0, value: EMPTY_VALUE, lease: 0n };
}

/** Index of the first change with main ≥ revision (the caller knows the last one qualifies). */
function firstPositionAtOrAfter(history: KeyHistory, revision: number): number {
  const revisions = history.revisions;
  let low = 0;
  let high = revisions.length - 1;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (revisions[middle]!.main < revision) low = middle + 1;
    else high = middle;
  }
  return low;
}

/** A binary min-heap of cursors by their next change's (main, sub). */
class CursorHeap {
  private readonly cursors: Cursor[] = [];

  peek(): Cursor | undefined {
    return this.cursors[0];
  }

  push(cursor: Cursor): void {
    const cursors = this.cursors;
    cursors.push(cursor);
    let child = cursors.length - 1;
    while (child > 0) {
      const parent = (child - 1) >>> 1;
      if (!before(cursors[child]!, cursors[parent]!)) break;
      swap(cursors, child, parent);
      child = parent;
    }
  }

  pop(): void {
    const cursors = this.cursors;
    const last = cursors.pop();
    if (last === undefined || cursors.length === 0) return;
    cursors[0] = last;
    this.siftDownTop();
  }

  /** Restores heap order after the top cursor moved on. */
  siftDownTop(): void {
    const cursors = this.cursors;
    let parent = 0;
    for (;;) {
      const left = 2 * parent + 1;
      const right = left + 1;
      let smallest = parent;
      if (left < cursors.length && before(cursors[left]!, cursors[smallest]!)) smallest = left;
      if (right < cursors.length && before(cursors[right]!, cursors[smallest]!)) smallest = right;
      if (smallest === parent) return;
      swap(cursors, parent, smallest);
      parent = smallest;
    }
  }
}

function before(a: Cursor, b: Cursor): boolean {
  const changeA = a.history.revisions[a.position]!;
  const changeB = b.history.revisions[b.position]!;
  return changeA.main < changeB.main || (changeA.main === changeB.main && changeA.sub < changeB.sub);
}

function swap(cursors: Cursor[], i: number, j: number): void {
  const held = cursors[i]!;
  cursors[i] = cursors[j]!;
  cursors[j] = held;
}
