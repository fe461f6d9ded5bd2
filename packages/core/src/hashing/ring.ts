/**
 * Consistent-hash ring with virtual nodes and weights (Karger et al., 1997; virtual nodes as in
 * Dynamo). Each node owns `round(weight × virtualNodesPerWeight)` points on a 32-bit circle; a key
 * belongs to the first point clockwise from its hash. A node joining takes ≈1/(N+1) of the keys,
 * all from its neighbours, and a node leaving hands only its own keys on.
 */
import { murmur3Hash32 } from './murmur3.js';
import type { HashInput } from './utf8.js';

/** A ring member with an optional weight (default 1): a node of weight 2 owns twice the keys. */
export interface WeightedNode {
  readonly id: string;
  readonly weight?: number;
}

export interface RingOptions {
  /**
   * Points per unit of weight. More points give a more even split (max/mean load falls roughly
   * as 1/√points) at the cost of memory and a slightly longer binary search. Default 160, the
   * ketama figure most client libraries use.
   */
  readonly virtualNodesPerWeight?: number;
  /** Seed of the point and key hashes; rings that must agree must share it. Default 0. */
  readonly seed?: number;
}

export const defaultVirtualNodesPerWeight = 160;
/** Node indexes are packed beside 32-bit positions in a double while sorting: 2³² × 2²¹ = 2⁵³. */
export const ringNodeCountMax = 2 ** 21;
/** Bounds the size of the ring a single weight can create (10,000 points × 2²¹ nodes is not the aim). */
export const ringPointsPerNodeMax = 10_000;
const nodeIndexRadix = 2 ** 21;
/** Caps the lookup table at 2²⁰ + 1 entries (4 MiB), about two buckets per point up to 500k points. */
const bucketBitsMax = 20;

/**
 * @example
 * const ring = new ConsistentHashRing(['a', 'b', { id: 'c', weight: 2 }]);
 * ring.ownerOf('user:42');     // 'a' | 'b' | 'c'
 * ring.ownersOf('user:42', 3); // three distinct nodes, the key's replica list
 */
export class ConsistentHashRing {
  readonly #virtualNodesPerWeight: number;
  readonly #seed: number;
  readonly #weights = new Map<string, number>();
  /** Point positions per node, kept so that a rebuild does not rehash every node. */
  readonly #pointsByNode = new Map<string, Uint32Array>();
  #positions = new Uint32Array(0);
  #ownerIndexes = new Uint32Array(0);
  #ownerIds: string[] = [];
  #bucketStarts = new Uint32Array(2);
  #bucketShift = 31;
  #stale = false;

