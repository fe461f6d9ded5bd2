/**
 * State-based counters (Shapiro et al., "A comprehensive study of Convergent and Commutative
 * Replicated Data Types", 2011). A G-Counter keeps one monotone count per replica and merges by
 * pointwise maximum; a PN-Counter pairs two of them, for increments and decrements.
 */
import { assertReplicaId, CrdtFormatError, readCounts, sortedRecord } from './json.js';

export interface GCounterState {
  /** replica id → that replica's total increments. */
  readonly counts: Readonly<Record<string, number>>;
}

export interface PNCounterState {
  readonly increments: Readonly<Record<string, number>>;
  readonly decrements: Readonly<Record<string, number>>;
}

/**
 * Grow-only counter.
 *
 * @example
 * const a = new GCounter('a');
 * const b = new GCounter('b');
 * a.increment(2);
 * b.increment();
 * a.merge(b).value; // 3
 * GCounter.fromJSON('c', JSON.parse(JSON.stringify(a))).value; // 3
 */
export class GCounter {
  readonly replicaId: string;
  readonly #counts: Map<string, number>;

  constructor(replicaId: string, counts: ReadonlyMap<string, number> = new Map()) {
    assertReplicaId(replicaId);
    this.replicaId = replicaId;
    this.#counts = new Map(counts);
  }

  static fromJSON(replicaId: string, json: unknown): GCounter {
    if (typeof json !== 'object' || json === null)
      throw new CrdtFormatError('G-Counter', 'expected { counts }');
    return new GCounter(replicaId, readCounts('G-Counter', 'counts', (json as { counts?: unknown }).counts));
  }

  get value(): number {
    let total = 0;
    for (const count of this.#counts.values()) total += count;
    return total;
  }

  /** Adds `amount` (a non-negative safe integer, default 1) at this replica. */
  increment(amount = 1): this {
    if (!Number.isSafeInteger(amount) || amount < 0)
      throw new RangeError(`amount must be a non-negative integer, got ${amount}`);
    const next = (this.#counts.get(this.replicaId) ?? 0) + amount;
    if (!Number.isSafeInteger(next)) throw new RangeError('G-Counter count beyond 2^53');
    if (next > 0) this.#counts.set(this.replicaId, next);
    return this;
  }

  /** Pointwise maximum with `other` (an instance or its exported state). */
  merge(other: GCounter | GCounterState): this {
    const counts =
      other instanceof GCounter ? other.#counts : GCounter.fromJSON(this.replicaId, other).#counts;
    for (const [replica, count] of counts) {
      if (count > (this.#counts.get(replica) ?? 0)) this.#counts.set(replica, count);
    }
    return this;
  }

  toJSON(): GCounterState {
    return { counts: sortedRecord(this.#counts) };
  }
}

/**
 * Counter that goes both ways.
 *
 * @example
 * const stock = new PNCounter('warehouse-1');
 * stock.increment(10).decrement(3);
 * stock.value; // 7
 */
export class PNCounter {
  readonly replicaId: string;
  readonly #increments: GCounter;
  readonly #decrements: GCounter;

  constructor(replicaId: string, increments?: GCounter, decrements?: GCounter) {
    assertReplicaId(replicaId);
    this.replicaId = replicaId;
    this.#increments = new GCounter(replicaId).merge(increments ?? new GCounter(replicaId));
    this.#decrements = new GCounter(replicaId).merge(decrements ?? new GCounter(replicaId));
  }

  static fromJSON(replicaId: string, json: unknown): PNCounter {
    if (typeof json !== 'object' || json === null) {
      throw new CrdtFormatError('PN-Counter', 'expected { increments, decrements }');
    }
    const { increments, decrements } = json as { increments?: unknown; decrements?: unknown };
    return new PNCounter(
      replicaId,
      new GCounter(replicaId, readCounts('PN-Counter', 'increments', increments)),
      new GCounter(replicaId, readCounts('PN-Counter', 'decrements', decrements)),
    );
  }

  get value(): number {
    return this.#increments.value - this.#decrements.value;
  }

  increment(amount = 1): this {
    this.#increments.increment(amount);
    return this;
  }

  decrement(amount = 1): this {
    this.#decrements.increment(amount);
    return this;
  }

  merge(other: PNCounter | PNCounterState): this {
    const source = other instanceof PNCounter ? other : PNCounter.fromJSON(this.replicaId, other);
    this.#increments.merge(source.#increments);
    this.#decrements.merge(source.#decrements);
    return this;
  }

  toJSON(): PNCounterState {
    return { increments: this.#increments.toJSON().counts, decrements: this.#decrements.toJSON().counts };
  }
}
