/**
 * Linearizability checking: is there a total order of the operations that respects real time
 * (an operation that completed before another began comes first) and that the sequential model
 * accepts, result by result?
 *
 * The search is Wing & Gong's, with Lowe's memoisation, as popularised by Porcupine:
 * - Events (invocations and completions) sit in a doubly linked list sorted by time. The candidates
 *   to linearize next are the invocations before the first completion still in the list. Placing one
 *   unlinks its invocation and completion ("lift"); backtracking relinks them.
 * - Visited (set of linearized operations, model state) pairs are memoised; the set is a bitset
 *   (`Uint32Array` words) with an incrementally maintained Zobrist hash.
 * - The history is split per key (P-compositionality) and each part is searched on its own.
 *
 * Tie rule: at equal times, invocations sort before completions, so operations that touch at one
 * instant count as concurrent. With coarse clocks equal stamps prove no order; this choice can only
 * make more histories linearizable, never report a violation that is not there.
 *
 * Indeterminate operations are optional: their completion lies at +∞, so they may be linearized
 * anywhere after their invocation or never. They are kept apart from the definite (`ok`) ones:
 * - they are tried only after every definite candidate at a node, so they are placed where a later
 *   result needs them rather than wherever they happen to be first in the list;
 * - a node is pruned when a node with the same definite set, the same state and a subset of its
 *   optional operations was visited (anything reachable from the larger set is reachable from the
 *   smaller one, because optional operations never have to be placed);
 * - two optional operations in a row are pruned when the second alone leads to the same state.
 * The search succeeds once every definite operation is placed.
 *
 * Failed operations are removed before the search; indeterminate read-only operations too.
 */
import type { Counterexample, StuckPoint } from './counterexample.js';
import { buildCounterexample } from './counterexample.js';
import type { KvCall, KvOperation, KvResult, RecordedOperation } from './history.js';
import { invariant } from './history.js';
import type { Model } from './kv-model.js';
import { kvRegisterModel } from './kv-model.js';

export type Verdict = 'linearizable' | 'violation' | 'unknown';

/** Why a search gave up with `unknown`. */
export type StopReason = 'step-budget' | 'deadline';

/** Tells the search to give up; build it outside the search, e.g. from a wall clock. */
export interface SearchDeadline {
  expired(): boolean;
}

export interface CheckOptions {
  /** Search steps (candidate tries plus backtracks) allowed for each key before it reports `unknown`. */
  readonly maxSearchStepsPerKey?: number;
  /** Consulted every `deadlineCheckIntervalSteps` steps; once expired, unfinished keys are `unknown`. */
  readonly deadline?: SearchDeadline;
}

/** The default step budget: ample for thousands of operations per key, and a few seconds at worst. */
export const defaultMaxSearchStepsPerKey = 2_000_000;
/** How often (in steps) the deadline is consulted; a power of two keeps the check cheap. */
export const deadlineCheckIntervalSteps = 1024;

const neverExpires: SearchDeadline = { expired: () => false };

/** The result for one part of the history (one key, for the KV model). */
export interface PartitionReport {
  readonly key: string;
  readonly verdict: Verdict;
  /** Operations searched: failed operations and indeterminate reads are left out. */
  readonly operationCount: number;
  readonly searchSteps: number;
  readonly stoppedBy?: StopReason;
  /** When linearizable: operation ids in the order found (indeterminate ones left out never took effect). */
  readonly linearization?: readonly number[];
}

export interface LinearizabilityReport<Call, Result> {
  /** `violation` if any key has one; otherwise `unknown` if any key ran out of budget. */
  readonly verdict: Verdict;
  readonly perKey: readonly PartitionReport[];
  readonly searchSteps: number;
  readonly stoppedBy?: StopReason;
  /** For the first key (in partition order) with a violation. */
  readonly counterexample?: Counterexample<Call, Result>;
}

/**
 * Checks a history against a sequential model.
 *
 * @example
 * const report = checkLinearizability(kvRegisterModel, operations, { maxSearchStepsPerKey: 100_000 });
 * if (report.verdict === 'violation') console.log(report.counterexample?.lines.join('\n'));
 */
