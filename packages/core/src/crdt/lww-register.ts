/**
 * Last-writer-wins register: the write with the highest timestamp wins everywhere; equal
 * timestamps are broken by replica id (higher wins), then by the value's canonical JSON, so
 * every replica picks the same winner whatever order states arrive in.
 */

import { wallClock } from '../clocks/hlc.js';
import type { Clock } from '../time.js';
import { assertReplicaId, CrdtFormatError, canonicalJson, isJsonValue, type JsonValue } from './json.js';

export interface LwwWrite<Value extends JsonValue> {
  readonly value: Value;
  readonly timestamp: number;
  readonly replicaId: string;
}

export interface LwwRegisterState<Value extends JsonValue> {
  /** The winning write, or null before any write. */
  readonly write: LwwWrite<Value> | null;
}

export interface LwwRegisterOptions {
  /**
   * Timestamps for writes without an explicit one. Must mean the same on every replica:
   * default `wallClock` (epoch ms). A hybrid logical clock's wallMs works too.
   */
  readonly clock?: Clock;
}

/**
 * @example
 * const a = new LwwRegister<string>('a');
 * const b = new LwwRegister<string>('b');
 * a.set('blue', 100);
 * b.set('green', 200);
 * a.merge(b).value; // 'green'
 */
export class LwwRegister<Value extends JsonValue> {
  readonly replicaId: string;
  readonly #clock: Clock;
  #write: LwwWrite<Value> | null;

  constructor(replicaId: string, options: LwwRegisterOptions = {}, write: LwwWrite<Value> | null = null) {
    assertReplicaId(replicaId);
    this.replicaId = replicaId;
    this.#clock = options.clock ?? wallClock;
    this.#write = write;
  }

  static fromJSON<Value extends JsonValue>(
    replicaId: string,
    json: unknown,
    options: LwwRegisterOptions = {},
  ): LwwRegister<Value> {
    return new LwwRegister<Value>(replicaId, options, readWrite<Value>(json));
  }

  get value(): Value | undefined {
    return this.#write?.value;
  }

  /** Timestamp of the current value, or undefined before any write. */
  get timestamp(): number | undefined {
    return this.#write?.timestamp;
  }

  /**
   * Writes `value` at `timestamp` (default: the clock, nudged past the current write so that a
   * replica's own later write always wins locally).
   */
  set(value: Value, timestamp?: number): this {
    if (!isJsonValue(value)) throw new RangeError('an LWW-Register holds JSON values only');
    const at =
      timestamp ?? Math.max(this.#clock.now(), (this.#write?.timestamp ?? Number.NEGATIVE_INFINITY) + 1);
    if (!Number.isFinite(at)) throw new RangeError(`timestamp must be finite, got ${at}`);
    this.#adopt({ value, timestamp: at, replicaId: this.replicaId });
    return this;
  }

  merge(other: LwwRegister<Value> | LwwRegisterState<Value>): this {
    const write = other instanceof LwwRegister ? other.#write : readWrite<Value>(other);
    if (write !== null) this.#adopt(write);
    return this;
  }

  toJSON(): LwwRegisterState<Value> {
    return { write: this.#write };
  }

  #adopt(candidate: LwwWrite<Value>): void {
    if (this.#write === null || compareWrites(candidate, this.#write) > 0) this.#write = candidate;
  }
}

function compareWrites<Value extends JsonValue>(left: LwwWrite<Value>, right: LwwWrite<Value>): number {
  if (left.timestamp !== right.timestamp) return left.timestamp < right.timestamp ? -1 : 1;
  if (left.replicaId !== right.replicaId) return left.replicaId < right.replicaId ? -1 : 1;
  const leftText = canonicalJson(left.value);
  const rightText = canonicalJson(right.value);
  return leftText < rightText ? -1 : leftText > rightText ? 1 : 0;
}

function readWrite<Value extends JsonValue>(json: unknown): LwwWrite<Value> | null {
  if (typeof json !== 'object' || json === null || !('write' in json)) {
    throw new CrdtFormatError('LWW-Register', 'expected { write }');
  }
  const write = json.write;
  if (write === null) return null;
  if (typeof write !== 'object')
    throw new CrdtFormatError('LWW-Register', '"write" must be an object or null');
  const { value, timestamp, replicaId } = write as {
    value?: unknown;
    timestamp?: unknown;
    replicaId?: unknown;
  };
  if (!isJsonValue(value) || typeof timestamp !== 'number' || !Number.isFinite(timestamp)) {
    throw new CrdtFormatError('LWW-Register', 'a write needs a JSON value and a finite timestamp');
  }
  if (typeof replicaId !== 'string' || replicaId.length === 0) {
    throw new CrdtFormatError('LWW-Register', 'a write needs a replica id');
  }
  return { value: value as Value, timestamp, replicaId };
}
