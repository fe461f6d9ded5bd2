// The watch hub: every watch of every client stream, fed by the applied writes. As etcd's
// watchableStore, a watcher is either *synced* (caught up: each published write goes straight into
// its bounded buffer) or *unsynced* (behind: it reads history from the store in bounded batches
// until it reaches the present, then becomes synced). A synced watcher whose buffer is full, because
// its client reads slowly, becomes unsynced instead of blocking publish or growing memory; if the
// history it needs is compacted meanwhile, it is cancelled with compact_revision, as in etcd.
//
// No timers and no I/O: the gRPC service pulls responses from a stream when HTTP/2 flow control
// lets it send (so catch-up reads happen at the client's pace) and calls progressTick() on its own
// schedule. Publish cost is one index lookup per event key plus the watchers it concerns.
import type { EtcdError, HistoryEvents, HistoryEventsOptions, KvEvent } from '@synod/state';
import { ETCD_ERRORS, eventBytes } from '@synod/state';
import { type IndexedRange, KeyRangeIndex, keyString } from './key-range-index.js';

/** The store's history as the hub reads it; MvccStore is one. */
export interface WatchHistory {
  readonly currentRevision: number;
  readonly compactedRevision: number;
  eventsSince(
    key: Uint8Array,
    rangeEnd: Uint8Array,
    fromRevision: number,
    options: HistoryEventsOptions,
  ): HistoryEvents | { error: EtcdError };
}

export type WatchFilter = 'NOPUT' | 'NODELETE';

/** etcd's WatchCreateRequest. */
export interface WatchCreateRequest {
  readonly key: Uint8Array;
  /** Empty: the key alone; "\0": every key ≥ key; else [key, rangeEnd). */
  readonly rangeEnd: Uint8Array;
  /** First revision to deliver (inclusive); 0 = after the current revision. */
  readonly startRevision: number;
  readonly progressNotify: boolean;
  readonly filters: readonly WatchFilter[];
  readonly prevKv: boolean;
  /** 0: the server picks one. */
  readonly watchId: number;
  readonly fragment: boolean;
}

/** One WatchResponse, before the service adds the header for `revision` (and splits it if asked). */
export interface WatchHubResponse {
  readonly watchId: number;
  /** The header revision. */
  readonly revision: number;
  readonly created: boolean;
  readonly canceled: boolean;
  readonly compactRevision: number;
  readonly cancelReason: string;
  readonly events: readonly KvEvent[];
  /** The watch asked for responses over the size limit to be split (WatchCreateRequest.fragment). */
  readonly fragment: boolean;
}

/** etcd's clientv3.InvalidWatchID: failed creates and stream-wide progress responses carry it. */
export const INVALID_WATCH_ID = -1;

/** etcd's cancel reasons for a create it refuses (mvcc/watcher.go), verbatim. */
export const WATCH_CREATE_REFUSALS = {
  emptyRange: 'mvcc: watcher range is empty',
  duplicateId: 'mvcc: duplicate watch ID provided on the WatchStream',
} as const;

export interface WatchHubLimits {
  /** Watches on one stream (etcd has none; clients such as etcd3 put all their watches on one stream). */
  readonly watchersPerStreamMax: number;
  /** Watches on this server. */
  readonly watchersMax: number;
  /** Events a synced watcher may hold unsent before it falls back to reading history. */
  readonly watcherBufferEventsMax: number;
  /** Bytes (eventBytes estimate) a synced watcher may hold unsent before it falls back to history. */
  readonly watcherBufferBytesMax: number;
  /** Bytes all watchers together may hold unsent; past it, watchers fall back to history. */
  readonly bufferedBytesMax: number;
  /** Events per response and per history read (a single revision with more comes whole). */
  readonly responseEventsMax: number;
  /** Bytes per response and per history read (a single revision with more comes whole). */
  readonly responseBytesMax: number;
  /** Created/canceled answers a stream may queue; the service stops reading requests when full. */
  readonly controlQueueResponsesMax: number;
  /** History reads one takeResponse() may do before it yields (reads whose events are all filtered). */
  readonly historyReadsPerTakeMax: number;
}

