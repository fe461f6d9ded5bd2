/**
 * Multi-value register (as in Dynamo and Riak): a write supersedes exactly the values its writer
 * had seen, tracked with vector clocks; concurrent writes all survive until a later write that
 * has seen them resolves them. Nothing is lost silently, unlike last-writer-wins.
 */
import { VectorClock, type VectorClockJson } from '../clocks/vector-clock.js';
import { assertReplicaId, CrdtFormatError, canonicalJson, isJsonValue, type JsonValue } from './json.js';

export interface MvRegisterState<Value extends JsonValue> {
  /** Concurrent writes, none of which has seen another; sorted canonically. */
  readonly entries: readonly { readonly value: Value; readonly clock: VectorClockJson }[];
}

interface Entry<Value extends JsonValue> {
  readonly value: Value;
  readonly clock: VectorClock;
}

/**
 * @example
 * const a = new MvRegister<string>('a').set('draft');
 * const b = new MvRegister<string>('b').merge(a);
 * a.set('final-a');
 * b.set('final-b'); // concurrent with a's write
 * a.merge(b).values; // ['final-a', 'final-b']
 * a.set('resolved').values; // ['resolved']
 */
export class MvRegister<Value extends JsonValue> {
  readonly replicaId: string;
  #entries: Entry<Value>[];

  constructor(replicaId: string, entries: Entry<Value>[] = []) {
    assertReplicaId(replicaId);
    this.replicaId = replicaId;
    this.#entries = entries;
  }

  static fromJSON<Value extends JsonValue>(replicaId: string, json: unknown): MvRegister<Value> {
    return new MvRegister<Value>(replicaId, readEntries<Value>(json));
  }

  /** Every value no other has superseded, in canonical order; empty before any write. */
  get values(): Value[] {
    return this.#entries.map((entry) => entry.value);
  }

  /** A write that has seen, and so supersedes, every value currently held. */
  set(value: Value): this {
    if (!isJsonValue(value)) throw new RangeError('an MV-Register holds JSON values only');
    const seen = this.#entries.reduce((clock, entry) => clock.merge(entry.clock), VectorClock.empty);
    this.#entries = [{ value, clock: seen.increment(this.replicaId) }];
    return this;
  }

  merge(other: MvRegister<Value> | MvRegisterState<Value>): this {
    const incoming = other instanceof MvRegister ? other.#entries : readEntries<Value>(other);
    this.#entries = maximalEntries([...this.#entries, ...incoming]);
    return this;
  }

  toJSON(): MvRegisterState<Value> {
    return { entries: this.#entries.map((entry) => ({ value: entry.value, clock: entry.clock.toJSON() })) };
  }
}

/** Drops entries another entry has seen and duplicates, and sorts the rest canonically. */
function maximalEntries<Value extends JsonValue>(entries: Entry<Value>[]): Entry<Value>[] {
  const byIdentity = new Map<string, Entry<Value>>();
  for (const entry of entries) byIdentity.set(identityOf(entry), entry);
  const distinct = [...byIdentity.values()];
  const maximal = distinct.filter(
    (entry) => !distinct.some((other) => entry.clock.compare(other.clock) === 'before'),
  );
  return maximal.sort((left, right) => (identityOf(left) < identityOf(right) ? -1 : 1));
}

function identityOf<Value extends JsonValue>(entry: Entry<Value>): string {
  return `${canonicalJson(entry.clock.toJSON())}|${canonicalJson(entry.value)}`;
}

function readEntries<Value extends JsonValue>(json: unknown): Entry<Value>[] {
  if (typeof json !== 'object' || json === null || !Array.isArray((json as { entries?: unknown }).entries)) {
    throw new CrdtFormatError('MV-Register', 'expected { entries: [...] }');
  }
  const entries = (json as { entries: unknown[] }).entries.map((entry) => {
    if (typeof entry !== 'object' || entry === null)
      throw new CrdtFormatError('MV-Register', 'an entry must be an object');
    const { value, clock } = entry as { value?: unknown; clock?: unknown };
    if (!isJsonValue(value)) throw new CrdtFormatError('MV-Register', 'an entry value must be JSON');
    try {
      return { value: value as Value, clock: VectorClock.fromJSON(clock) };
    } catch (error) {
      throw new CrdtFormatError('MV-Register', `bad entry clock (${(error as Error).message})`);
    }
  });
  return maximalEntries(entries);
}
