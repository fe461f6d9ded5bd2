/**
 * Consistent hashing with bounded loads (Mirrokni, Thorup & Zadimoghaddam, 2018). Keys are placed
 * on a consistent-hash ring, but a node already holding its capacity ⌈c·m/n⌉ (m keys assigned
 * including the new one, n nodes, c the load factor) is skipped in favour of the next point
 * clockwise. No node ever holds more than ⌈c·m/n⌉ keys, while keys still move little when nodes
 * come and go. Stateful: it remembers each key's node, so assignment is an operation.
 */
import { ConsistentHashRing, type RingOptions, type WeightedNode } from './ring.js';

export interface BoundedLoadOptions extends RingOptions {
  /** c ≥ 1: how far above the mean a node may go. 1.25 is the paper's usual pick. */
  readonly loadFactor?: number;
}

export const defaultLoadFactor = 1.25;

/**
 * @example
 * const placement = new BoundedLoadHash(['a', 'b', 'c'], { loadFactor: 1.25 });
 * placement.assign('session:1'); // 'a' | 'b' | 'c'
 * placement.ownerOf('session:1'); // the same node until released or its node leaves
 * placement.release('session:1');
 */
export class BoundedLoadHash {
  readonly #ring: ConsistentHashRing;
  readonly #loadFactor: number;
  readonly #ownerByKey = new Map<string, string>();
  readonly #loadByNode = new Map<string, number>();

  constructor(nodes: Iterable<string | WeightedNode> = [], options: BoundedLoadOptions = {}) {
    this.#loadFactor = options.loadFactor ?? defaultLoadFactor;
    if (!(this.#loadFactor >= 1)) throw new RangeError(`loadFactor must be ≥ 1, got ${this.#loadFactor}`);
    this.#ring = new ConsistentHashRing(nodes, options);
    for (const id of this.#ring.nodes) this.#loadByNode.set(id, 0);
  }

  /** The most keys any node may hold once `assignedCount` keys are placed: ⌈c·m/n⌉. */
  capacityFor(assignedCount: number): number {
    return Math.ceil((this.#loadFactor * assignedCount) / this.#ring.size);
  }

  /** Places `key` (or returns its current node). Returns undefined only when there are no nodes. */
  assign(key: string): string | undefined {
    const current = this.#ownerByKey.get(key);
    if (current !== undefined) return current;
    if (this.#ring.size === 0) return undefined;
    const capacity = this.capacityFor(this.#ownerByKey.size + 1);
    const owner = this.#ring.walkClockwise(key, (id) => (this.#loadByNode.get(id) ?? 0) < capacity);
    // n·⌈c·m/n⌉ ≥ m > keys already placed, so some node always has room when c ≥ 1.
    if (owner === undefined)
      throw new Error(`bounded-load invariant broken: no node below capacity ${capacity}`);
    this.#ownerByKey.set(key, owner);
    this.#loadByNode.set(owner, (this.#loadByNode.get(owner) ?? 0) + 1);
    return owner;
  }

  /** Forgets `key`'s placement; returns whether it was placed. */
  release(key: string): boolean {
    const owner = this.#ownerByKey.get(key);
    if (owner === undefined) return false;
    this.#ownerByKey.delete(key);
    this.#loadByNode.set(owner, this.#loadByNode.get(owner)! - 1);
    return true;
  }

  ownerOf(key: string): string | undefined {
    return this.#ownerByKey.get(key);
  }

  loadOf(id: string): number {
    return this.#loadByNode.get(id) ?? 0;
  }

  get assignedCount(): number {
    return this.#ownerByKey.size;
  }

  get nodes(): string[] {
    return this.#ring.nodes;
  }

  /** Adds a node; existing keys stay where they are and new keys start filling it. */
  addNode(id: string, weight = 1): void {
    this.#ring.add(id, weight);
    if (!this.#loadByNode.has(id)) this.#loadByNode.set(id, 0);
  }

  /** Removes a node and reassigns its keys; returns the keys that moved. */
  removeNode(id: string): string[] {
    if (!this.#ring.remove(id)) return [];
    this.#loadByNode.delete(id);
    const orphans = [...this.#ownerByKey].filter(([, owner]) => owner === id).map(([key]) => key);
    for (const key of orphans) this.#ownerByKey.delete(key);
    for (const key of orphans) this.assign(key);
    return orphans;
  }
}
