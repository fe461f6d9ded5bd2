/**
 * Observed-remove set, add-wins (Shapiro et al., 2011), in the optimised form without tombstones
 * (Bieniusa et al., "An optimized conflict-free replicated set", 2012). Every add tags its
 * element with a unique dot (replica, counter); a remove drops the dots it has observed; a
 * version vector records every dot a replica has seen. On merge a dot survives if both sides
 * hold it, or if one side holds it and the other has never seen it. A remove thus beats only
 * the adds it observed, and a concurrent add wins.
 */
import { VectorClock, type VectorClockJson } from '../clocks/vector-clock.js';
import { assertReplicaId, CrdtFormatError, canonicalJson, isJsonValue, type JsonValue } from './json.js';

/** A unique add tag: [replica id, that replica's counter]. */
export type Dot = readonly [replica: string, counter: number];

export interface OrSetState<Element extends JsonValue> {
  /** Every dot this replica has seen, as a version vector. */
  readonly clock: VectorClockJson;
  /** Live elements with their dots, sorted canonically. */
  readonly elements: readonly { readonly element: Element; readonly dots: readonly Dot[] }[];
}

interface Entry<Element extends JsonValue> {
  readonly element: Element;
  /** Dots as "counter@replica" strings, so they compare by value in a Set. */
  readonly dots: Set<string>;
}

/**
 * @example
 * const a = new OrSet<string>('a').add('x');
 * const b = new OrSet<string>('b').merge(a);
 * b.remove('x'); // removes the add it observed
 * a.add('x'); // a concurrent re-add
 * b.merge(a).has('x'); // true: add wins
 */
export class OrSet<Element extends JsonValue> {
  readonly replicaId: string;
  #clock: VectorClock;
  #entries: Map<string, Entry<Element>>;

  constructor(
    replicaId: string,
    clock: VectorClock = VectorClock.empty,
    entries = new Map<string, Entry<Element>>(),
  ) {
    assertReplicaId(replicaId);
    this.replicaId = replicaId;
    this.#clock = clock;
    this.#entries = entries;
  }

  static fromJSON<Element extends JsonValue>(replicaId: string, json: unknown): OrSet<Element> {
    const { clock, entries } = readState<Element>(json);
    return new OrSet<Element>(replicaId, clock, entries);
  }

  /** Live elements in canonical order. */
  get values(): Element[] {
    return [...this.#entries.keys()].sort().map((key) => this.#entries.get(key)!.element);
  }

  get size(): number {
    return this.#entries.size;
  }

  has(element: Element): boolean {
    return this.#entries.has(canonicalJson(element));
  }

  /** Adds `element` with a fresh dot; its older dots are superseded (this replica has seen them). */
  add(element: Element): this {
    if (!isJsonValue(element)) throw new RangeError('an OR-Set holds JSON values only');
    this.#clock = this.#clock.increment(this.replicaId);
    const dot = dotKey(this.replicaId, this.#clock.get(this.replicaId));
    this.#entries.set(canonicalJson(element), { element, dots: new Set([dot]) });
    return this;
  }

  /** Removes `element`'s observed adds; returns whether it was present. */
  remove(element: Element): boolean {
    return this.#entries.delete(canonicalJson(element));
  }

  merge(other: OrSet<Element> | OrSetState<Element>): this {
    const incoming =
      other instanceof OrSet ? { clock: other.#clock, entries: other.#entries } : readState<Element>(other);
    const merged = new Map<string, Entry<Element>>();
    const keys = new Set([...this.#entries.keys(), ...incoming.entries.keys()]);
    for (const key of keys) {
      const mine = this.#entries.get(key);
      const theirs = incoming.entries.get(key);
      const dots = new Set<string>();
      for (const dot of mine?.dots ?? [])
        if (theirs?.dots.has(dot) || !covers(incoming.clock, dot)) dots.add(dot);
      for (const dot of theirs?.dots ?? [])
        if (mine?.dots.has(dot) || !covers(this.#clock, dot)) dots.add(dot);
      if (dots.size > 0) merged.set(key, { element: (mine ?? theirs)!.element, dots });
    }
    this.#entries = merged;
    this.#clock = this.#clock.merge(incoming.clock);
    return this;
  }

  toJSON(): OrSetState<Element> {
    const elements = [...this.#entries.keys()].sort().map((key) => {
      const { element, dots } = this.#entries.get(key)!;
      return { element, dots: [...dots].sort().map(parseDot) };
    });
    return { clock: this.#clock.toJSON(), elements };
  }
}

function dotKey(replica: string, counter: number): string {
  return `${counter}@${replica}`;
}

function parseDot(key: string): Dot {
  const separator = key.indexOf('@');
  return [key.slice(separator + 1), Number(key.slice(0, separator))];
}

/** True when `clock` has seen `dot`: its replica's counter reached the dot's. */
function covers(clock: VectorClock, dot: string): boolean {
  const [replica, counter] = parseDot(dot);
  return clock.get(replica) >= counter;
}

function readState<Element extends JsonValue>(
  json: unknown,
): { clock: VectorClock; entries: Map<string, Entry<Element>> } {
  const name = 'OR-Set';
  if (typeof json !== 'object' || json === null)
    throw new CrdtFormatError(name, 'expected { clock, elements }');
  const { clock: clockJson, elements } = json as { clock?: unknown; elements?: unknown };
  let clock: VectorClock;
  try {
    clock = VectorClock.fromJSON(clockJson);
  } catch (error) {
    throw new CrdtFormatError(name, `bad clock (${(error as Error).message})`);
  }
  if (!Array.isArray(elements)) throw new CrdtFormatError(name, '"elements" must be an array');
  const entries = new Map<string, Entry<Element>>();
  for (const item of elements) {
    const { element, dots } = (item ?? {}) as { element?: unknown; dots?: unknown };
    if (!isJsonValue(element) || !Array.isArray(dots) || dots.length === 0) {
      throw new CrdtFormatError(name, 'each element needs a JSON value and at least one dot');
    }
    const dotKeys = new Set(dots.map((dot) => readDot(clock, dot)));
    entries.set(canonicalJson(element), { element: element as Element, dots: dotKeys });
  }
  return { clock, entries };
}

function readDot(clock: VectorClock, dot: unknown): string {
  if (!Array.isArray(dot) || dot.length !== 2)
    throw new CrdtFormatError('OR-Set', 'a dot is [replica, counter]');
  const [replica, counter] = dot as unknown[];
  if (
    typeof replica !== 'string' ||
    replica.length === 0 ||
    !Number.isSafeInteger(counter) ||
    (counter as number) < 1
  ) {
    throw new CrdtFormatError('OR-Set', 'a dot is [non-empty replica id, positive integer]');
  }
  // A state whose clock has not seen one of its own dots would break the merge rule.
  if (clock.get(replica) < (counter as number))
    throw new CrdtFormatError('OR-Set', 'a dot lies beyond the clock');
  return dotKey(replica, counter as number);
}
