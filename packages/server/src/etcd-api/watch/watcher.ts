// One watch: what it wants (range, filters, prevKv, progress, fragments), where it stands (synced,
// or catching up from history, and the next revision it needs), and its buffer of unsent events.
import type { KvEvent } from '@synod/state';
import { type IndexedRange, keyString } from './key-range-index.js';
import type { WatchStream } from './watch-stream.js';
import type { WatchCreateRequest } from './watch-types.js';

/** An emptied buffer keeps at most this many slots for reuse (see Watcher.buffer). */
const BUFFER_SLOTS_KEPT = 32;

export class Watcher {
  readonly id: number;
  readonly stream: WatchStream;
  readonly key: Uint8Array;
  readonly rangeEnd: Uint8Array;
  readonly indexed: IndexedRange;
  readonly noPut: boolean;
  readonly noDelete: boolean;
  readonly prevKv: boolean;
  readonly progressNotify: boolean;
  readonly fragment: boolean;
  synced: boolean;
  /** Every event before this revision has been buffered or sent (or filtered); none after it. */
  nextRevision: number;
  /**
   * Unsent events, one list per revision, ascending, in slots `bufferHead` to `bufferTail`
   * (exclusive); the other slots are empty. A list is usually shared with every other watcher
   * that wants the same events (see wanted), so buffering an event costs a watcher a reference,
   * and the slots are reused, so a steady stream of events allocates nothing here.
   */
  buffer: (readonly KvEvent[] | undefined)[] = [];
  /** The encoded size of each slot's events (eventBytes), so a take need not measure them again. */
  bufferSlotBytes: number[] = [];
  bufferHead = 0;
  bufferTail = 0;
  /** Events in the buffer. */
  bufferedEvents = 0;
  bufferBytes = 0;
  /** Its place in its stream's ReadyQueue; -1 while not queued. */
  readySlot = -1;
  /** A progress notification is owed (progress_notify interval passed without events). */
  progressDue = false;
  sentSinceProgressTick = false;

  constructor(
    id: number,
    stream: WatchStream,
    request: WatchCreateRequest,
    key: Uint8Array,
    nextRevision: number,
    synced: boolean,
  ) {
    this.id = id;
    this.stream = stream;
    this.key = key;
    this.rangeEnd = request.rangeEnd;
    this.indexed = indexedRange(key, request.rangeEnd);
    this.noPut = request.filters.includes('NOPUT');
    this.noDelete = request.filters.includes('NODELETE');
    this.prevKv = request.prevKv;
    this.progressNotify = request.progressNotify;
    this.fragment = request.fragment;
    this.synced = synced;
    this.nextRevision = nextRevision;
  }

  /** Appends one revision's events, `bytes` in all, to the buffer (the caller checked the limits). */
  bufferRevision(events: readonly KvEvent[], bytes: number): void {
    const buffer = this.buffer;
    // Slots before the head are empty: reuse them before growing, so a watcher that is never
    // quite drained does not grow its slots without end.
    if (this.bufferTail === buffer.length && this.bufferHead * 2 >= buffer.length && this.bufferHead > 0) {
      buffer.copyWithin(0, this.bufferHead, this.bufferTail);
      buffer.fill(undefined, this.bufferTail - this.bufferHead, this.bufferTail);
      this.bufferSlotBytes.copyWithin(0, this.bufferHead, this.bufferTail);
      this.bufferTail -= this.bufferHead;
      this.bufferHead = 0;
    }
    this.bufferSlotBytes[this.bufferTail] = bytes;
    buffer[this.bufferTail++] = events;
    this.bufferedEvents += events.length;
    this.bufferBytes += bytes;
  }

