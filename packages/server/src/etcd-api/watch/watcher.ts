// One watch: what it wants (range, filters, prevKv, progress, fragments), where it stands (synced,
// or catching up from history, and the next revision it needs), and its buffer of unsent events.
import type { KvEvent } from '@synod/state';
import { type IndexedRange, keyString } from './key-range-index.js';
import type { WatchStream } from './watch-stream.js';
import type { WatchCreateRequest } from './watch-types.js';

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
  /** Unsent events of whole revisions, ascending, from `bufferHead` on. */
  buffer: KvEvent[] = [];
  bufferHead = 0;
  bufferBytes = 0;
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

  get bufferedEvents(): number {
    return this.buffer.length - this.bufferHead;
  }

  /** Whether a take could produce something for this watcher now. */
  get hasWork(): boolean {
    return this.bufferedEvents > 0 || !this.synced || this.progressDue;
  }

  /** The events this watch wants, as it wants them (filters, prevKv). */
  wanted(events: readonly KvEvent[]): KvEvent[] {
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
  let stripped = strippedEvents.get(event);
  if (stripped === undefined) {
    stripped = { ...event, prevKv: undefined };
    strippedEvents.set(event, stripped);
  }
  return stripped;
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
