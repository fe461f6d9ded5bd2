/**
 * The search's memo and pruning helpers: which nodes were visited (`VisitedNodes`), which blind
 * writes are worth placing (`BlindWrites`), and the bitset and hashing primitives they share.
 */
import type { RecordedOperation } from './history.js';
import type { Model } from './kv-model.js';

/** The null index in the search's integer-linked structures. */
export const none = -1;

/**
 * Which optional blind writes are worth placing at a node. A blind write sets its state `x` whatever
 * the state was, so placing it is useful only if something then behaves differently: a definite
 * candidate that fits `x` but not the current state (or that is neither read-only nor blind), or a
 * non-blind optional operation that changes `x`. Otherwise a linearization through it reorders into
 * one without it here: what follows hides it, or commutes with it, or ignores it.
 * Which states an operation fits (or changes) among the writes' targets is probed once and cached.
 */
export class BlindWrites<State, Call, Result> {
  readonly #model: Model<State, Call, Result>;
  /** The distinct states blind writes leave, and which optional operations write each. */
  readonly #targets: { readonly state: State; readonly writers: number[] }[] = [];
  /** Per optional operation: its target's index, or `none` when it is not a blind write. */
  readonly #targetOf: Int32Array;
  readonly #fitsByDefinite = new Map<number, readonly number[]>();
  readonly #changedByOptional = new Map<number, readonly number[]>();
  /** Per optional operation: the node (epoch) at which it was last marked useful. */
  readonly #usefulAt: Int32Array;
  #epoch = 0;
  readonly any: boolean;

  constructor(model: Model<State, Call, Result>, optional: readonly RecordedOperation<Call, Result>[]) {
    this.#model = model;
    this.#targetOf = new Int32Array(optional.length).fill(none);
    this.#usefulAt = new Int32Array(optional.length).fill(-1);
    const targetByKey = new Map<string | number, number>();
    optional.forEach((operation, index) => {
      if (!model.isBlindWrite(operation.call)) return;
      const state = model.step(model.init(), operation.call, undefined).next;
      const key = model.stateKey(state);
      let target = targetByKey.get(key);
      if (target === undefined) {
        target = this.#targets.push({ state, writers: [] }) - 1;
        targetByKey.set(key, target);
      }
      this.#targets[target]!.writers.push(index);
      this.#targetOf[index] = target;
    });
    this.any = this.#targets.length > 0;
  }

  isBlind(index: number): boolean {
    return this.#targetOf[index] !== none;
  }

  isUseful(index: number): boolean {
    return this.#usefulAt[index] === this.#epoch;
  }

  startNode(): void {
    this.#epoch += 1;
  }

  markEnablersOfDefinite(index: number, operation: RecordedOperation<Call, Result>, fitsNow: boolean): void {
    const model = this.#model;
    // A read-only or blind candidate that fits now is unaffected: placing it first does the same.
    if (fitsNow && (model.isReadOnly(operation.call, operation.result) || model.isBlindWrite(operation.call)))
      return;
    let fits = this.#fitsByDefinite.get(index);
    if (fits === undefined) {
      fits = this.#probe((state) => model.step(state, operation.call, operation.result).ok);
      this.#fitsByDefinite.set(index, fits);
    }
    this.#mark(fits);
  }

  markEnablersOfOptional(index: number, operation: RecordedOperation<Call, Result>): void {
    let changed = this.#changedByOptional.get(index);
    if (changed === undefined) {
      const model = this.#model;
      changed = this.#probe((state) => {
        const outcome = model.step(state, operation.call, undefined);
        return outcome.ok && model.stateKey(outcome.next) !== model.stateKey(state);
      });
      this.#changedByOptional.set(index, changed);
    }
    this.#mark(changed);
  }

  #probe(holds: (state: State) => boolean): number[] {
    const found: number[] = [];
    this.#targets.forEach((target, index) => {
      if (holds(target.state)) found.push(index);
    });
    return found;
  }

  #mark(targets: readonly number[]): void {
    for (const target of targets) {
      for (const writer of this.#targets[target]!.writers) this.#usefulAt[writer] = this.#epoch;
    }
  }
}

export function toggleBit(words: Uint32Array, index: number): void {
  words[index >>> 5]! ^= 1 << (index & 31);
}