  /**
   * Takes whole revisions from the front of the buffer, at least one, more while they fit in
   * `eventsMax` events and `bytesMax` bytes; returns their events. One revision (the usual case)
   * is the list it was buffered as, shared with the other watchers given it, so their responses
   * can share one encoding too.
   */
  takeBuffered(eventsMax: number, bytesMax: number): readonly KvEvent[] {
    const buffer = this.buffer;
    const head = this.bufferHead;
    let end = head;
    let eventCount = 0;
    let bytes = 0;
    while (end < this.bufferTail) {
      const revisionEvents = buffer[end]!.length;
      const revisionBytes = this.bufferSlotBytes[end]!;
      if (end > head && (eventCount + revisionEvents > eventsMax || bytes + revisionBytes > bytesMax)) break;
      end++;
      eventCount += revisionEvents;
      bytes += revisionBytes;
    }
    if (end === head) throw new Error('takeBuffered: the buffer is empty');
    const events =
      end === head + 1 ? buffer[head]! : (buffer.slice(head, end) as (readonly KvEvent[])[]).flat();
    buffer.fill(undefined, head, end);
    this.bufferedEvents -= eventCount;
    this.bufferBytes -= bytes;
    if (end < this.bufferTail) this.bufferHead = end;
    else {
      this.bufferHead = this.bufferTail = 0;
      // A burst grew the slots: give the memory back rather than keep it for every watcher.
      if (buffer.length > BUFFER_SLOTS_KEPT) {
        this.buffer = [];
        this.bufferSlotBytes = [];
      }
    }
    return events;
  }

  /** Whether a take could produce something for this watcher now. */
  get hasWork(): boolean {
    return this.bufferedEvents > 0 || !this.synced || this.progressDue;
  }

  /**
   * The events this watch wants, as it wants them (filters, prevKv). Without filters the answer is
   * shared with every other such watcher: the events themselves, or their list without prev_kv.
   */
  wanted(delivered: DeliveredEvents): readonly KvEvent[] {
    const events = delivered.events;
    if (!this.noPut && !this.noDelete) return this.prevKv ? events : delivered.withoutPrevKv;
    const wanted: KvEvent[] = [];
    for (const event of events) {
      if (event.type === 'PUT' ? this.noPut : this.noDelete) continue;
      wanted.push(this.prevKv || event.prevKv === undefined ? event : withoutPrevKv(event));
    }
    return wanted;
  }
}

/**
 * An event without its previous value, the same object for every watcher that did not ask for
 * prev_kv: so a response's encoding can be shared between them (see watch-codec).
 */
const strippedEvents = new WeakMap<KvEvent, KvEvent>();

function withoutPrevKv(event: KvEvent): KvEvent {
  if (event.prevKv === undefined) return event;
  let stripped = strippedEvents.get(event);
  if (stripped === undefined) {
    stripped = { ...event, prevKv: undefined };
    strippedEvents.set(event, stripped);
  }
  return stripped;
}

/**
 * Events on their way to many watchers (one write's, or one history read's): the list without
 * prev_kv is made once, when a watcher first needs it, and then shared.
 */
export class DeliveredEvents {
  readonly events: readonly KvEvent[];
  private stripped: readonly KvEvent[] | undefined;

  constructor(events: readonly KvEvent[]) {
    this.events = events;
  }

  get withoutPrevKv(): readonly KvEvent[] {
    if (this.stripped === undefined) {
      this.stripped = this.events.some((event) => event.prevKv !== undefined)
        ? this.events.map(withoutPrevKv)
        : this.events;
    }
    return this.stripped;
  }
}

/** etcd rewrites an empty watch key to "\0", the smallest key. */
export const SMALLEST_KEY = new Uint8Array([0]);

export function isFromKey(rangeEnd: Uint8Array): boolean {
  return rangeEnd.length === 1 && rangeEnd[0] === 0;
}

function indexedRange(key: Uint8Array, rangeEnd: Uint8Array): IndexedRange {
  if (rangeEnd.length === 0) return { kind: 'key', key: keyString(key) };
  return { kind: 'range', start: keyString(key), end: isFromKey(rangeEnd) ? undefined : keyString(rangeEnd) };
}
