// The bounded queue of messages waiting for one peer. Raft tolerates message loss, so a full
// queue drops rather than grows: the newest message goes first (tail drop keeps what is already
// queued in order, so pipelined appends stay contiguous), except that a snapshot chunk, costly to
// resend, may push out newer non-snapshot messages to make room.
import type { Message } from '@synod/raft';
import { invariant } from './frame-error.js';

export interface SendQueueLimits {
  /** Estimated bytes queued at most. */
  readonly bytesMax: number;
  /** Messages queued at most. */
  readonly messagesMax: number;
}

interface Queued {
  readonly message: Message;
  readonly bytes: number;
}

/** Dropped slots at the head are compacted away once there are this many of them. */
const COMPACT_AFTER_SLOTS = 1024;

export class SendQueue {
  private items: Queued[] = [];
  private head = 0;
  private bytes = 0;
  private readonly limits: SendQueueLimits;

  constructor(limits: SendQueueLimits) {
    invariant(limits.bytesMax > 0 && limits.messagesMax > 0, 'send queue limits must be positive');
    this.limits = limits;
  }

  get queuedBytes(): number {
    return this.bytes;
  }

  get queuedMessages(): number {
    return this.items.length - this.head;
  }

  /**
   * Queues `message` (costing `bytes`) if the limits allow; returns how many messages were
   * dropped to honour them (the message itself, or newer non-snapshot messages it displaced).
   */
  offer(message: Message, bytes: number): number {
    if (this.fits(bytes)) {
      this.push(message, bytes);
      return 0;
    }
    if (message.type !== 'snapshot' || !this.canFitAfterEvicting(bytes)) return 1;
    const evicted = this.evictNewestNonSnapshot(bytes);
    this.push(message, bytes);
    return evicted;
  }

  /**
   * Removes and returns messages from the head: at least one, then while the batch stays
   * within `batchBytesMax` and `batchMessagesMax`.
   */
  takeBatch(batchBytesMax: number, batchMessagesMax: number): Message[] {
    const batch: Message[] = [];
    let batchBytes = 0;
    while (this.head < this.items.length && batch.length < batchMessagesMax) {
      const item = this.items[this.head]!;
      if (batch.length > 0 && batchBytes + item.bytes > batchBytesMax) break;
      batch.push(item.message);
      batchBytes += item.bytes;
      this.bytes -= item.bytes;
      this.head++;
    }
    this.compact();
    return batch;
  }

  /** Drops everything; returns how many messages that was. */
  clear(): number {
    const dropped = this.queuedMessages;
    this.items = [];
    this.head = 0;
    this.bytes = 0;
    return dropped;
  }

  private fits(bytes: number): boolean {
    return this.queuedMessages < this.limits.messagesMax && this.bytes + bytes <= this.limits.bytesMax;
  }

  private push(message: Message, bytes: number): void {
    this.items.push({ message, bytes });
    this.bytes += bytes;
    invariant(
      this.queuedMessages <= this.limits.messagesMax && this.bytes <= this.limits.bytesMax,
      'send queue above its limits',
    );
  }

  /** Whether evicting every queued non-snapshot message would make room. */
  private canFitAfterEvicting(bytes: number): boolean {
    let keptBytes = 0;
    let keptMessages = 0;
    for (let i = this.head; i < this.items.length; i++) {
      const item = this.items[i]!;
      if (item.message.type === 'snapshot') {
        keptBytes += item.bytes;
        keptMessages++;
      }
    }
    return keptMessages < this.limits.messagesMax && keptBytes + bytes <= this.limits.bytesMax;
  }

  /** Evicts non-snapshot messages from the tail until `bytes` fit; returns how many. */
  private evictNewestNonSnapshot(bytes: number): number {
    const setAside: Queued[] = [];
    let setAsideBytes = 0;
    let evicted = 0;
    const fitsWithSetAside = () =>
      this.queuedMessages + setAside.length < this.limits.messagesMax &&
      this.bytes + setAsideBytes + bytes <= this.limits.bytesMax;
    while (!fitsWithSetAside()) {
      invariant(this.items.length > this.head, 'eviction ran past the head');
      const item = this.items.pop()!;
      this.bytes -= item.bytes;
      if (item.message.type === 'snapshot') {
        setAside.push(item);
        setAsideBytes += item.bytes;
      } else {
        evicted++;
      }
    }
    for (let i = setAside.length - 1; i >= 0; i--) this.items.push(setAside[i]!);
    this.bytes += setAsideBytes;
    return evicted;
  }

  private compact(): void {
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head >= COMPACT_AFTER_SLOTS && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }
}
