// `/api/node/stream`: one NodeView computation shared by every subscriber, sent when the member's
// state changed (coalesced: at most one event per NODE_EVENT_INTERVAL_MS_MIN) and at least once per
// NODE_EVENT_INTERVAL_MS_MAX, so a silent stream means a dead member. A new subscriber gets the
// current view at once.
import type { AdminBackend, NodeView } from './admin-backend.js';
import type { SseStream } from './sse.js';

/** At most 10 events per second per stream. */
export const NODE_EVENT_INTERVAL_MS_MIN = 100;
/** At least one event per second per stream. */
export const NODE_EVENT_INTERVAL_MS_MAX = 1_000;

/** What counts as a change: everything but the clock and the rates (the heartbeat event carries those). */
function changeKeyOf(view: NodeView): string {
  return JSON.stringify({ ...view, uptimeMs: 0, messageRates: [] });
}

export interface NodeEventIntervals {
  readonly intervalMsMin: number;
  readonly intervalMsMax: number;
}

export const DEFAULT_NODE_EVENT_INTERVALS: NodeEventIntervals = {
  intervalMsMin: NODE_EVENT_INTERVAL_MS_MIN,
  intervalMsMax: NODE_EVENT_INTERVAL_MS_MAX,
};

export class NodeViewBroadcaster {
  private readonly backend: AdminBackend;
  private readonly intervals: NodeEventIntervals;
  private readonly streams = new Set<SseStream>();
  private unsubscribe: (() => void) | undefined;
  private flushTimer: ReturnType<typeof setTimeout> | undefined;
  private heartbeatTimer: ReturnType<typeof setTimeout> | undefined;
  private lastSentMs = Number.NEGATIVE_INFINITY;
  private lastKey = '';

  constructor(backend: AdminBackend, intervals: NodeEventIntervals = DEFAULT_NODE_EVENT_INTERVALS) {
    if (!(intervals.intervalMsMin > 0 && intervals.intervalMsMax >= intervals.intervalMsMin)) {
      throw new Error('node event intervals must satisfy 0 < intervalMsMin <= intervalMsMax');
    }
    this.backend = backend;
    this.intervals = intervals;
  }

  get size(): number {
    return this.streams.size;
  }

  /** Adds a subscriber and sends it the current view now. */
  add(stream: SseStream): void {
    const view = this.backend.nodeView();
    stream.send('node', JSON.stringify(view));
    this.streams.add(stream);
    if (this.streams.size === 1) {
      this.lastKey = changeKeyOf(view);
      this.lastSentMs = performance.now();
      this.unsubscribe = this.backend.subscribe(() => this.onChange());
      this.armHeartbeat();
    }
  }

  remove(stream: SseStream): void {
    if (!this.streams.delete(stream) || this.streams.size > 0) return;
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    clearTimeout(this.flushTimer);
    clearTimeout(this.heartbeatTimer);
    this.flushTimer = undefined;
    this.heartbeatTimer = undefined;
  }

  /** Ends every stream (server shutdown). */
  closeAll(): void {
    for (const stream of [...this.streams]) stream.close();
  }

  private onChange(): void {
    if (this.flushTimer !== undefined) return;
    const waitMs = Math.max(0, this.lastSentMs + this.intervals.intervalMsMin - performance.now());
    this.flushTimer = setTimeout(() => {
      this.flushTimer = undefined;
      this.flush(false);
    }, waitMs);
    this.flushTimer.unref();
  }

  private armHeartbeat(): void {
    clearTimeout(this.heartbeatTimer);
    this.heartbeatTimer = setTimeout(() => this.flush(true), this.intervals.intervalMsMax);
    this.heartbeatTimer.unref();
  }

  /** Sends the view if it changed (or always, for the heartbeat), to every stream keeping up. */
  private flush(heartbeat: boolean): void {
    if (this.streams.size === 0) return;
    const view = this.backend.nodeView();
    const key = changeKeyOf(view);
    if (heartbeat || key !== this.lastKey) {
      const data = JSON.stringify(view);
      // A view is state, not an event log: a client that is behind simply misses this one.
      for (const stream of this.streams) stream.send('node', data);
      this.lastKey = key;
      this.lastSentMs = performance.now();
      this.armHeartbeat();
    }
  }
}