export function checkLinearizability<State, Call, Result>(
  model: Model<State, Call, Result>,
  operations: readonly RecordedOperation<Call, Result>[],
  options: CheckOptions = {},
): LinearizabilityReport<Call, Result> {
  const maxSearchSteps = options.maxSearchStepsPerKey ?? defaultMaxSearchStepsPerKey;
  invariant(
    Number.isSafeInteger(maxSearchSteps) && maxSearchSteps > 0,
    'maxSearchStepsPerKey must be a positive integer',
  );
  const deadline = options.deadline ?? neverExpires;
  const relevant = operations.filter(
    (operation) =>
      operation.outcome === 'ok' ||
      (operation.outcome === 'indeterminate' && !model.isReadOnly(operation.call)),
  );
  const perKey: PartitionReport[] = [];
  let counterexample: Counterexample<Call, Result> | undefined;
  for (const part of model.partition(relevant)) {
    const key = model.partitionLabel(part);
    const outcome = new PartitionSearch(model, part, maxSearchSteps, deadline).run();
    perKey.push(partitionReport(key, part.length, outcome));
    if (outcome.verdict === 'violation' && counterexample === undefined) {
      counterexample = buildCounterexample(model, key, part, outcome.stuck);
    }
  }
  return summarise(perKey, counterexample);
}

/**
 * Checks a KV history key by key with {@link kvRegisterModel}.
 *
 * @example
 * const report = checkKvHistory(recorder.operations());
 * assert.equal(report.verdict, 'linearizable', report.counterexample?.lines.join('\n'));
 */
export function checkKvHistory(
  operations: readonly KvOperation[],
  options: CheckOptions = {},
): LinearizabilityReport<KvCall, KvResult> {
  return checkLinearizability(kvRegisterModel, operations, options);
}

function partitionReport<State, Call, Result>(
  key: string,
  operationCount: number,
  outcome: SearchOutcome<State, Call, Result>,
): PartitionReport {
  const base = { key, verdict: outcome.verdict, operationCount, searchSteps: outcome.searchSteps };
  switch (outcome.verdict) {
    case 'linearizable':
      return { ...base, linearization: outcome.linearization.map((operation) => operation.id) };
    case 'unknown':
      return { ...base, stoppedBy: outcome.stoppedBy };
    case 'violation':
      return base;
  }
}

function summarise<Call, Result>(
  perKey: readonly PartitionReport[],
  counterexample: Counterexample<Call, Result> | undefined,
): LinearizabilityReport<Call, Result> {
  const searchSteps = perKey.reduce((sum, part) => sum + part.searchSteps, 0);
  if (counterexample !== undefined) return { verdict: 'violation', perKey, searchSteps, counterexample };
  const stopped = perKey.find((part) => part.stoppedBy !== undefined);
  if (stopped?.stoppedBy !== undefined)
    return { verdict: 'unknown', perKey, searchSteps, stoppedBy: stopped.stoppedBy };
  return { verdict: 'linearizable', perKey, searchSteps };
}

// ---------------------------------------------------------------------------------------------------
// The search over one partition

type SearchOutcome<State, Call, Result> =
  | {
      readonly verdict: 'linearizable';
      readonly searchSteps: number;
      readonly linearization: RecordedOperation<Call, Result>[];
    }
  | {
      readonly verdict: 'violation';
      readonly searchSteps: number;
      readonly stuck: StuckPoint<State, Call, Result>;
    }
  | { readonly verdict: 'unknown'; readonly searchSteps: number; readonly stoppedBy: StopReason };

const none = -1;

/**
 * Definite operation `i` owns list entries `2i` (invocation) and `2i + 1` (completion); the list head
 * is entry `2 * definiteCount`. Optional operations live in a second list sorted by invocation.
 */
interface EventLayout<Call, Result> {
  readonly definite: RecordedOperation<Call, Result>[];
  readonly optional: RecordedOperation<Call, Result>[];
  /** Position of each definite entry in the time order of all events. */
  readonly entryRank: Int32Array;
  /** Definite entries in time order. */
  readonly entriesInOrder: Int32Array;
  /** Position of each optional operation's invocation in the time order of all events. */
  readonly optionalRank: Int32Array;
  /** Optional operations in invocation order. */
  readonly optionalInOrder: Int32Array;
}