  constructor(nodes: Iterable<string | WeightedNode> = [], options: RingOptions = {}) {
    this.#virtualNodesPerWeight = options.virtualNodesPerWeight ?? defaultVirtualNodesPerWeight;
    this.#seed = options.seed ?? 0;
    if (!(this.#virtualNodesPerWeight > 0)) {
      throw new RangeError(`virtualNodesPerWeight must be positive, got ${this.#virtualNodesPerWeight}`);
    }
    for (const node of nodes) {
      if (typeof node === 'string') this.add(node);
      else this.add(node.id, node.weight);
    }
  }

  /** Adds a node, or changes its weight if present. */
  add(id: string, weight = 1): void {
    if (!(weight > 0) || !Number.isFinite(weight)) throw new RangeError(`weight of "${id}" must be positive`);
    const pointCount = Math.max(1, Math.round(weight * this.#virtualNodesPerWeight));
    if (pointCount > ringPointsPerNodeMax) {
      throw new RangeError(`node "${id}" would own ${pointCount} points (max ${ringPointsPerNodeMax})`);
    }
    if (!this.#weights.has(id) && this.#weights.size >= ringNodeCountMax) {
      throw new RangeError(`a ring holds at most ${ringNodeCountMax} nodes`);
    }
    this.#weights.set(id, weight);
    this.#pointsByNode.set(id, this.#pointsOf(id, pointCount));
    this.#stale = true;
  }

  /** Removes a node; returns whether it was present. */
  remove(id: string): boolean {
    const removed = this.#weights.delete(id);
    this.#pointsByNode.delete(id);
    if (removed) this.#stale = true;
    return removed;
  }

  has(id: string): boolean {
    return this.#weights.has(id);
  }

  weightOf(id: string): number | undefined {
    return this.#weights.get(id);
  }

  /** Node ids, sorted. */
  get nodes(): string[] {
    return [...this.#weights.keys()].sort();
  }

  get size(): number {
    return this.#weights.size;
  }

  /** Number of points (virtual nodes) on the ring. */
  get pointCount(): number {
    this.#rebuildIfStale();
    return this.#positions.length;
  }

  /** The node owning `key`, or undefined when the ring is empty. */
  ownerOf(key: HashInput): string | undefined {
    this.#rebuildIfStale();
    if (this.#positions.length === 0) return undefined;
    const point = this.#successor(murmur3Hash32(key, this.#seed));
    return this.#ownerIds[this.#ownerIndexes[point]!];
  }

  /**
   * The first `replicaCount` distinct nodes clockwise from `key`: its replica (preference) list,
   * primary first. Shorter than `replicaCount` only when the ring has fewer nodes.
   */
  ownersOf(key: HashInput, replicaCount: number): string[] {
    const owners: string[] = [];
    this.walkClockwise(key, (id) => {
      if (!owners.includes(id)) owners.push(id);
      return owners.length >= replicaCount;
    });
    return owners;
  }

  /**
   * Visits the owners of successive points clockwise from `key` (a node appears once per point)
   * until `visit` returns true or the whole ring has been seen; returns the node accepted, if any.
   * The building block of replica lists and of bounded-load assignment.
   */
  walkClockwise(key: HashInput, visit: (id: string) => boolean): string | undefined {
    this.#rebuildIfStale();
    const pointCount = this.#positions.length;
    if (pointCount === 0) return undefined;
    const start = this.#successor(murmur3Hash32(key, this.#seed));
    for (let step = 0; step < pointCount; step++) {
      const point = start + step < pointCount ? start + step : start + step - pointCount;
      const id = this.#ownerIds[this.#ownerIndexes[point]!]!;
      if (visit(id)) return id;
    }
    return undefined;
  }

  #pointsOf(id: string, pointCount: number): Uint32Array {
    const points = new Uint32Array(pointCount);
    for (let index = 0; index < pointCount; index++)
      points[index] = murmur3Hash32(`${id}#${index}`, this.#seed);
    return points;
  }

  /**
   * Index of the first point at or after `position`, wrapping to 0 past the last. A bucket table
   * over the top bits of the position narrows the search to a point or two: a plain binary search
   * on random positions mispredicts a branch at nearly every step and costs several times more.
   */
  #successor(position: number): number {
    const positions = this.#positions;
    const bucket = position >>> this.#bucketShift;
    const end = this.#bucketStarts[bucket + 1]!;
    let point = this.#bucketStarts[bucket]!;
    while (point < end && positions[point]! < position) point++;
    return point === positions.length ? 0 : point;
  }

  /** bucketStarts[b] = first point whose position's top bits are ≥ b; one extra entry closes the last bucket. */
  #buildBucketTable(): void {
    const pointCount = this.#positions.length;
    const bucketBits = Math.min(bucketBitsMax, Math.max(1, Math.ceil(Math.log2(pointCount + 1)) + 1));
    this.#bucketShift = 32 - bucketBits;
    const bucketCount = 2 ** bucketBits;
    const starts = new Uint32Array(bucketCount + 1);
    let point = 0;
    for (let bucket = 0; bucket <= bucketCount; bucket++) {
      while (point < pointCount && this.#positions[point]! >>> this.#bucketShift < bucket) point++;
      starts[bucket] = point;
    }
    this.#bucketStarts = starts;
  }

  #rebuildIfStale(): void {
    if (!this.#stale) return;
    // Node indexes follow sorted ids, so two rings with the same members are identical whatever
    // the order they were built in, even when two points collide.
    const ids = this.nodes;
    let total = 0;
    for (const id of ids) total += this.#pointsByNode.get(id)!.length;
    const packed = new Float64Array(total);
    let cursor = 0;
    ids.forEach((id, nodeIndex) => {
      for (const position of this.#pointsByNode.get(id)!)
        packed[cursor++] = position * nodeIndexRadix + nodeIndex;
    });
    packed.sort();
    this.#positions = new Uint32Array(total);
    this.#ownerIndexes = new Uint32Array(total);
    for (let point = 0; point < total; point++) {
      const value = packed[point]!;
      this.#positions[point] = Math.floor(value / nodeIndexRadix);
      this.#ownerIndexes[point] = value % nodeIndexRadix;
    }
    this.#ownerIds = ids;
    this.#buildBucketTable();
    this.#stale = false;
  }
}
