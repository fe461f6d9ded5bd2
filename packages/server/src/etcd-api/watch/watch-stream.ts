// One client stream's side of the hub: its watches, the answers it owes (created, canceled), and
// the order responses leave in. The gRPC service pulls them with takeResponse() as fast as the
// client reads; a watch behind the present catches up here, one bounded history read at a time.
import type { KvEvent } from '@synod/state';
import { ETCD_ERRORS } from '@synod/state';
import { keyString } from './key-range-index.js';
import { ReadyQueue } from './ready-queue.js';
import type { WatchHub } from './watch-hub.js';
import {
  INVALID_WATCH_ID,
  WATCH_CREATE_REFUSALS,
  type WatchCreateRequest,
  type WatchHistory,
  type WatchHubResponse,
} from './watch-types.js';
import { DeliveredEvents, isFromKey, SMALLEST_KEY, Watcher } from './watcher.js';

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
  private readonly ready = new ReadyQueue<Watcher>();
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

  /** Answers a create that is refused before it reaches the hub (auth): created and cancelled, id -1. */
  refuse(reason: string): void {
    this.assertOpenWithControlRoom();
    this.pushControl(
      controlResponse(INVALID_WATCH_ID, this.history.currentRevision, {
        created: true,
        canceled: true,
        cancelReason: reason,
      }),
    );
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
    for (let watcher = this.ready.shift(); watcher !== undefined; watcher = this.ready.shift()) {
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
    const { responseEventsMax, responseBytesMax } = this.hub.limits;
    const eventsBefore = watcher.bufferedEvents;
    const bytesBefore = watcher.bufferBytes;
    const events = watcher.takeBuffered(responseEventsMax, responseBytesMax);
    this.hub.releaseBuffer(eventsBefore - watcher.bufferedEvents, bytesBefore - watcher.bufferBytes);
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
    const events = watcher.wanted(new DeliveredEvents(read.events));
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
    for (const watcher of this.ready.values()) if (watcher.bufferedEvents > 0) return undefined;
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
