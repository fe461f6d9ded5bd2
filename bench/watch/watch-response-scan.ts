// The bench client's reader of WatchResponse messages (etcd's rpc.proto / kv.proto field numbers).
// It takes only what the bench checks — watch id, created/canceled, and per event its type, its
// mod_revision and a view of its value — and skips the rest, so that a client handling a million
// events a second spends its time on the events, not on building objects it never reads.

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LENGTH_DELIMITED = 2;
const WIRE_FIXED32 = 5;
/** A varint longer than this cannot be a 64-bit value. */
const VARINT_BYTES_MAX = 10;

/** Event.EventType on the wire. */
export const EVENT_TYPE = { put: 0, delete: 1 } as const;

export interface ScannedEvent {
  readonly type: number;
  readonly modRevision: number;
  /** A view into the response's bytes: read it before the next chunk arrives or copy it. */
  readonly value: Uint8Array;
}

export interface ScannedWatchResponse {
  readonly watchId: number;
  readonly created: boolean;
  readonly canceled: boolean;
  readonly compactRevision: number;
  readonly cancelReason: string;
  readonly fragment: boolean;
  readonly events: ScannedEvent[];
}

export class WatchScanError extends Error {}

const EMPTY: Uint8Array = new Uint8Array(0);
const utf8 = new TextDecoder();

/** A position in a message's bytes [position, end). */
class Cursor {
  readonly bytes: Uint8Array;
  position: number;
  readonly end: number;

  constructor(bytes: Uint8Array, start: number, end: number) {
    this.bytes = bytes;
    this.position = start;
    this.end = end;
  }

  done(): boolean {
    return this.position >= this.end;
  }

  /** Exact up to 2^53; int64 beyond it (never a revision or a watch id) comes back approximate. */
  varint(): number {
    let value = 0;
    let scale = 1;
    for (let read = 0; read < VARINT_BYTES_MAX; read++) {
      if (this.position >= this.end) throw new WatchScanError('varint runs past the message');
      const byte = this.bytes[this.position++]!;
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) return value;
      scale *= 0x80;
    }
    throw new WatchScanError('varint longer than 10 bytes');
  }

  /** The [start, end) of a length-delimited field's body; the cursor moves past it. */
  delimited(): [number, number] {
    const length = this.varint();
    const start = this.position;
    if (length > this.end - start) throw new WatchScanError('length-delimited field runs past the message');
    this.position = start + length;
    return [start, this.position];
  }

  skip(wireType: number): void {
    if (wireType === WIRE_VARINT) this.varint();
    else if (wireType === WIRE_LENGTH_DELIMITED) this.delimited();
    else if (wireType === WIRE_FIXED64) this.advance(8);
    else if (wireType === WIRE_FIXED32) this.advance(4);
    else throw new WatchScanError(`unexpected wire type ${wireType}`);
  }

  private advance(bytes: number): void {
    if (bytes > this.end - this.position) throw new WatchScanError('fixed field runs past the message');
    this.position += bytes;
  }
}

/** Reads one WatchResponse; throws WatchScanError when the bytes are not one. */
export function scanWatchResponse(bytes: Uint8Array): ScannedWatchResponse {
  const cursor = new Cursor(bytes, 0, bytes.length);
  let watchId = 0;
  let created = false;
  let canceled = false;
  let compactRevision = 0;
  let cancelReason = '';
  let fragment = false;
  const events: ScannedEvent[] = [];
  while (!cursor.done()) {
    const tag = cursor.varint();
    const field = Math.floor(tag / 8);
    const wireType = tag & 7;
    if (field === 2 && wireType === WIRE_VARINT) watchId = cursor.varint();
    else if (field === 3 && wireType === WIRE_VARINT) created = cursor.varint() !== 0;
    else if (field === 4 && wireType === WIRE_VARINT) canceled = cursor.varint() !== 0;
    else if (field === 5 && wireType === WIRE_VARINT) compactRevision = cursor.varint();
    else if (field === 6 && wireType === WIRE_LENGTH_DELIMITED) {
      const [start, end] = cursor.delimited();
      cancelReason = utf8.decode(bytes.subarray(start, end));
    } else if (field === 7 && wireType === WIRE_VARINT) fragment = cursor.varint() !== 0;
    else if (field === 11 && wireType === WIRE_LENGTH_DELIMITED) {
      const [start, end] = cursor.delimited();
      events.push(scanEvent(new Cursor(bytes, start, end)));
    } else cursor.skip(wireType);
  }
  return { watchId, created, canceled, compactRevision, cancelReason, fragment, events };
}

function scanEvent(cursor: Cursor): ScannedEvent {
  let type: number = EVENT_TYPE.put;
  let modRevision = 0;
  let value = EMPTY;
  while (!cursor.done()) {
    const tag = cursor.varint();
    const field = Math.floor(tag / 8);
    const wireType = tag & 7;
    if (field === 1 && wireType === WIRE_VARINT) type = cursor.varint();
    else if (field === 2 && wireType === WIRE_LENGTH_DELIMITED) {
      const [start, end] = cursor.delimited();
      const kv = new Cursor(cursor.bytes, start, end);
      // A KeyValue: mod_revision is field 3, value field 5.
      while (!kv.done()) {
        const kvTag = kv.varint();
        const kvField = Math.floor(kvTag / 8);
        const kvWireType = kvTag & 7;
        if (kvField === 3 && kvWireType === WIRE_VARINT) modRevision = kv.varint();
        else if (kvField === 5 && kvWireType === WIRE_LENGTH_DELIMITED) {
          const [valueStart, valueEnd] = kv.delimited();
          value = kv.bytes.subarray(valueStart, valueEnd);
        } else kv.skip(kvWireType);
      }
    } else cursor.skip(wireType);
  }
  return { type, modRevision, value };
}
