// Which watchers does a key concern? Single-key watches sit in a map by key; range and prefix watches
// in an interval treap (a balanced search tree by range start, each node knowing the largest end
// below it), so a key finds its watchers in O(log n + matches) instead of a scan of every watcher.
// Keys are latin1 strings (one char per byte), whose `<` order is etcd's byte order.

/** A watched key or range; `end` undefined means every key ≥ `start` (etcd's "\0" range end). */
export type IndexedRange =
  | { readonly kind: 'key'; readonly key: string }
  | { readonly kind: 'range'; readonly start: string; readonly end: string | undefined };

interface RangeNode<T> {
  readonly start: string;
  readonly end: string | undefined;
  /** Everything registered on exactly this range (many watchers often share a prefix). */
  readonly items: Set<T>;
  readonly priority: number;
  left: RangeNode<T> | undefined;
  right: RangeNode<T> | undefined;
  /** The largest end in this subtree; undefined when some range there is unbounded. */
  maxEnd: string | undefined;
}

/** Latin1: each byte becomes the char of the same code, so strings compare as the bytes do. */
export function keyString(key: Uint8Array): string {
  return Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('latin1');
}

/**
 * Items (watchers) by the key or range they registered, found by the keys they contain.
 *
 * @example
 * const index = new KeyRangeIndex<string>();
 * index.add({ kind: 'range', start: 'a/', end: 'a0' }, 'prefix watcher');
 * index.forEachContaining('a/x', (item) => console.log(item)); // 'prefix watcher'
 */
export class KeyRangeIndex<T> {
  private readonly byKey = new Map<string, Set<T>>();
  private root: RangeNode<T> | undefined;
  private itemCount = 0;
  /** Treap priorities from a fixed-seed generator: the shape is random but reproducible. */
  private priorityState = 0x9e37_79b9;

  get size(): number {
    return this.itemCount;
  }

  add(range: IndexedRange, item: T): void {
    if (range.kind === 'key') {
      let items = this.byKey.get(range.key);
      if (items === undefined) {
        items = new Set();
        this.byKey.set(range.key, items);
      }
      if (items.has(item)) throw new Error('item registered twice on one key');
      items.add(item);
    } else {
      this.root = this.insert(this.root, range.start, range.end, item);
    }
    this.itemCount++;
  }

  /** Removes an item added with the same range; removing what is not there is a bug. */
  remove(range: IndexedRange, item: T): void {
    if (range.kind === 'key') {
      const items = this.byKey.get(range.key);
      if (items === undefined || !items.delete(item)) throw new Error('remove: item is not on this key');
      if (items.size === 0) this.byKey.delete(range.key);
    } else {
      this.root = this.delete(this.root, range.start, range.end, item);
    }
    this.itemCount--;
  }

  /** Calls `visit` once for each item whose key equals `key` or whose range contains it. */
  forEachContaining(key: string, visit: (item: T) => void): void {
    const exact = this.byKey.get(key);
    if (exact !== undefined) for (const item of exact) visit(item);
    stab(this.root, key, visit);
  }

  private insert(
    node: RangeNode<T> | undefined,
    start: string,
    end: string | undefined,
    item: T,
  ): RangeNode<T> {
    if (node === undefined) {
      return {
        start,
        end,
        items: new Set([item]),
        priority: this.nextPriority(),
        left: undefined,
        right: undefined,
        maxEnd: end,
      };
    }
    const order = compareRanges(start, end, node.start, node.end);
    if (order === 0) {
      if (node.items.has(item)) throw new Error('item registered twice on one range');
      node.items.add(item);
      return node;
    }
    if (order < 0) {
      node.left = this.insert(node.left, start, end, item);
      if (node.left.priority > node.priority) return rotateRight(node);
    } else {
      node.right = this.insert(node.right, start, end, item);
      if (node.right.priority > node.priority) return rotateLeft(node);
    }
    updateMaxEnd(node);
    return node;
  }

  private delete(
    node: RangeNode<T> | undefined,
    start: string,
    end: string | undefined,
    item: T,
  ): RangeNode<T> | undefined {
    if (node === undefined) throw new Error('remove: item is not on this range');
    const order = compareRanges(start, end, node.start, node.end);
    if (order < 0) node.left = this.delete(node.left, start, end, item);
    else if (order > 0) node.right = this.delete(node.right, start, end, item);
    else {
      if (!node.items.delete(item)) throw new Error('remove: item is not on this range');
      if (node.items.size === 0) return removeNode(node);
    }
    updateMaxEnd(node);
    return node;
  }

  /** mulberry32: a small, well-mixed 32-bit generator. */
  private nextPriority(): number {
    this.priorityState = (this.priorityState + 0x6d2b_79f5) | 0;
    let t = this.priorityState;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }
}

function stab<T>(node: RangeNode<T> | undefined, key: string, visit: (item: T) => void): void {
  // Every range below ends at or before `key` (ends are exclusive): none contains it.
  if (node === undefined || (node.maxEnd !== undefined && node.maxEnd <= key)) return;
  stab(node.left, key, visit);
  // Ranges on the right start at or after this one: none contains a key before this start.
  if (node.start > key) return;
  if (node.end === undefined || key < node.end) for (const item of node.items) visit(item);
  stab(node.right, key, visit);
}

/** Order by start, then end (unbounded last). */
function compareRanges(
  startA: string,
  endA: string | undefined,
  startB: string,
  endB: string | undefined,
): number {
  if (startA !== startB) return startA < startB ? -1 : 1;
  if (endA === endB) return 0;
  if (endA === undefined) return 1;
  if (endB === undefined) return -1;
  return endA < endB ? -1 : 1;
}

/** The larger of two ends, undefined (unbounded) being the largest. */
function laterEnd(a: string | undefined, b: string | undefined): string | undefined {
  if (a === undefined || b === undefined) return undefined;
  return a > b ? a : b;
}

function updateMaxEnd<T>(node: RangeNode<T>): void {
  let maxEnd = node.end;
  if (node.left !== undefined) maxEnd = laterEnd(maxEnd, node.left.maxEnd);
  if (node.right !== undefined) maxEnd = laterEnd(maxEnd, node.right.maxEnd);
  node.maxEnd = maxEnd;
}

function rotateRight<T>(node: RangeNode<T>): RangeNode<T> {
  const pivot = node.left!;
  node.left = pivot.right;
  pivot.right = node;
  updateMaxEnd(node);
  updateMaxEnd(pivot);
  return pivot;
}

function rotateLeft<T>(node: RangeNode<T>): RangeNode<T> {
  const pivot = node.right!;
  node.right = pivot.left;
  pivot.left = node;
  updateMaxEnd(node);
  updateMaxEnd(pivot);
  return pivot;
}

/** Removes `node` by rotating it down until it has at most one child. */
function removeNode<T>(node: RangeNode<T>): RangeNode<T> | undefined {
  if (node.left === undefined) return node.right;
  if (node.right === undefined) return node.left;
  if (node.left.priority > node.right.priority) {
    const pivot = rotateRight(node);
    pivot.right = removeNode(node);
    updateMaxEnd(pivot);
    return pivot;
  }
  const pivot = rotateLeft(node);
  pivot.left = removeNode(node);
  updateMaxEnd(pivot);
  return pivot;
}