export const WATCH_HUB_DEFAULT_LIMITS: WatchHubLimits = {
  watchersPerStreamMax: 10_000,
  watchersMax: 100_000,
  watcherBufferEventsMax: 1_000,
  watcherBufferBytesMax: 1024 * 1024,
  bufferedBytesMax: 256 * 1024 * 1024,
  // etcd sends at most 1,000 revisions per catch-up response (watchBatchMaxRevs).
  responseEventsMax: 1_000,
  responseBytesMax: 1024 * 1024,
  // etcd's ctrlStreamBufLen.
  controlQueueResponsesMax: 16,
  historyReadsPerTakeMax: 8,
};

export interface WatchHubStats {
  readonly streams: number;
  readonly watchers: number;
  readonly unsyncedWatchers: number;
  readonly bufferedEvents: number;
  readonly bufferedBytes: number;
  /** Times a synced watcher's buffer was full and it fell back to history. */
  readonly slowWatcherFallbacks: number;
  /** Watches cancelled because the history they needed was compacted. */
  readonly compactionCancels: number;
}

class Watcher {
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
      wanted.push(this.prevKv || event.prevKv === undefined ? event : { ...event, prevKv: undefined });
    }
    return wanted;
  }
}

/**
 * All watches of a server. The KV state machine publishes each applied write; clients' streams
 * register watches and pull their responses.
 *
 * @example
 * const hub = new WatchHub(store);
 * const stream = hub.openStream();
 * stream.create({ key, rangeEnd: new Uint8Array(0), startRevision: 0, progressNotify: false,
 *   filters: [], prevKv: false, watchId: 0, fragment: false });
 * const applied = store.apply(write);
 * if (!('error' in applied)) hub.publish(applied.events, applied.revision);
 * stream.takeResponse(); // created, then the write's events
 */
export class WatchHub {
  readonly limits: WatchHubLimits;
  private readonly history: WatchHistory;
  private readonly index = new KeyRangeIndex<Watcher>();
  private readonly streams = new Set<WatchStream>();
  /** The last revision published: every synced watcher has every event up to it. */
  private published: number;
  private watcherCount = 0;
  private unsyncedCount = 0;
  private bufferedEventCount = 0;
  private bufferedByteCount = 0;
  private slowWatcherFallbackCount = 0;
  private compactionCancelCount = 0;

  constructor(history: WatchHistory, limits: Partial<WatchHubLimits> = {}) {
    this.history = history;
    this.limits = { ...WATCH_HUB_DEFAULT_LIMITS, ...limits };
    for (const [name, value] of Object.entries(this.limits)) {
      if (!Number.isSafeInteger(value) || value < 1)
        throw new Error(`watch limit ${name} must be a positive integer`);
    }
    this.published = history.currentRevision;
  }

  get stats(): WatchHubStats {
    return {
      streams: this.streams.size,
      watchers: this.watcherCount,
      unsyncedWatchers: this.unsyncedCount,
      bufferedEvents: this.bufferedEventCount,
      bufferedBytes: this.bufferedByteCount,
      slowWatcherFallbacks: this.slowWatcherFallbackCount,
      compactionCancels: this.compactionCancelCount,
    };
  }

  /** The last revision published. */
  get publishedRevision(): number {
    return this.published;
  }

  /** A client's watch stream; close it when the client goes. */
  openStream(): WatchStream {
    const stream = new WatchStream(this, this.history);
    this.streams.add(stream);
    return stream;
  }

  /**
   * Delivers one applied write's events (all at `revision`) to the synced watchers they concern.
   * Call it for every applied write, in order, right after applying it (no await in between): the
   * hub checks that the history and the published revision agree whenever a stream uses it. A
   * write that changed nothing (no events) may repeat the revision.
   */
  publish(events: readonly KvEvent[], revision: number): void {
    if (events.length === 0) {
      if (revision < this.published)
        throw new Error(`publish: revision ${revision} is before ${this.published}`);
      this.published = revision;
      return;
    }
    // A gap would silently cost synced watchers a revision: refuse it loudly.
    if (revision !== this.published + 1) {
      throw new Error(`publish: revision ${revision} does not follow ${this.published}`);
    }
    const matched = new Map<Watcher, KvEvent[]>();
    for (const event of events) {
      if (event.kv.modRevision !== revision)
        throw new Error(`publish: an event of revision ${event.kv.modRevision} in ${revision}`);
      this.index.forEachContaining(keyString(event.kv.key), (watcher) => {
        if (!watcher.synced || revision < watcher.nextRevision) return;
        const list = matched.get(watcher);
        if (list === undefined) matched.set(watcher, [event]);
        else list.push(event);
      });
    }
    this.published = revision;
    for (const [watcher, watcherEvents] of matched) this.deliver(watcher, watcherEvents, revision);
  }

