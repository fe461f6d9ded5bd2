// What the fan-out coordinator (main thread) and its watcher threads say to each other.
import type { HistogramData } from './latency-histogram.js';

export interface WatchConnectionTarget {
  readonly url: string;
  /** Member name, to split latencies by the member that delivered them. */
  readonly member: string;
}

/** workerData of a watcher thread. */
export interface WatcherThreadSetup {
  readonly connections: readonly WatchConnectionTarget[];
  readonly streamsPerConnection: number;
  readonly watchesPerStream: number;
  /** Every watch is on this prefix. */
  readonly prefix: string;
}

export type ToWatcherThread =
  /** The writer is done: this many events are due to every watcher. */
  | { readonly kind: 'expect'; readonly events: number }
  /** Report and close. */
  | { readonly kind: 'finish' };

export interface WatcherThreadSummary {
  readonly watchers: number;
  readonly delivered: number;
  /** Watchers that got exactly the expected events (each in order, none twice: see violations). */
  readonly watchersComplete: number;
  readonly eventsPerWatcherMin: number;
  readonly eventsPerWatcherMax: number;
  /** Events whose mod_revision was not above the watcher's previous one (duplicate or reordered). */
  readonly orderViolations: number;
  /** Events that were not a PUT of a value the writer made. */
  readonly foreignEvents: number;
  readonly canceledWatches: number;
  /** Put-to-delivery latency per member the watch was on. */
  readonly latencyByMember: Readonly<Record<string, HistogramData>>;
  readonly firstArrivalMs: number;
  readonly lastArrivalMs: number;
  /** Streams that ended before the finish (bounded list). */
  readonly streamFailures: readonly string[];
}

export type FromWatcherThread =
  | { readonly kind: 'created'; readonly watches: number }
  | { readonly kind: 'progress'; readonly delivered: number; readonly eventsPerWatcherMin: number }
  /** Every watcher has the expected events. */
  | { readonly kind: 'complete' }
  | { readonly kind: 'failed'; readonly message: string }
  | { readonly kind: 'summary'; readonly summary: WatcherThreadSummary };
