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
import type { KvEvent } from '@synod/state';
import { eventBytes } from '@synod/state';
import { KeyRangeIndex, keyString } from './key-range-index.js';
import { WatchStream } from './watch-stream.js';
import {
  WATCH_HUB_DEFAULT_LIMITS,
  type WatchHistory,
  type WatchHubLimits,
  type WatchHubStats,
} from './watch-types.js';
import { DeliveredEvents, type Watcher } from './watcher.js';

export { WatchStream } from './watch-stream.js';
export * from './watch-types.js';

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
    for (const event of events) {
      if (event.kv.modRevision !== revision)
        throw new Error(`publish: an event of revision ${event.kv.modRevision} in ${revision}`);
    }
    this.published = revision;
    // Every watcher the write concerns in full is handed the same list (a one-event write, the
    // usual case, needs no per-watcher sorting at all); the others get their own part of it.
    const whole = new DeliveredEvents(events);
    if (events.length === 1) {
      this.index.forEachContaining(keyString(events[0]!.kv.key), (watcher) => {
        if (watcher.synced && revision >= watcher.nextRevision) this.deliver(watcher, whole, revision);
      });
      return;
    }
    const matched = new Map<Watcher, KvEvent[]>();
    for (const event of events) {
      this.index.forEachContaining(keyString(event.kv.key), (watcher) => {
        if (!watcher.synced || revision < watcher.nextRevision) return;
        const list = matched.get(watcher);
        if (list === undefined) matched.set(watcher, [event]);
        else list.push(event);
      });
    }
    for (const [watcher, part] of matched) {
      this.deliver(watcher, part.length === events.length ? whole : new DeliveredEvents(part), revision);
    }
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
  private deliver(watcher: Watcher, delivered: DeliveredEvents, revision: number): void {
    const wanted = watcher.wanted(delivered);
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
    watcher.bufferRevision(wanted, bytes);
    this.bufferedEventCount += wanted.length;
    this.bufferedByteCount += bytes;
    watcher.stream.refreshReady(watcher);
  }
}
