/**
 * Rendezvous, or highest-random-weight, hashing (Thaler & Ravishankar, 1996): every node scores
 * every key and the highest score wins. No ring to build and a perfect split in expectation;
 * a lookup costs one score per node, so it suits tens to hundreds of nodes. Weights use the
 * logarithmic method (Schindelhauer & Schomaker, 2005): score = weight / −ln(u) with u uniform
 * in (0, 1), which gives each node a share of keys proportional to its weight, and moves only
 * the keys whose winner changed when a node joins, leaves or is reweighted.
 */
import { murmur3Hash32, murmur3HashUint32 } from './murmur3.js';
import type { WeightedNode } from './ring.js';
import type { HashInput } from './utf8.js';

export interface RendezvousOptions {
  /** Seed of the key hash; instances that must agree must share it. Default 0. */
  readonly seed?: number;
}

const twoPow32 = 0x100000000;

/**
 * @example
 * const hrw = new RendezvousHash(['a', 'b', { id: 'c', weight: 3 }]);
 * hrw.ownerOf('user:42');     // 'c' for about 3/5 of keys
 * hrw.ownersOf('user:42', 2); // the two highest-scoring nodes, best first
 */
export class RendezvousHash {
  readonly #seed: number;
  #ids: string[] = [];
  #nodeHashes = new Uint32Array(0);
  #weights = new Float64Array(0);
  #uniformWeights = true;

  constructor(nodes: Iterable<string | WeightedNode> = [], options: RendezvousOptions = {}) {
    this.#seed = options.seed ?? 0;
    for (const node of nodes) {
      if (typeof node === 'string') this.add(node);
      else this.add(node.id, node.weight);
    }
  }

  /** Adds a node, or changes its weight if present. */
  add(id: string, weight = 1): void {
    if (!(weight > 0) || !Number.isFinite(weight)) throw new RangeError(`weight of "${id}" must be positive`);
    const entries = this.#entries().filter((entry) => entry.id !== id);
    entries.push({ id, weight });
    this.#setEntries(entries);
  }

  remove(id: string): boolean {
    const entries = this.#entries();
    const kept = entries.filter((entry) => entry.id !== id);
    this.#setEntries(kept);
    return kept.length !== entries.length;
  }

  /** Node ids, sorted. */
  get nodes(): string[] {
    return [...this.#ids];
  }

  get size(): number {
    return this.#ids.length;
  }

  /** The highest-scoring node for `key`, or undefined when there are no nodes. */
  ownerOf(key: HashInput): string | undefined {
    const keyHash = murmur3Hash32(key, this.#seed);
    let best = -1;
    let bestScore = Number.NEGATIVE_INFINITY;
    for (let index = 0; index < this.#ids.length; index++) {
      const score = this.#score(keyHash, index);
      if (score > bestScore) {
        bestScore = score;
        best = index;
      }
    }
    return this.#ids[best];
  }

  /** The `count` highest-scoring distinct nodes for `key`, best first. */
  ownersOf(key: HashInput, count: number): string[] {
    const keyHash = murmur3Hash32(key, this.#seed);
    const ranked = this.#ids.map((id, index) => ({ id, score: this.#score(keyHash, index) }));
    // Ties are vanishingly rare with 32-bit hashes; break them by id so every replica agrees.
    ranked.sort((left, right) => right.score - left.score || (left.id < right.id ? -1 : 1));
    return ranked.slice(0, Math.max(0, count)).map((entry) => entry.id);
  }

  #score(keyHash: number, index: number): number {
    const hash = murmur3HashUint32(keyHash, this.#nodeHashes[index]!);
    if (this.#uniformWeights) return hash;
    // u in (0, 1) strictly, so −ln(u) is finite and positive.
    const uniform = (hash + 0.5) / twoPow32;
    return this.#weights[index]! / -Math.log(uniform);
  }

  #entries(): { id: string; weight: number }[] {
    return this.#ids.map((id, index) => ({ id, weight: this.#weights[index]! }));
  }

  #setEntries(entries: { id: string; weight: number }[]): void {
    entries.sort((left, right) => (left.id < right.id ? -1 : left.id > right.id ? 1 : 0));
    this.#ids = entries.map((entry) => entry.id);
    this.#weights = Float64Array.from(entries, (entry) => entry.weight);
    this.#nodeHashes = Uint32Array.from(entries, (entry) => murmur3Hash32(entry.id, this.#seed));
    this.#uniformWeights = entries.every((entry) => entry.weight === entries[0]!.weight);
  }
}
