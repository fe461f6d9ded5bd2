/**
 * The search for a linearization of one partition: Wing & Gong's, with Lowe's memoisation, as
 * popularised by Porcupine.
 * - Events (invocations and completions) sit in a doubly linked list sorted by time. The candidates
 *   to linearize next are the invocations before the first completion still in the list. Placing one
 *   unlinks its invocation and completion; backtracking relinks them (an undo stack).
 * - Visited (set of linearized operations, model state) nodes are memoised; the set is a bitset
 *   (`Uint32Array` words) with an incrementally maintained Zobrist hash.
 *
 * Indeterminate operations are optional: their completion lies at +∞, so they may be linearized
 * anywhere after their invocation or never, and the search succeeds once every definite (`ok`)
 * operation is placed. They are kept apart from the definite ones:
 * - they are tried after every definite candidate at a node, so they land where a later result
 *   needs them rather than wherever they happen to be first in the list;
 * - a node is pruned when a node with the same definite set and state and a subset of its optional
 *   operations was visited (anything reachable from the larger set is reachable from the smaller
 *   one, because optional operations never have to be placed);
 * - two optional operations in a row are pruned when the second alone leads to the same state;
 * - blind writes are placed only where something then behaves differently (`BlindWrites`).
 *
 * Read-only operations (reads, failed cas) that fit are placed as soon as they are candidates, with
 * no alternatives: nothing is lost by linearizing an observer early (see `#enterNode`).
 */
import type { StuckPoint } from './counterexample.js';
import type { RecordedOperation } from './history.js';
import { invariant } from './history.js';
import type { Model } from './kv-model.js';
import { BlindWrites, none, toggleBit, VisitedNodes, zobristKeys } from './search-pruning.js';

/** Why a search gave up with `unknown`. */
export type StopReason = 'step-budget' | 'deadline';

/** Tells the search to give up; build it outside the search, e.g. from a wall clock. */
export interface SearchDeadline {
  expired(): boolean;
}

/** How often (in steps) the deadline is consulted; a power of two keeps the check cheap. */
export const deadlineCheckIntervalSteps = 1024;

export type SearchOutcome<State, Call, Result> =
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

/** What the search does at a node: try definite candidates, then optional ones, then backtrack. */
const phaseDefinite = 0;
const phaseOptional = 1;
const phaseExhausted = 2;
/** Stored as the limit of a placement made on entering a node (see `#enterNode`). */
const forcedMarker = -1;
const earlyMarker = -2;