  /**
   * The history was replaced (a Raft snapshot was installed): every synced watcher re-reads what
   * it has not seen from the new history, which may cancel it as compacted.
   */
  historyReplaced(): void {
    const revision = this.history.currentRevision;
    if (revision < this.published) throw new Error(`history went back from ${this.published} to ${revision}`);
    for (const stream of this.streams) {
      for (const watcher of stream.watchersInOrder()) {
        if (watcher.synced) stream.fallBehind(watcher, Math.max(watcher.nextRevision, this.published + 1));
      }
    }
    this.published = revision;
  }

  // ---- for WatchStream ----

  /**
   * @internal: history reads and the published stream must agree, or a watch could see a revision
   * twice or a progress response could vouch for an unpublished one.
   */
  assertPublishedUpToDate(): void {
    const revision = this.history.currentRevision;
    if (revision !== this.published) {
      throw new Error(
        `the store is at revision ${revision} but ${this.published} was published: publish each write as it is applied`,
      );
    }
  }

  /** @internal */
  canAddWatcher(stream: WatchStream): boolean {
    return (
      this.watcherCount < this.limits.watchersMax && stream.watcherCount < this.limits.watchersPerStreamMax
    );
  }

  /** @internal */
  addWatcher(watcher: Watcher): void {
    this.index.add(watcher.indexed, watcher);
    this.watcherCount++;
    if (!watcher.synced) this.unsyncedCount++;
  }

  /** @internal */
  removeWatcher(watcher: Watcher): void {
    this.index.remove(watcher.indexed, watcher);
    this.watcherCount--;
    if (!watcher.synced) this.unsyncedCount--;
    this.releaseBuffer(watcher.bufferedEvents, watcher.bufferBytes);
  }

  /** @internal */
  closeStream(stream: WatchStream): void {
    this.streams.delete(stream);
  }

  /** @internal */
  releaseBuffer(events: number, bytes: number): void {
    this.bufferedEventCount -= events;
    this.bufferedByteCount -= bytes;
    if (this.bufferedEventCount < 0 || this.bufferedByteCount < 0)
      throw new Error('watch buffer accounting went negative');
  }

  /** @internal */
  countUnsynced(delta: 1 | -1): void {
    this.unsyncedCount += delta;
  }

  /** @internal */
  countCompactionCancel(): void {
    this.compactionCancelCount++;
  }

  /** Buffers one revision's events for a synced watcher, or sends it back to history when full. */
  private deliver(watcher: Watcher, events: readonly KvEvent[], revision: number): void {
    const wanted = watcher.wanted(events);
    watcher.nextRevision = revision + 1;
    if (wanted.length === 0) return;
    let bytes = 0;
    for (const event of wanted) bytes += eventBytes(event);
    const limits = this.limits;
    // An empty buffer takes any one revision: a big txn must not make its watchers fall behind forever.
    const fits =
      watcher.bufferedEvents === 0 ||
      (watcher.bufferedEvents + wanted.length <= limits.watcherBufferEventsMax &&
        watcher.bufferBytes + bytes <= limits.watcherBufferBytesMax);
    if (!fits || this.bufferedByteCount + bytes > limits.bufferedBytesMax) {
      this.slowWatcherFallbackCount++;
      watcher.stream.fallBehind(watcher, revision);
      return;
    }
    for (const event of wanted) watcher.buffer.push(event);
    watcher.bufferBytes += bytes;
    this.bufferedEventCount += wanted.length;
    this.bufferedByteCount += bytes;
    watcher.stream.refreshReady(watcher);
  }
}

/** Resolves waiters when something changes; a waiter arriving after the change waits for the next. */
class Signal {
  private waiters: (() => void)[] = [];

  wait(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  notify(): void {
    const waiters = this.waiters;
    if (waiters.length === 0) return;
    this.waiters = [];
    for (const resolve of waiters) resolve();
  }
}

/**
 * One client stream's watches and the responses owed to it, in the order they must go out:
 * created/canceled answers first, then each watcher's events (round robin between watchers),
 * progress notifications after the events they vouch for.
 */
export class WatchStream {
  private readonly hub: WatchHub;
  private readonly history: WatchHistory;
  private readonly watchers = new Map<number, Watcher>();
  /** Watchers with something to take, in round-robin order. */
  private readonly ready = new Set<Watcher>();
  private control: WatchHubResponse[] = [];
  private nextWatchId = 0;
  private unsynced = 0;
  /** A progress_request waits for every watch to be synced and every buffered event to be sent. */
  private progressAllPending = false;
  private readonly workSignal = new Signal();
  private readonly controlRoomSignal = new Signal();
  private isClosed = false;