/** Fixed pseudo-random 32-bit keys, one per definite operation (xorshift32 from a constant seed). */
export function zobristKeys(count: number): Uint32Array {
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
 * The memo of visited nodes. Nodes are grouped by (definite set, state) in an open-addressing table
 * keyed by the definite set's Zobrist hash mixed with the state id; each group lists the optional
 * sets seen with it. A node counts as visited when its group lists a subset of its optional set.
 */
export class VisitedNodes {
  readonly #definiteWords: number;
  readonly #optionalWords: number;
  #slots = new Int32Array(1 << 10);
  #groupCount = 0;
  #groupHashes = new Uint32Array(1 << 9);
  #groupStateIds = new Int32Array(1 << 9);
  #groupFirstEntries = new Int32Array(1 << 9);
  #groupDefiniteBits: Uint32Array;
  #entryCount = 0;
  #entryNext = new Int32Array(1 << 9);
  #entryOptionalBits: Uint32Array;

  constructor(definiteWords: number, optionalWords: number) {
    this.#definiteWords = definiteWords;
    this.#optionalWords = optionalWords;
    this.#groupDefiniteBits = new Uint32Array(this.#groupHashes.length * definiteWords);
    this.#entryOptionalBits = new Uint32Array(this.#entryNext.length * optionalWords);
  }

  /** Returns true when the node (or one that covers it) was visited; otherwise records it. */
  visit(definiteHash: number, definite: Uint32Array, optional: Uint32Array, stateId: number): boolean {
    const hash = mixHash(definiteHash, stateId);
    const mask = this.#slots.length - 1;
    let slot = hash & mask;
    for (let group = this.#slots[slot]! - 1; group >= 0; group = this.#slots[slot]! - 1) {
      if (this.#groupHashes[group] === hash && this.#sameGroup(group, definite, stateId)) {
        for (let entry = this.#groupFirstEntries[group]!; entry !== none; entry = this.#entryNext[entry]!) {
          if (this.#isSubset(entry, optional)) return true;
        }
        this.#addEntry(group, optional);
        return false;
      }
      slot = (slot + 1) & mask;
    }
    this.#addEntry(this.#addGroup(hash, definite, stateId), optional);
    return false;
  }

  #sameGroup(group: number, definite: Uint32Array, stateId: number): boolean {
    if (this.#groupStateIds[group] !== stateId) return false;
    const base = group * this.#definiteWords;
    for (let word = 0; word < this.#definiteWords; word += 1) {
      if (this.#groupDefiniteBits[base + word] !== definite[word]) return false;
    }
    return true;
  }

  #isSubset(entry: number, optional: Uint32Array): boolean {
    const base = entry * this.#optionalWords;
    for (let word = 0; word < this.#optionalWords; word += 1) {
      if ((this.#entryOptionalBits[base + word]! & ~optional[word]!) !== 0) return false;
    }
    return true;
  }

  #addGroup(hash: number, definite: Uint32Array, stateId: number): number {
    if (this.#groupCount === this.#groupHashes.length) {
      const capacity = this.#groupHashes.length * 2;
      this.#groupHashes = grown(this.#groupHashes, new Uint32Array(capacity));
      this.#groupStateIds = grown(this.#groupStateIds, new Int32Array(capacity));
      this.#groupFirstEntries = grown(this.#groupFirstEntries, new Int32Array(capacity));
      this.#groupDefiniteBits = grown(
        this.#groupDefiniteBits,
        new Uint32Array(capacity * this.#definiteWords),
      );
    }
    const group = this.#groupCount++;
    this.#groupHashes[group] = hash;
    this.#groupStateIds[group] = stateId;
    this.#groupFirstEntries[group] = none;
    this.#groupDefiniteBits.set(definite, group * this.#definiteWords);
    // Keep the table at most half full so probe chains stay short.
    if (2 * this.#groupCount > this.#slots.length) this.#rehash(this.#slots.length * 2);
    else this.#insertSlot(group);
    return group;
  }

  #addEntry(group: number, optional: Uint32Array): void {
    if (this.#entryCount === this.#entryNext.length) {
      const capacity = this.#entryNext.length * 2;
      this.#entryNext = grown(this.#entryNext, new Int32Array(capacity));
      this.#entryOptionalBits = grown(
        this.#entryOptionalBits,
        new Uint32Array(capacity * this.#optionalWords),
      );
    }
    const entry = this.#entryCount++;
    this.#entryOptionalBits.set(optional, entry * this.#optionalWords);
    this.#entryNext[entry] = this.#groupFirstEntries[group]!;
    this.#groupFirstEntries[group] = entry;
  }

  #insertSlot(group: number): void {
    const mask = this.#slots.length - 1;
    let slot = this.#groupHashes[group]! & mask;
    while (this.#slots[slot] !== 0) slot = (slot + 1) & mask;
    this.#slots[slot] = group + 1;
  }

  #rehash(slotCount: number): void {
    this.#slots = new Int32Array(slotCount);
    for (let group = 0; group < this.#groupCount; group += 1) this.#insertSlot(group);
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
