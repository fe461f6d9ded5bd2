// A doubly linked list threaded through its members' own fields. Adding and removing allocate
// nothing, and a removed member is left with no links. A Set of short-lived objects, by contrast,
// replaces its hash table as it churns, and a replaced table that reached the old generation still
// points at the members it held until the next full collection: each young-generation collection
// then keeps those members, and everything they reach, alive and promotes them.

/** The fields a member carries; only the list touches them. */
export interface ListLinks<T> {
  listPrevious: T | undefined;
  listNext: T | undefined;
  listed: boolean;
}

export class IntrusiveList<T extends ListLinks<T>> {
  private head: T | undefined;
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** Adds `item` at the front; an item already listed is left where it is. */
  add(item: T): void {
    if (item.listed) return;
    item.listed = true;
    item.listPrevious = undefined;
    item.listNext = this.head;
    if (this.head !== undefined) this.head.listPrevious = item;
    this.head = item;
    this.count++;
  }

  /** Removes `item` if listed; false when it was not. */
  delete(item: T): boolean {
    if (!item.listed) return false;
    const { listPrevious: previous, listNext: next } = item;
    if (previous === undefined) this.head = next;
    else previous.listNext = next;
    if (next !== undefined) next.listPrevious = previous;
    item.listPrevious = undefined;
    item.listNext = undefined;
    item.listed = false;
    this.count--;
    return true;
  }

  /** The members, newest first, as a copy (callers may remove members while going through it). */
  toArray(): T[] {
    const items: T[] = [];
    for (let item = this.head; item !== undefined; item = item.listNext) items.push(item);
    return items;
  }
}