  /** @internal: use WatchHub.openStream. */
  constructor(hub: WatchHub, history: WatchHistory) {
    this.hub = hub;
    this.history = history;
  }

  get watcherCount(): number {
    return this.watchers.size;
  }

  get closed(): boolean {
    return this.isClosed;
  }

  /** Whether takeResponse() may return something now. */
  get hasWork(): boolean {
    return !this.isClosed && (this.control.length > 0 || this.ready.size > 0 || this.progressAllPending);
  }

  /** Whether create/cancel may be called: the queue of their answers is not full. */
  get hasControlRoom(): boolean {
    return this.control.length < this.hub.limits.controlQueueResponsesMax;
  }

  /** Resolves when takeResponse() may have something, or the stream closed. */
  waitForWork(): Promise<void> {
    return this.hasWork || this.isClosed ? Promise.resolve() : this.workSignal.wait();
  }

  /** Resolves when create/cancel may be called again, or the stream closed. */
  waitForControlRoom(): Promise<void> {
    return this.hasControlRoom || this.isClosed ? Promise.resolve() : this.controlRoomSignal.wait();
  }

  /** Registers a watch (as etcd's recvLoop does); its answer is queued for takeResponse(). */
  create(request: WatchCreateRequest): void {
    this.assertOpenWithControlRoom();
    this.hub.assertPublishedUpToDate();
    const currentRevision = this.history.currentRevision;
    const refused = this.refusal(request);
    if (refused !== undefined) {
      this.pushControl(
        controlResponse(INVALID_WATCH_ID, currentRevision, {
          created: true,
          canceled: true,
          cancelReason: refused,
        }),
      );
      return;
    }
    const id = request.watchId !== 0 ? request.watchId : this.freeWatchId();
    // etcd: a watch from now or from the future is synced at once; one from the past catches up.
    const start = request.startRevision;
    const synced = start === 0 || start > currentRevision;
    const nextRevision = Math.max(start, currentRevision + 1);
    const key = request.key.length === 0 ? SMALLEST_KEY : request.key;
    const watcher = new Watcher(id, this, request, key, synced ? nextRevision : start, synced);
    this.watchers.set(id, watcher);
    this.hub.addWatcher(watcher);
    if (!synced) this.unsynced++;
    this.pushControl(controlResponse(id, currentRevision, { created: true }));
    this.refreshReady(watcher);
  }

  /** Cancels a watch; as etcd 3.4, an unknown id gets no answer. */
  cancel(watchId: number): void {
    this.assertOpenWithControlRoom();
    const watcher = this.watchers.get(watchId);
    if (watcher === undefined) return;
    this.removeWatcher(watcher);
    this.pushControl(controlResponse(watchId, this.history.currentRevision, { canceled: true }));
  }

  /** A progress_request: one response with watch id -1 once every watch is synced (etcd's RequestProgressAll). */
  requestProgress(): void {
    // etcd sends nothing for a stream without watches, and keeps at most one request pending.
    if (this.isClosed || this.progressAllPending || this.watchers.size === 0) return;
    this.progressAllPending = true;
    this.workSignal.notify();
  }

  /** The progress_notify interval passed: watches that sent no events since the last tick owe a progress response. */
  progressTick(): void {
    for (const watcher of this.watchers.values()) {
      if (!watcher.progressNotify) continue;
      if (!watcher.sentSinceProgressTick) {
        watcher.progressDue = true;
        this.refreshReady(watcher);
      }
      watcher.sentSinceProgressTick = false;
    }
  }

  /**
   * The next response to send, or undefined when there is none now (see hasWork: a stream whose
   * history reads were all filtered out may have more after a yield).
   */
  takeResponse(): WatchHubResponse | undefined {
    if (this.isClosed) return undefined;
    this.hub.assertPublishedUpToDate();
    const control = this.control.shift();
    if (control !== undefined) {
      this.controlRoomSignal.notify();
      return control;
    }
    const progress = this.takeProgressAll();
    if (progress !== undefined) return progress;
    let reads = 0;
    for (const watcher of this.ready) {
      this.ready.delete(watcher);
      const readsHistory = watcher.bufferedEvents === 0 && !watcher.synced;
      const response = this.takeFrom(watcher);
      // The watcher goes to the back of the line: no watch starves the others.
      if (watcher.hasWork && this.watchers.get(watcher.id) === watcher) this.ready.add(watcher);
      if (response !== undefined) return response;
      if (readsHistory && ++reads >= this.hub.limits.historyReadsPerTakeMax) return undefined;
    }
    return undefined;
  }

