// ReadIndex (Raft thesis §6.4): the leader records its commit index for a read, confirms it is
// still leader with a heartbeat round acknowledged by a quorum, then releases the read in order.
import type { NodeId } from './types.js';
import { invariant } from './types.js';

export interface PendingRead {
  readonly context: string;
  readonly index: number;
  /** Who asked: the leader itself or a follower that forwarded the read. */
  readonly requester: NodeId;
  readonly acks: Set<NodeId>;
}

export class ReadOnlyQueue {
  private readonly byContext = new Map<string, PendingRead>();
  private readonly order: string[] = [];

  readonly maxPendingReads: number;

  constructor(maxPendingReads: number) {
    this.maxPendingReads = maxPendingReads;
  }

  size(): number {
    return this.order.length;
  }

  full(): boolean {
    return this.order.length >= this.maxPendingReads;
  }

  has(context: string): boolean {
    return this.byContext.has(context);
  }

  add(context: string, index: number, requester: NodeId): void {
    invariant(!this.full(), 'read queue overflow');
    invariant(!this.byContext.has(context), `duplicate read context ${context}`);
    this.byContext.set(context, { context, index, requester, acks: new Set() });
    this.order.push(context);
  }

  /** Records that `from` acknowledged the heartbeat round carrying `context`; returns the acks so far. */
  acknowledge(context: string, from: NodeId): ReadonlySet<NodeId> | undefined {
    const read = this.byContext.get(context);
    if (!read) return undefined;
    read.acks.add(from);
    return read.acks;
  }

  /**
   * Releases `context` and every read queued before it: a quorum acknowledging a later round
   * also confirms leadership for the earlier ones.
   */
  releaseThrough(context: string): PendingRead[] {
    const position = this.order.indexOf(context);
    if (position < 0) return [];
    const released = this.order.splice(0, position + 1).map((ctx) => this.byContext.get(ctx)!);
    for (const read of released) this.byContext.delete(read.context);
    return released;
  }

  /** Contexts of the most recent pending read, to piggyback on heartbeats. */
  lastContext(): string {
    return this.order[this.order.length - 1] ?? '';
  }

  drain(): PendingRead[] {
    const all = this.order.map((ctx) => this.byContext.get(ctx)!);
    this.order.length = 0;
    this.byContext.clear();
    return all;
  }
}
