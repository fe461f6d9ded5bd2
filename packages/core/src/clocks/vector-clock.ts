/**
 * Vector clock (Fidge, 1988; Mattern, 1989): one counter per replica, ordered pointwise, so that
 * a ≤ b exactly when every event a has seen, b has seen too. Immutable: every operation returns
 * a new clock. Absent replicas count as zero and are never stored.
 */
import { ClockFormatError } from './errors.js';

export type VectorOrder = 'before' | 'after' | 'concurrent' | 'equal';

/** JSON form: replica id → counter, counters ≥ 1, keys sorted. */
export type VectorClockJson = Readonly<Record<string, number>>;

/** Bounds decoding of untrusted bytes: replica ids longer than this are refused. */
export const replicaIdBytesMax = 1024;

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * @example
 * const a = VectorClock.empty.increment('n1'); // {n1:1}
 * const b = a.increment('n2'); // {n1:1, n2:1}
 * a.compare(b); // 'before'
 * a.increment('n1').compare(b); // 'concurrent'
 * a.increment('n1').merge(b); // {n1:2, n2:1}, the least upper bound
 */
export class VectorClock {
  static readonly empty = new VectorClock(new Map());
  readonly #counters: ReadonlyMap<string, number>;

  private constructor(counters: ReadonlyMap<string, number>) {
    this.#counters = counters;
  }

  /** A clock from replica → counter pairs; zero counters are dropped. */
  static from(entries: Iterable<readonly [string, number]> | VectorClockJson): VectorClock {
    const pairs = Symbol.iterator in entries ? entries : Object.entries(entries);
    const counters = new Map<string, number>();
    for (const [replica, counter] of pairs) {
      assertCounter(counter, replica);
      if (counter > 0) counters.set(replica, counter);
    }
    return new VectorClock(counters);
  }

  get(replica: string): number {
    return this.#counters.get(replica) ?? 0;
  }

  /** Replica ids with a non-zero counter, sorted. */
  get replicas(): string[] {
    return [...this.#counters.keys()].sort();
  }

  /** This clock with `replica`'s counter one higher: the clock of a new event at `replica`. */
  increment(replica: string): VectorClock {
    const counters = new Map(this.#counters);
    const next = this.get(replica) + 1;
    assertCounter(next, replica);
    counters.set(replica, next);
    return new VectorClock(counters);
  }

  /** Pointwise maximum: the least upper bound of the two clocks. */
  merge(other: VectorClock): VectorClock {
    const counters = new Map(this.#counters);
    for (const [replica, counter] of other.#counters) {
      if (counter > (counters.get(replica) ?? 0)) counters.set(replica, counter);
    }
    return new VectorClock(counters);
  }

  /** 'before' when this clock happened before `other`, 'after' for the reverse. */
  compare(other: VectorClock): VectorOrder {
    let someLess = false;
    let someGreater = false;
    for (const [replica, counter] of this.#counters) {
      const theirs = other.get(replica);
      if (counter < theirs) someLess = true;
      else if (counter > theirs) someGreater = true;
    }
    for (const [replica, counter] of other.#counters) {
      if (!this.#counters.has(replica) && counter > 0) someLess = true;
    }
    if (someLess && someGreater) return 'concurrent';
    if (someLess) return 'before';
    if (someGreater) return 'after';
    return 'equal';
  }

  /** True when every counter here is ≤ the one in `other` (before or equal). */
  isDescendedBy(other: VectorClock): boolean {
    const order = this.compare(other);
    return order === 'before' || order === 'equal';
  }

  toJSON(): VectorClockJson {
    return Object.fromEntries(this.replicas.map((replica) => [replica, this.get(replica)]));
  }

  static fromJSON(json: unknown): VectorClock {
    if (typeof json !== 'object' || json === null || Array.isArray(json)) {
      throw new ClockFormatError('vector clock JSON', 'expected an object of replica → counter');
    }
    const entries = Object.entries(json);
    for (const [replica, counter] of entries) {
      if (typeof counter !== 'number' || !Number.isSafeInteger(counter) || counter < 0) {
        throw new ClockFormatError(
          'vector clock JSON',
          `counter of "${replica}" is not a non-negative integer`,
        );
      }
    }
    return VectorClock.from(entries as [string, number][]);
  }

  /** Compact binary form: varint entry count, then per replica (sorted) varint id length, UTF-8 id, varint counter. */
  encode(): Uint8Array {
    const parts: number[] = [];
    const replicas = this.replicas;
    writeVarint(parts, replicas.length);
    for (const replica of replicas) {
      const id = encoder.encode(replica);
      writeVarint(parts, id.length);
      for (const byte of id) parts.push(byte);
      writeVarint(parts, this.get(replica));
    }
    return Uint8Array.from(parts);
  }

  static decode(bytes: Uint8Array): VectorClock {
    const cursor = { offset: 0 };
    const entryCount = readVarint(bytes, cursor);
    const counters = new Map<string, number>();
    for (let entry = 0; entry < entryCount; entry++) {
      const idLength = readVarint(bytes, cursor);
      if (idLength > replicaIdBytesMax || cursor.offset + idLength > bytes.length) {
        throw new ClockFormatError(
          'vector clock',
          `replica id of ${idLength} bytes at offset ${cursor.offset}`,
        );
      }
      const replica = decodeUtf8(bytes.subarray(cursor.offset, cursor.offset + idLength));
      cursor.offset += idLength;
      const counter = readVarint(bytes, cursor);
      if (counter === 0 || counters.has(replica)) {
        throw new ClockFormatError('vector clock', `zero or repeated counter for "${replica}"`);
      }
      counters.set(replica, counter);
    }
    if (cursor.offset !== bytes.length) throw new ClockFormatError('vector clock', 'trailing bytes');
    return new VectorClock(counters);
  }

  /** Readable form for logs: `{a:3, b:1}`. */
  toString(): string {
    return `{${this.replicas.map((replica) => `${replica}:${this.get(replica)}`).join(', ')}}`;
  }
}

function assertCounter(counter: number, replica: string): void {
  if (!Number.isSafeInteger(counter) || counter < 0) {
    throw new RangeError(`counter of "${replica}" must be a non-negative safe integer, got ${counter}`);
  }
}

/** LEB128 without bitwise operators, which would truncate counters above 2³¹. */
function writeVarint(out: number[], value: number): void {
  while (value >= 0x80) {
    out.push((value % 0x80) + 0x80);
    value = Math.floor(value / 0x80);
  }
  out.push(value);
}

/** Seven bits per byte: 8 bytes cover every safe integer (2⁵³ < 2⁵⁶). */
const varintBytesMax = 8;

function readVarint(bytes: Uint8Array, cursor: { offset: number }): number {
  let value = 0;
  let scale = 1;
  for (let index = 0; index < varintBytesMax; index++) {
    const byte = bytes[cursor.offset];
    if (byte === undefined)
      throw new ClockFormatError('vector clock', `truncated at offset ${cursor.offset}`);
    cursor.offset++;
    value += (byte & 0x7f) * scale;
    if (byte < 0x80) {
      if (!Number.isSafeInteger(value)) throw new ClockFormatError('vector clock', 'counter beyond 2^53');
      return value;
    }
    scale *= 0x80;
  }
  throw new ClockFormatError('vector clock', `varint longer than ${varintBytesMax} bytes`);
}

function decodeUtf8(bytes: Uint8Array): string {
  try {
    return decoder.decode(bytes);
  } catch {
    throw new ClockFormatError('vector clock', 'replica id is not valid UTF-8');
  }
}