  /** Ends every watch of the stream (the client went away). */
  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    for (const watcher of this.watchers.values()) this.hub.removeWatcher(watcher);
    this.watchers.clear();
    this.ready.clear();
    this.control = [];
    this.hub.closeStream(this);
    this.workSignal.notify();
    this.controlRoomSignal.notify();
  }

  // ---- for WatchHub ----

  /** @internal */
  watchersInOrder(): IterableIterator<Watcher> {
    return this.watchers.values();
  }

  /** @internal: a synced watcher must read history from `nextRevision` on (slow client, new history). */
  fallBehind(watcher: Watcher, nextRevision: number): void {
    if (!watcher.synced) throw new Error('fallBehind: the watcher is already unsynced');
    watcher.synced = false;
    watcher.nextRevision = nextRevision;
    this.unsynced++;
    this.hub.countUnsynced(1);
    this.refreshReady(watcher);
  }

  /** @internal: keeps the ready set equal to the watchers with work. */
  refreshReady(watcher: Watcher): void {
    if (watcher.hasWork) {
      if (!this.ready.has(watcher)) {
        this.ready.add(watcher);
        this.workSignal.notify();
      }
    } else {
      this.ready.delete(watcher);
    }
  }

  private refusal(request: WatchCreateRequest): string | undefined {
    // etcd ≥ 3.5 refuses a negative start revision as compacted (3.4 would cancel it later).
    if (request.startRevision < 0) return ETCD_ERRORS.compacted.message;
    const key = request.key.length === 0 ? SMALLEST_KEY : request.key;
    const end = request.rangeEnd;
    if (end.length > 0 && !isFromKey(end) && keyString(key) >= keyString(end))
      return WATCH_CREATE_REFUSALS.emptyRange;
    if (request.watchId !== 0 && this.watchers.has(request.watchId)) return WATCH_CREATE_REFUSALS.duplicateId;
    if (!this.hub.canAddWatcher(this)) return ETCD_ERRORS.tooManyRequests.message;
    return undefined;
  }

  /** etcd's AutoWatchID: the lowest id at or after the last one given that is free. */
  private freeWatchId(): number {
    while (this.watchers.has(this.nextWatchId)) this.nextWatchId++;
    return this.nextWatchId++;
  }

  private takeFrom(watcher: Watcher): WatchHubResponse | undefined {
    if (watcher.bufferedEvents > 0) return this.takeBuffered(watcher);
    if (!watcher.synced) return this.catchUp(watcher);
    if (watcher.progressDue) {
      watcher.progressDue = false;
      return controlResponse(watcher.id, this.hub.publishedRevision, {});
    }
    return undefined;
  }

  /** Whole revisions from the buffer, as many as one response holds (at least one). */
  private takeBuffered(watcher: Watcher): WatchHubResponse {
    const limits = this.hub.limits;
    const buffer = watcher.buffer;
    let end = watcher.bufferHead;
    let bytes = 0;
    while (end < buffer.length) {
      const revision = buffer[end]!.kv.modRevision;
      let revisionEnd = end;
      let revisionBytes = 0;
      while (revisionEnd < buffer.length && buffer[revisionEnd]!.kv.modRevision === revision) {
        revisionBytes += eventBytes(buffer[revisionEnd]!);
        revisionEnd++;
      }
      const first = end === watcher.bufferHead;
      const overEvents = revisionEnd - watcher.bufferHead > limits.responseEventsMax;
      if (!first && (overEvents || bytes + revisionBytes > limits.responseBytesMax)) break;
      end = revisionEnd;
      bytes += revisionBytes;
    }
    const events = buffer.slice(watcher.bufferHead, end);
    this.hub.releaseBuffer(events.length, bytes);
    watcher.bufferBytes -= bytes;
    if (end === buffer.length) {
      watcher.buffer = [];
      watcher.bufferHead = 0;
    } else {
      watcher.bufferHead = end;
    }
    return this.eventsResponse(watcher, events, events.at(-1)!.kv.modRevision);
  }