function layOutEvents<Call, Result>(
  operations: readonly RecordedOperation<Call, Result>[],
): EventLayout<Call, Result> {
  const definite = operations.filter((operation) => operation.outcome === 'ok');
  const optional = operations.filter((operation) => operation.outcome === 'indeterminate');
  // An event is [time, 0 for invocation | 1 for completion, operation id, slot]; slot >= 0 is a
  // definite entry, slot < 0 encodes optional operation -(slot + 1).
  const events: [number, number, number, number][] = [];
  definite.forEach((operation, index) => {
    invariant(
      operation.completedAt !== null && operation.result !== undefined,
      `ok operation ${operation.id} is incomplete`,
    );
    invariant(
      operation.completedAt >= operation.invokedAt,
      `operation ${operation.id} completed before it began`,
    );
    events.push(
      [operation.invokedAt, 0, operation.id, 2 * index],
      [operation.completedAt, 1, operation.id, 2 * index + 1],
    );
  });
  optional.forEach((operation, index) => {
    events.push([operation.invokedAt, 0, operation.id, -(index + 1)]);
  });
  events.sort((a, b) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2] || a[3] - b[3]);
  const entryRank = new Int32Array(2 * definite.length);
  const entriesInOrder = new Int32Array(2 * definite.length);
  const optionalRank = new Int32Array(optional.length);
  const optionalInOrder = new Int32Array(optional.length);
  let entryCount = 0;
  let optionalCount = 0;
  events.forEach(([, , , slot], rank) => {
    if (slot >= 0) {
      entryRank[slot] = rank;
      entriesInOrder[entryCount++] = slot;
    } else {
      optionalRank[-(slot + 1)] = rank;
      optionalInOrder[optionalCount++] = -(slot + 1);
    }
  });
  return { definite, optional, entryRank, entriesInOrder, optionalRank, optionalInOrder };
}

/** A doubly linked list over dense integer ids with a head sentinel; removal is undone in LIFO order. */
class LinkedEvents {
  readonly next: Int32Array;
  readonly previous: Int32Array;
  readonly head: number;

  constructor(order: Int32Array, size: number) {
    this.head = size;
    this.next = new Int32Array(size + 1).fill(none);
    this.previous = new Int32Array(size + 1).fill(none);
    let last = this.head;
    for (const id of order) {
      this.next[last] = id;
      this.previous[id] = last;
      last = id;
    }
  }

  first(): number {
    return this.next[this.head]!;
  }

  remove(id: number): void {
    const before = this.previous[id]!;
    const after = this.next[id]!;
    this.next[before] = after;
    if (after !== none) this.previous[after] = before;
  }

  /** Re-inserts `id` where it was; valid only in reverse order of removals. */
  restore(id: number): void {
    const before = this.previous[id]!;
    const after = this.next[id]!;
    this.next[before] = id;
    if (after !== none) this.previous[after] = id;
  }
}

/** Where the search resumes after a backtrack. */
const phaseDefinite = 0;
const phaseOptional = 1;

class PartitionSearch<State, Call, Result> {
  readonly #model: Model<State, Call, Result>;
  readonly #layout: EventLayout<Call, Result>;
  readonly #maxSearchSteps: number;
  readonly #deadline: SearchDeadline;
  readonly #entries: LinkedEvents;
  readonly #optionalList: LinkedEvents;
  readonly #definiteBits: Uint32Array;
  readonly #optionalBits: Uint32Array;
  readonly #zobrist: Uint32Array;
  readonly #visited: VisitedNodes;
  readonly #stateIds = new Map<string | number, number>();
  // The undo stack: what was placed (definite entry, or ~optional index), the state before, and the
  // optional-phase limit in force when an optional operation was placed.
  readonly #placed: number[] = [];
  readonly #statesBefore: State[] = [];
  readonly #limits: number[] = [];
  #state: State;
  #hash = 0;
  #steps = 0;
  #optionalPlaced = 0;
  #stuck: StuckPoint<State, Call, Result> | undefined;
  /** [definite, optional] operations placed at the remembered dead end; starts below any real one. */
  #stuckDepth: [number, number] = [-1, 0];

