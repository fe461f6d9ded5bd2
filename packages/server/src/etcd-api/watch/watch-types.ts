// What the watch hub takes and gives: the history it reads, etcd's create request, the responses
// a stream owes its client, and the limits that bound every buffer.
import type { EtcdError, HistoryEvents, HistoryEventsOptions, KvEvent } from '@synod/state';

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