  /** One history read for an unsynced watcher; cancels it when its history is compacted. */
  private catchUp(watcher: Watcher): WatchHubResponse | undefined {
    const limits = this.hub.limits;
    const read = this.history.eventsSince(watcher.key, watcher.rangeEnd, watcher.nextRevision, {
      prevKv: watcher.prevKv,
      maxEvents: limits.responseEventsMax,
      maxBytes: limits.responseBytesMax,
    });
    if ('error' in read) {
      if (read.error.message !== ETCD_ERRORS.compacted.message)
        throw new Error(`history read failed: ${read.error.message}`);
      this.removeWatcher(watcher);
      this.hub.countCompactionCancel();
      // The oldest revision a new watch may start from: the compaction revision's own deletions are gone.
      const compactRevision = this.history.compactedRevision + 1;
      return controlResponse(watcher.id, this.hub.publishedRevision, {
        canceled: true,
        compactRevision,
        cancelReason: ETCD_ERRORS.compacted.message,
      });
    }
    if (read.nextRevision <= watcher.nextRevision && read.nextRevision <= this.history.currentRevision) {
      throw new Error('history read made no progress');
    }
    watcher.nextRevision = read.nextRevision;
    if (read.nextRevision > this.hub.publishedRevision) this.markSynced(watcher);
    const events = watcher.wanted(read.events);
    if (events.length === 0) return undefined;
    // The header says how far this watch has seen: everything before the read's end.
    return this.eventsResponse(watcher, events, read.nextRevision - 1);
  }

  private eventsResponse(watcher: Watcher, events: readonly KvEvent[], revision: number): WatchHubResponse {
    watcher.sentSinceProgressTick = true;
    // The events' header revision tells the client as much as a progress notification would.
    watcher.progressDue = false;
    return {
      watchId: watcher.id,
      revision,
      created: false,
      canceled: false,
      compactRevision: 0,
      cancelReason: '',
      events,
      fragment: watcher.fragment,
    };
  }

  /**
   * The pending progress_request's answer, at the published revision, once nothing up to it is
   * left to send: as etcd's, it then comes after every event already owed, and no header revision
   * on the stream goes back.
   */
  private takeProgressAll(): WatchHubResponse | undefined {
    if (!this.progressAllPending || this.unsynced > 0) return undefined;
    for (const watcher of this.ready) if (watcher.bufferedEvents > 0) return undefined;
    this.progressAllPending = false;
    if (this.watchers.size === 0) return undefined;
    return controlResponse(INVALID_WATCH_ID, this.hub.publishedRevision, {});
  }

  private markSynced(watcher: Watcher): void {
    if (watcher.synced) return;
    watcher.synced = true;
    this.unsynced--;
    this.hub.countUnsynced(-1);
  }

  private removeWatcher(watcher: Watcher): void {
    if (!watcher.synced) this.unsynced--;
    this.watchers.delete(watcher.id);
    this.ready.delete(watcher);
    this.hub.removeWatcher(watcher);
  }

  private pushControl(response: WatchHubResponse): void {
    this.control.push(response);
    this.workSignal.notify();
  }

  private assertOpenWithControlRoom(): void {
    if (this.isClosed) throw new Error('watch stream is closed');
    // The caller must wait for room (waitForControlRoom): that is how a flood of creates is paced.
    if (!this.hasControlRoom) throw new Error('watch stream control queue is full');
  }
}

/** etcd rewrites an empty watch key to "\0", the smallest key. */
const SMALLEST_KEY = new Uint8Array([0]);

function isFromKey(rangeEnd: Uint8Array): boolean {
  return rangeEnd.length === 1 && rangeEnd[0] === 0;
}

function indexedRange(key: Uint8Array, rangeEnd: Uint8Array): IndexedRange {
  if (rangeEnd.length === 0) return { kind: 'key', key: keyString(key) };
  return { kind: 'range', start: keyString(key), end: isFromKey(rangeEnd) ? undefined : keyString(rangeEnd) };
}

function controlResponse(
  watchId: number,
  revision: number,
  fields: { created?: boolean; canceled?: boolean; compactRevision?: number; cancelReason?: string },
): WatchHubResponse {
  return {
    watchId,
    revision,
    created: fields.created ?? false,
    canceled: fields.canceled ?? false,
    compactRevision: fields.compactRevision ?? 0,
    cancelReason: fields.cancelReason ?? '',
    events: [],
    fragment: false,
  };
}
