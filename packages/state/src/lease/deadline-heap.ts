// A binary min-heap of lease deadlines, earliest first (ties by lease id, so the order is the same
// on every run). Entries are never removed from the middle: the owner gives each entry a token
// and ignores popped entries whose token is no longer the lease's current one (lazy deletion),
// then rebuilds the heap when stale entries outnumber live ones.

export interface Deadline {
  readonly dueMs: number;
  readonly id: bigint;
  /** Which scheduling of the lease this is; stale when the lease has been rescheduled since. */
  readonly token: number;
}

function earlier(a: Deadline, b: Deadline): boolean {
  return a.dueMs < b.dueMs || (a.dueMs === b.dueMs && a.id < b.id);
}

export class DeadlineHeap {
  private entries: Deadline[] = [];

  get size(): number {
    return this.entries.length;
  }

  peek(): Deadline | undefined {
    return this.entries[0];
  }

  push(entry: Deadline): void {
    this.entries.push(entry);
    this.siftUp(this.entries.length - 1);
  }

  pop(): Deadline | undefined {
    const entries = this.entries;
    const top = entries[0];
    const last = entries.pop();
    if (top === undefined || last === undefined) return undefined;
    if (entries.length > 0) {
      entries[0] = last;
      this.siftDown(0);
    }
    return top;
  }

  /** Replaces the contents in O(n) (Floyd's heap construction). */
  rebuild(entries: Deadline[]): void {
    this.entries = entries;
    for (let i = (entries.length >> 1) - 1; i >= 0; i--) this.siftDown(i);
  }

  clear(): void {
    this.entries = [];
  }

  private siftUp(index: number): void {
    const entries = this.entries;
    const entry = entries[index]!;
    while (index > 0) {
      const parentIndex = (index - 1) >> 1;
      const parent = entries[parentIndex]!;
      if (!earlier(entry, parent)) break;
      entries[index] = parent;
      index = parentIndex;
    }
    entries[index] = entry;
  }

  private siftDown(index: number): void {
    const entries = this.entries;
    const entry = entries[index]!;
    const half = entries.length >> 1;
    while (index < half) {
      let childIndex = 2 * index + 1;
      let child = entries[childIndex]!;
      const right = entries[childIndex + 1];
      if (right !== undefined && earlier(right, child)) {
        childIndex++;
        child = right;
      }
      if (!earlier(child, entry)) break;
      entries[index] = child;
      index = childIndex;
    }
    entries[index] = entry;
  }
}