  constructor(
    model: Model<State, Call, Result>,
    operations: readonly RecordedOperation<Call, Result>[],
    maxSearchSteps: number,
    deadline: SearchDeadline,
  ) {
    this.#model = model;
    this.#layout = layOutEvents(operations);
    this.#maxSearchSteps = maxSearchSteps;
    this.#deadline = deadline;
    const { definite, optional, entriesInOrder, optionalInOrder } = this.#layout;
    this.#entries = new LinkedEvents(entriesInOrder, 2 * definite.length);
    this.#optionalList = new LinkedEvents(optionalInOrder, optional.length);
    this.#definiteBits = new Uint32Array(Math.ceil(definite.length / 32));
    this.#optionalBits = new Uint32Array(Math.ceil(optional.length / 32));
    this.#zobrist = zobristKeys(definite.length);
    this.#visited = new VisitedNodes(this.#definiteBits.length, this.#optionalBits.length);
    this.#state = model.init();
    this.#visited.visit(this.#hash, this.#definiteBits, this.#optionalBits, this.#stateId(this.#state));
  }

  run(): SearchOutcome<State, Call, Result> {
    const entries = this.#entries;
    const optionalList = this.#optionalList;
    let phase = phaseDefinite;
    let cursor = entries.first();
    let limit = 0;
    for (;;) {
      const stoppedBy = this.#budgetSpent();
      if (stoppedBy !== undefined) return { verdict: 'unknown', searchSteps: this.#steps, stoppedBy };
      if (phase === phaseDefinite) {
        if (cursor === none)
          return { verdict: 'linearizable', searchSteps: this.#steps, linearization: this.#prefix() };
        if ((cursor & 1) === 0) {
          cursor = this.#placeDefinite(cursor) ? entries.first() : entries.next[cursor]!;
        } else {
          // A completion: every operation must be placed before it, so only optional ones remain to try.
          phase = phaseOptional;
          limit = this.#layout.entryRank[cursor]!;
          cursor = optionalList.first();
        }
      } else if (cursor !== none && this.#layout.optionalRank[cursor]! < limit) {
        if (this.#placeOptional(cursor, limit)) {
          phase = phaseDefinite;
          cursor = entries.first();
        } else {
          cursor = optionalList.next[cursor]!;
        }
      } else {
        this.#noteStuck();
        if (this.#placed.length === 0)
          return { verdict: 'violation', searchSteps: this.#steps, stuck: this.#stuck! };
        const resumed = this.#undo();
        phase = resumed.phase;
        cursor = resumed.cursor;
        limit = resumed.limit;
      }
    }
  }

  #budgetSpent(): StopReason | undefined {
    this.#steps += 1;
    if (this.#steps > this.#maxSearchSteps) return 'step-budget';
    if (this.#steps % deadlineCheckIntervalSteps === 0 && this.#deadline.expired()) return 'deadline';
    return undefined;
  }

  #stateId(state: State): number {
    const key = this.#model.stateKey(state);
    let id = this.#stateIds.get(key);
    if (id === undefined) {
      id = this.#stateIds.size;
      this.#stateIds.set(key, id);
    }
    return id;
  }

  /** Tries to linearize the definite operation whose invocation is `entry` next. */
  #placeDefinite(entry: number): boolean {
    const index = entry >> 1;
    const operation = this.#layout.definite[index]!;
    const outcome = this.#model.step(this.#state, operation.call, operation.result);
    if (!outcome.ok) return false;
    const hash = (this.#hash ^ this.#zobrist[index]!) >>> 0;
    toggleBit(this.#definiteBits, index);
    if (this.#visited.visit(hash, this.#definiteBits, this.#optionalBits, this.#stateId(outcome.next))) {
      toggleBit(this.#definiteBits, index);
      return false;
    }
    this.#push(entry, 0);
    this.#hash = hash;
    this.#state = outcome.next;
    this.#entries.remove(entry);
    this.#entries.remove(entry + 1);
    return true;
  }

  /** Tries to linearize optional operation `index` next; `limit` is the rank it must precede. */
  #placeOptional(index: number, limit: number): boolean {
    const call = this.#layout.optional[index]!.call;
    const outcome = this.#model.step(this.#state, call, undefined);
    if (!outcome.ok) return false;
    const nextStateId = this.#stateId(outcome.next);
    const top = this.#placed.length - 1;
    if (top >= 0 && this.#placed[top]! < 0) {
      // Placed right after another optional operation: if placing this one instead of it ends in the
      // same state, that sibling branch covers this one with a smaller set.
      const instead = this.#model.step(this.#statesBefore[top]!, call, undefined);
      if (instead.ok && this.#stateId(instead.next) === nextStateId) return false;
    }
    toggleBit(this.#optionalBits, index);
    if (this.#visited.visit(this.#hash, this.#definiteBits, this.#optionalBits, nextStateId)) {
      toggleBit(this.#optionalBits, index);
      return false;
    }
    this.#push(~index, limit);
    this.#optionalPlaced += 1;
    this.#state = outcome.next;
    this.#optionalList.remove(index);
    return true;
  }

  #push(placed: number, limit: number): void {
    this.#placed.push(placed);
    this.#statesBefore.push(this.#state);
    this.#limits.push(limit);
  }

  /** Takes back the last placement; returns where to continue scanning. */
  #undo(): { phase: number; cursor: number; limit: number } {
    const placed = this.#placed.pop()!;
    this.#state = this.#statesBefore.pop()!;
    const limit = this.#limits.pop()!;
    if (placed >= 0) {
      this.#entries.restore(placed + 1);
      this.#entries.restore(placed);
      toggleBit(this.#definiteBits, placed >> 1);
      this.#hash = (this.#hash ^ this.#zobrist[placed >> 1]!) >>> 0;
      return { phase: phaseDefinite, cursor: this.#entries.next[placed]!, limit: 0 };
    }
    const index = ~placed;
    this.#optionalPlaced -= 1;
    this.#optionalList.restore(index);
    toggleBit(this.#optionalBits, index);
    return { phase: phaseOptional, cursor: this.#optionalList.next[index]!, limit };
  }

  #prefix(): RecordedOperation<Call, Result>[] {
    const { definite, optional } = this.#layout;
    return this.#placed.map((placed) => (placed >= 0 ? definite[placed >> 1]! : optional[~placed]!));
  }

  /**
   * Remembers the deepest dead end: the one with the most definite operations placed, and among
   * those the fewest optional ones (optional operations placed on the way rarely explain anything).
   */
  #noteStuck(): void {
    const optionalPlaced = this.#optionalPlaced;
    const definitePlaced = this.#placed.length - optionalPlaced;
    const [bestDefinite, bestOptional] = this.#stuckDepth;
    if (definitePlaced < bestDefinite || (definitePlaced === bestDefinite && optionalPlaced >= bestOptional))
      return;
    this.#stuckDepth = [definitePlaced, optionalPlaced];
    const entries = this.#entries;
    const cannotFollow: RecordedOperation<Call, Result>[] = [];
    let entry = entries.first();
    while (entry !== none && (entry & 1) === 0) {
      const operation = this.#layout.definite[entry >> 1]!;
      if (!this.#model.step(this.#state, operation.call, operation.result).ok) cannotFollow.push(operation);
      entry = entries.next[entry]!;
    }
    invariant(entry !== none, 'a dead end always has a completion left to reach');
    const blocked = this.#layout.definite[entry >> 1]!;
    this.#stuck = {
      prefix: this.#prefix(),
      state: this.#state,
      blocked,
      alsoUnplaceable: cannotFollow.filter((operation) => operation !== blocked),
    };
  }
}

function toggleBit(words: Uint32Array, index: number): void {
  words[index >>> 5]! ^= 1 << (index & 31);
}

/** Fixed pseudo-random 32-bit keys, one per definite operation (xorshift32 from a constant seed). */
function zobristKeys(count: number): Uint32Array {
  const keys = new Uint32Array(count);
  let x = 0x9e3779b9;
  for (let index = 0; index < count; index += 1) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    keys[index] = x >>> 0;
  }
  return keys;
}

/**
 * The memo of visited nodes: (definite set, state id, optional set), in an open-addressing table keyed
 * by the definite set's hash and the state. A node counts as visited when a node with the same
 * definite set and state and a subset of its optional set was.
 */
class VisitedNodes {
  readonly #definiteWords: number;
  readonly #optionalWords: number;
  #slots = new Int32Array(1 << 10);
  #count = 0;
  #hashes = new Uint32Array(1 << 9);
  #stateIds = new Int32Array(1 << 9);
  #definiteBits: Uint32Array;
  #optionalBits: Uint32Array;

  constructor(definiteWords: number, optionalWords: number) {
    this.#definiteWords = definiteWords;
    this.#optionalWords = optionalWords;
    this.#definiteBits = new Uint32Array(this.#hashes.length * definiteWords);
    this.#optionalBits = new Uint32Array(this.#hashes.length * optionalWords);
  }

  /** Returns true when the node (or one that covers it) was visited; otherwise records it. */
  visit(definiteHash: number, definite: Uint32Array, optional: Uint32Array, stateId: number): boolean {
    const hash = mixHash(definiteHash, stateId);
    const mask = this.#slots.length - 1;
    let slot = hash & mask;
    for (let record = this.#slots[slot]! - 1; record >= 0; record = this.#slots[slot]! - 1) {
      if (this.#hashes[record] === hash && this.#covers(record, definite, optional, stateId)) return true;
      slot = (slot + 1) & mask;
    }
    this.#add(hash, definite, optional, stateId);
    return false;
  }

  #covers(record: number, definite: Uint32Array, optional: Uint32Array, stateId: number): boolean {
    if (this.#stateIds[record] !== stateId) return false;
    const definiteBase = record * this.#definiteWords;
    for (let word = 0; word < this.#definiteWords; word += 1) {
      if (this.#definiteBits[definiteBase + word] !== definite[word]) return false;
    }
    const optionalBase = record * this.#optionalWords;
    for (let word = 0; word < this.#optionalWords; word += 1) {
      if ((this.#optionalBits[optionalBase + word]! & ~optional[word]!) !== 0) return false;
    }
    return true;
  }

  #add(hash: number, definite: Uint32Array, optional: Uint32Array, stateId: number): void {
    if (this.#count === this.#hashes.length) this.#growRecords();
    const record = this.#count++;
    this.#hashes[record] = hash;
    this.#stateIds[record] = stateId;
    this.#definiteBits.set(definite, record * this.#definiteWords);
    this.#optionalBits.set(optional, record * this.#optionalWords);
    // Keep the table at most half full so probe chains stay short.
    if (2 * this.#count > this.#slots.length) this.#rehash(this.#slots.length * 2);
    else this.#insertSlot(record);
  }

  #insertSlot(record: number): void {
    const mask = this.#slots.length - 1;
    let slot = this.#hashes[record]! & mask;
    while (this.#slots[slot] !== 0) slot = (slot + 1) & mask;
    this.#slots[slot] = record + 1;
  }

  #rehash(slotCount: number): void {
    this.#slots = new Int32Array(slotCount);
    for (let record = 0; record < this.#count; record += 1) this.#insertSlot(record);
  }

  #growRecords(): void {
    const capacity = this.#hashes.length * 2;
    this.#hashes = grown(this.#hashes, new Uint32Array(capacity));
    this.#stateIds = grown(this.#stateIds, new Int32Array(capacity));
    this.#definiteBits = grown(this.#definiteBits, new Uint32Array(capacity * this.#definiteWords));
    this.#optionalBits = grown(this.#optionalBits, new Uint32Array(capacity * this.#optionalWords));
  }
}

function grown<T extends Uint32Array | Int32Array>(old: T, fresh: T): T {
  fresh.set(old);
  return fresh;
}

/** Combines the Zobrist hash with the state id and spreads the bits (MurmurHash3's finaliser). */
function mixHash(definiteHash: number, stateId: number): number {
  let h = (definiteHash ^ Math.imul(stateId + 1, 0x9e3779b1)) >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
