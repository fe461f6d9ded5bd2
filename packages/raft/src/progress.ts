// The leader's view of one follower: how far it matches, what to send next, and flow control
// (etcd's tracker.Progress): probe one message at a time, replicate with a bounded pipeline,
// or stream a snapshot.
import { invariant } from './types.js';

export type ProgressState = 'probe' | 'replicate' | 'snapshot';

/** A bounded window of in-flight append messages, by count and by bytes (pipelining flow control). */
export class Inflights {
  private readonly lastIndexes: number[] = [];
  private readonly sizes: number[] = [];
  private bytes = 0;
  readonly maxMessages: number;
  readonly maxBytes: number;

  constructor(maxMessages: number, maxBytes: number) {
    this.maxMessages = maxMessages;
    this.maxBytes = maxBytes;
    invariant(maxMessages > 0 && maxBytes > 0, 'inflight limits must be positive');
  }

  full(): boolean {
    return this.lastIndexes.length >= this.maxMessages || this.bytes >= this.maxBytes;
  }

  count(): number {
    return this.lastIndexes.length;
  }

  add(lastIndex: number, bytes: number): void {
    invariant(!this.full(), 'inflights overflow');
    const previous = this.lastIndexes[this.lastIndexes.length - 1];
    invariant(previous === undefined || lastIndex > previous, 'inflight indexes must increase');
    this.lastIndexes.push(lastIndex);
    this.sizes.push(bytes);
    this.bytes += bytes;
  }

  /** Frees every message whose last index is ≤ `index` (acknowledged). */
  freeTo(index: number): void {
    let freed = 0;
    while (freed < this.lastIndexes.length && this.lastIndexes[freed]! <= index) {
      this.bytes -= this.sizes[freed]!;
      freed++;
    }
    if (freed > 0) {
      this.lastIndexes.splice(0, freed);
      this.sizes.splice(0, freed);
    }
  }

  reset(): void {
    this.lastIndexes.length = 0;
    this.sizes.length = 0;
    this.bytes = 0;
  }
}

export class Progress {
  /** Highest index known to be replicated on the follower (Raft Figure 2: matchIndex). */
  match = 0;
  /** Next index to send (Raft Figure 2: nextIndex). */
  next: number;
  state: ProgressState = 'probe';
  /** In probe state: one append is outstanding, wait for its answer or a heartbeat response. */
  probeSent = false;
  /** Heard from since the last check-quorum round. */
  recentActive = false;
  /** In snapshot state: index of the snapshot being sent and bytes acknowledged so far. */
  pendingSnapshotIndex = 0;
  snapshotOffsetBytes = 0;
  snapshotInFlight = false;
  /** Ticks without any snapshot answer: restart the transfer when it stalls. */
  snapshotStalledTicks = 0;
  /** Lease reads: the leader tick of the latest heartbeat round this follower echoed. */
  lastEchoedTick = Number.NEGATIVE_INFINITY;
  readonly inflights: Inflights;
  readonly isLearner: boolean;

  constructor(next: number, maxInflightMessages: number, maxInflightBytes: number, isLearner: boolean) {
    this.next = next;
    this.isLearner = isLearner;
    this.inflights = new Inflights(maxInflightMessages, maxInflightBytes);
  }

  becomeProbe(): void {
    if (this.state === 'snapshot') {
      // Resume after the snapshot (if it got there) rather than probing from scratch.
      this.next = Math.max(this.match + 1, this.pendingSnapshotIndex + 1);
    } else {
      this.next = this.match + 1;
    }
    this.resetState('probe');
  }

  becomeReplicate(): void {
    this.next = this.match + 1;
    this.resetState('replicate');
  }

  becomeSnapshot(snapshotIndex: number): void {
    this.resetState('snapshot');
    this.pendingSnapshotIndex = snapshotIndex;
  }

  /** The follower acknowledged up to `index`. Returns false for a stale acknowledgement. */
  maybeUpdate(index: number): boolean {
    const updated = index > this.match;
    if (updated) {
      this.match = index;
      this.probeSent = false;
    }
    this.next = Math.max(this.next, index + 1);
    return updated;
  }

  /**
   * The follower rejected an append at `rejected`; back off to `hint` + 1.
   * Returns false when the rejection is stale (already past it).
   */
  maybeDecrease(rejected: number, hint: number): boolean {
    if (rejected >= this.match && hint < this.match) {
      // A follower that still holds what it acknowledged hints at or above matchIndex: this one lost
      // its data. Forget the match so we back off (to a snapshot if compacted) instead of ignoring
      // the rejection or probing the same index forever (atomix#1028). A stale rejection that looks
      // the same only costs re-sending entries the follower already has.
      this.match = hint;
      this.next = hint + 1;
      this.probeSent = false;
      return true;
    }
    if (this.state === 'replicate') {
      if (rejected <= this.match) return false;
      this.next = this.match + 1; // the pipeline broke: restart from the known match
      return true;
    }
    if (this.next - 1 !== rejected) return false; // not the probe we are waiting for
    this.next = Math.max(Math.min(rejected, hint + 1), this.match + 1);
    this.probeSent = false;
    return true;
  }

  /** Records an append sent with entries up to `lastIndex`. */
  sentEntries(lastIndex: number, count: number, bytes: number): void {
    if (this.state === 'replicate') {
      if (count > 0) {
        this.next = lastIndex + 1;
        this.inflights.add(lastIndex, bytes);
      }
    } else if (this.state === 'probe') {
      this.probeSent = true;
    }
  }

  /** Paused: no new appends until an answer frees room. */
  isPaused(): boolean {
    switch (this.state) {
      case 'probe':
        return this.probeSent;
      case 'replicate':
        return this.inflights.full();
      case 'snapshot':
        return true;
    }
  }

  private resetState(state: ProgressState): void {
    this.state = state;
    this.probeSent = false;
    this.pendingSnapshotIndex = 0;
    this.snapshotOffsetBytes = 0;
    this.snapshotInFlight = false;
    this.snapshotStalledTicks = 0;
    this.inflights.reset();
  }
}
