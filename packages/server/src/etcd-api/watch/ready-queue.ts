// The watchers of one stream that have something to send, in round-robin order. A fan-out adds
// and takes every watcher of a stream for every write, so this is an array with a moving head
// rather than a Set: each item records its own slot, which makes add, delete and membership a
// field check and the steady state allocation-free.

/** What the queue keeps: its slot in the queue, or -1 while it is not queued (the queue owns the field). */
export interface ReadyQueueItem {
  readySlot: number;
}

/** Slots taken before the head are reclaimed once there are this many and they are most of the array. */
const RECLAIM_SLOTS_MIN = 64;

export class ReadyQueue<T extends ReadyQueueItem> {
  /**
   * Items in slots `head` to `tail` (exclusive), in order; a deleted item leaves an empty slot,
   * and every slot outside is empty. The array is reused, never shrunk: it holds at most about
   * twice the items ever queued at once (see reclaim).
   */
  private slots: (T | undefined)[] = [];
  private head = 0;
  private tail = 0;
  private count = 0;

  get size(): number {
    return this.count;
  }

  has(item: T): boolean {
    return item.readySlot >= 0;
  }

  /** Appends `item` unless it is queued already (it then keeps its place). */
  add(item: T): void {
    if (item.readySlot >= 0) return;
    if (this.tail === this.slots.length && this.head >= RECLAIM_SLOTS_MIN && this.head * 2 >= this.tail)
      this.reclaim();
    item.readySlot = this.tail;
    this.slots[this.tail++] = item;
    this.count++;
  }

  delete(item: T): void {
    const slot = item.readySlot;
    if (slot < 0) return;
    if (this.slots[slot] !== item) throw new Error('ReadyQueue: an item is not in the slot it records');
    this.slots[slot] = undefined;
    item.readySlot = -1;
    this.count--;
    if (this.count === 0) this.reset();
  }

  /** Removes and returns the first item, or undefined when the queue is empty. */
  shift(): T | undefined {
    while (this.head < this.tail) {
      const item = this.slots[this.head];
      this.slots[this.head++] = undefined;
      if (item === undefined) continue;
      item.readySlot = -1;
      this.count--;
      if (this.count === 0) this.reset();
      return item;
    }
    return undefined;
  }

  /** The queued items in order (the queue must not change while this runs). */
  *values(): IterableIterator<T> {
    for (let slot = this.head; slot < this.tail; slot++) {
      const item = this.slots[slot];
      if (item !== undefined) yield item;
    }
  }

  clear(): void {
    for (let slot = this.head; slot < this.tail; slot++) {
      const item = this.slots[slot];
      if (item !== undefined) item.readySlot = -1;
    }
    this.slots = [];
    this.head = this.tail = 0;
    this.count = 0;
  }

  /** The queue is empty: every slot is, so the next round starts at the front of the same array. */
  private reset(): void {
    this.head = this.tail = 0;
  }

  /** Moves the queued items to the front, so the array does not grow while the queue never empties. */
  private reclaim(): void {
    let to = 0;
    for (let from = this.head; from < this.tail; from++) {
      const item = this.slots[from];
      this.slots[from] = undefined;
      if (item === undefined) continue;
      item.readySlot = to;
      this.slots[to++] = item;
    }
    this.head = 0;
    this.tail = to;
  }
}