export class PartitionSearch<State, Call, Result> {
  readonly #model: Model<State, Call, Result>;
  readonly #layout: EventLayout<Call, Result>;
  readonly #maxSearchSteps: number;
  readonly #deadline: SearchDeadline;
  readonly #entries: LinkedEvents;
  readonly #optionalList: LinkedEvents;
  readonly #definiteBits: Uint32Array;
  readonly #optionalBits: Uint32Array;
  readonly #zobrist: Uint32Array;
  readonly #blindWrites: BlindWrites<State, Call, Result>;
  readonly #visited: VisitedNodes;
  readonly #stateIds = new Map<string | number, number>();
  // The undo stack: what was placed (definite entry, or ~optional index), the state before, and the
  // optional-phase limit in force when an optional operation was placed (or a marker).
  readonly #placed: number[] = [];
  readonly #statesBefore: State[] = [];
  readonly #limits: number[] = [];
  #state: State;
  #hash = 0;
  #steps = 0;
  #optionalPlaced = 0;
  #stuck: StuckPoint<State, Call, Result> | undefined;
  /** The remembered dead end's blocking rank and [definite, optional] operations placed. */
  #stuckDepth: [number, number, number] = [-1, 0, 0];

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
    this.#blindWrites = new BlindWrites(model, optional);
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
    let freshNode = true;
    for (;;) {
      const stoppedBy = this.#budgetSpent();
      if (stoppedBy !== undefined) return { verdict: 'unknown', searchSteps: this.#steps, stoppedBy };
      if (phase === phaseOptional) cursor = this.#skipUselessBlindWrites(cursor);
      if (phase === phaseDefinite && freshNode) {
        const first = this.#enterNode();
        freshNode = first === 'placed';
        if (first === 'dead') phase = phaseExhausted;
        cursor = entries.first();
      } else if (phase === phaseDefinite) {
        if (cursor === none)
          return { verdict: 'linearizable', searchSteps: this.#steps, linearization: this.#prefix() };
        if ((cursor & 1) === 0) {
          freshNode = this.#placeDefinite(cursor);
          cursor = freshNode ? entries.first() : entries.next[cursor]!;
        } else {
          // A completion: every operation must be placed before it, so only optional ones remain to try.
          phase = phaseOptional;
          limit = this.#layout.entryRank[cursor]!;
          cursor = optionalList.first();
          this.#markUsefulBlindWrites(limit);
        }
      } else if (phase === phaseOptional && cursor !== none && this.#layout.optionalRank[cursor]! < limit) {
        freshNode = this.#placeOptional(cursor, limit);
        phase = freshNode ? phaseDefinite : phaseOptional;
        cursor = freshNode ? entries.first() : optionalList.next[cursor]!;
      } else {
        this.#noteStuck();
        if (this.#placed.length === 0)
          return { verdict: 'violation', searchSteps: this.#steps, stuck: this.#stuck! };
        ({ phase, cursor, limit } = this.#undo());
        freshNode = false;
        if (phase === phaseOptional) this.#markUsefulBlindWrites(limit);
      }
    }
  }

  /** Counts a step, or says why not; the deadline is consulted on the first step and then periodically. */
  #budgetSpent(): StopReason | undefined {
    if (this.#steps >= this.#maxSearchSteps) return 'step-budget';
    if (this.#steps % deadlineCheckIntervalSteps === 0 && this.#deadline.expired()) return 'deadline';
    this.#steps += 1;
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
    const operation = this.#layout.definite[entry >> 1]!;
    const outcome = this.#model.step(this.#state, operation.call, operation.result);
    return outcome.ok && this.#commitDefinite(entry, outcome.next, this.#stateId(outcome.next), false);
  }

  /**
   * The first moves tried at a new node, before the scan in list order:
   * - A read-only candidate that fits (a read, a failed cas) may go first: any linearization from
   *   here reorders into one that starts with it, since everything that must precede it is placed
   *   and it changes nothing the others see. So it is placed with no alternative tried; if that
   *   fails (now, or on an earlier visit: `dead`), this node fails.
   * - Otherwise, if a read-only candidate waits for a value that an optional operation would write,
   *   that operation is tried first (only an ordering choice: the regular scan follows on backtrack).
   */
  #enterNode(): 'placed' | 'dead' | 'none' {
    const entries = this.#entries;
    let waiting = none;
    for (let entry = entries.first(); entry !== none && (entry & 1) === 0; entry = entries.next[entry]!) {
      const operation = this.#layout.definite[entry >> 1]!;
      if (!this.#model.isReadOnly(operation.call, operation.result)) continue;
      const outcome = this.#model.step(this.#state, operation.call, operation.result);
      if (!outcome.ok) {
        if (waiting === none) waiting = entry;
        continue;
      }
      const stateId = this.#stateId(outcome.next);
      invariant(
        stateId === this.#stateId(this.#state),
        `read-only operation ${operation.id} changed the state`,
      );
      return this.#commitDefinite(entry, outcome.next, stateId, true) ? 'placed' : 'dead';
    }
    return waiting !== none && this.#placeEnabling(waiting) ? 'placed' : 'none';
  }

  /** Tries optional operations after which the read-only operation at `waiting` would fit. */
  #placeEnabling(waiting: number): boolean {
    const reader = this.#layout.definite[waiting >> 1]!;
    const limit = this.#layout.entryRank[this.#firstCompletion()]!;
    const optionalList = this.#optionalList;
    for (let index = optionalList.first(); index !== none; index = optionalList.next[index]!) {
      if (this.#layout.optionalRank[index]! >= limit) break;
      const outcome = this.#model.step(this.#state, this.#layout.optional[index]!.call, undefined);
      if (!outcome.ok || !this.#model.step(outcome.next, reader.call, reader.result).ok) continue;
      if (this.#placeOptional(index, limit, earlyMarker)) return true;
    }
    return false;
  }

  /** The first completion still in the list; every node that is not a success has one. */
  #firstCompletion(): number {
    let entry = this.#entries.first();
    while (entry !== none && (entry & 1) === 0) entry = this.#entries.next[entry]!;
    invariant(entry !== none, 'an unfinished node has a completion left to reach');
    return entry;
  }

  /** Places a definite operation unless its node was visited; `forced` nodes have no alternatives. */
  #commitDefinite(entry: number, next: State, nextStateId: number, forced: boolean): boolean {
    const index = entry >> 1;
    const hash = (this.#hash ^ this.#zobrist[index]!) >>> 0;
    toggleBit(this.#definiteBits, index);
    if (this.#visited.visit(hash, this.#definiteBits, this.#optionalBits, nextStateId)) {
      toggleBit(this.#definiteBits, index);
      return false;
    }
    this.#push(entry, forced ? forcedMarker : 0);
    this.#hash = hash;
    this.#state = next;
    this.#entries.remove(entry);
    this.#entries.remove(entry + 1);
    return true;
  }

  /**
   * Tries to linearize optional operation `index` next; `limit` is the rank it must precede, and
   * `storedLimit` what to resume with on backtrack (`earlyMarker`: the node's regular scan).
   */
  #placeOptional(index: number, limit: number, storedLimit = limit): boolean {
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
    invariant(
      this.#layout.optionalRank[index]! < limit,
      `optional operation ${index} placed after a completion`,
    );
    this.#push(~index, storedLimit);
    this.#optionalPlaced += 1;
    this.#state = outcome.next;
    this.#optionalList.remove(index);
    return true;
  }

  /**
   * Skips blind writes that cannot help at this node: right after an optional placement all of them
   * (one would hide it, and placing it instead is a sibling branch: the rule in `#placeOptional`),
   * and otherwise those `BlindWrites` did not mark useful.
   */
  #skipUselessBlindWrites(cursor: number): number {
    const top = this.#placed.length - 1;
    const afterOptional = top >= 0 && this.#placed[top]! < 0;
    const blindWrites = this.#blindWrites;
    while (
      cursor !== none &&
      blindWrites.isBlind(cursor) &&
      (afterOptional || !blindWrites.isUseful(cursor))
    ) {
      cursor = this.#optionalList.next[cursor]!;
    }
    return cursor;
  }

  /** Marks the blind writes worth placing at this node, whose optional phase runs up to `limit`. */
  #markUsefulBlindWrites(limit: number): void {
    const blindWrites = this.#blindWrites;
    if (!blindWrites.any) return;
    blindWrites.startNode();
    const entries = this.#entries;
    for (let entry = entries.first(); entry !== none && (entry & 1) === 0; entry = entries.next[entry]!) {
      const operation = this.#layout.definite[entry >> 1]!;
      const fitsNow = this.#model.step(this.#state, operation.call, operation.result).ok;
      blindWrites.markEnablersOfDefinite(entry >> 1, operation, fitsNow);
    }
    const optionalList = this.#optionalList;
    for (let index = optionalList.first(); index !== none; index = optionalList.next[index]!) {
      if (this.#layout.optionalRank[index]! >= limit) break;
      if (!blindWrites.isBlind(index))
        blindWrites.markEnablersOfOptional(index, this.#layout.optional[index]!);
    }
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
      if (limit === forcedMarker) return { phase: phaseExhausted, cursor: none, limit: 0 };
      return { phase: phaseDefinite, cursor: this.#entries.next[placed]!, limit: 0 };
    }
    const index = ~placed;
    this.#optionalPlaced -= 1;
    this.#optionalList.restore(index);
    toggleBit(this.#optionalBits, index);
    if (limit === earlyMarker) return { phase: phaseDefinite, cursor: this.#entries.first(), limit: 0 };
    return { phase: phaseOptional, cursor: this.#optionalList.next[index]!, limit };
  }

  #prefix(): RecordedOperation<Call, Result>[] {
    const { definite, optional } = this.#layout;
    return this.#placed.map((placed) => (placed >= 0 ? definite[placed >> 1]! : optional[~placed]!));
  }

  /**
   * Remembers the dead end that explains the most: the one stuck at the latest completion in the
   * history, and among those the one with the fewest operations placed (definite first, then
   * optional), so that the prefix holds what had to come before and little that merely could.
   */
  #noteStuck(): void {
    const blockedRank = this.#layout.entryRank[this.#firstCompletion()]!;
    const optionalPlaced = this.#optionalPlaced;
    const definitePlaced = this.#placed.length - optionalPlaced;
    const [bestRank, bestDefinite, bestOptional] = this.#stuckDepth;
    const better =
      blockedRank > bestRank ||
      (blockedRank === bestRank &&
        (definitePlaced < bestDefinite ||
          (definitePlaced === bestDefinite && optionalPlaced < bestOptional)));
    if (!better) return;
    this.#stuckDepth = [blockedRank, definitePlaced, optionalPlaced];
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
