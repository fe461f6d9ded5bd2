// The protobuf wire format (protobuf.dev/programming-guides/encoding): varints, 64-bit varints
// as two 32-bit halves (exposed as bigint, or as number when the value fits), length-delimited
// fields, and skipping of unknown fields of every wire type. The reader never reads outside its
// bounds: malformed input throws ProtoDecodeError, nothing else.
import { slabBytes } from '../../util/slab-bytes.js';

export const WireType = {
  VARINT: 0,
  FIXED64: 1,
  LENGTH_DELIMITED: 2,
  START_GROUP: 3,
  END_GROUP: 4,
  FIXED32: 5,
} as const;

export type WireTypeCode = (typeof WireType)[keyof typeof WireType];

/** Nested messages and groups a reader follows before refusing the input (protobuf C++'s default). */
export const MESSAGE_NESTING_MAX = 100;
/** Field numbers are 29 bits. */
const FIELD_NUMBER_MAX = 2 ** 29 - 1;
/** A varint of more than 10 bytes cannot be a 64-bit value. */
const VARINT_BYTES_MAX = 10;
const TWO_POW_32 = 4_294_967_296;
const EMPTY_BYTES: Uint8Array = new Uint8Array(0);

/** Bytes that are not a valid encoding of the expected message. */
export class ProtoDecodeError extends Error {
  readonly code = 'PROTO_DECODE' as const;
  /** Byte offset in the input where the problem was found. */
  readonly offset: number;

  constructor(message: string, offset: number) {
    super(`${message} (at byte ${offset})`);
    this.name = 'ProtoDecodeError';
    this.offset = offset;
  }
}

/** A well-formed field whose enum value this server does not know. */
export class UnknownEnumValueError extends ProtoDecodeError {
  readonly field: string;
  readonly value: number;

  constructor(field: string, value: number, offset: number) {
    super(`unknown value ${value} for enum field ${field}`, offset);
    this.name = 'UnknownEnumValueError';
    this.field = field;
    this.value = value;
  }
}

/** The tag of a field: `(fieldNumber << 3) | wireType`, as a constant to switch on. */
export function fieldTag(fieldNumber: number, wireType: WireTypeCode): number {
  return ((fieldNumber << 3) | wireType) >>> 0;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Reads one message's fields from `bytes[start, end)`.
 *
 * @example
 * const reader = new ProtoReader(bytes);
 * while (!reader.done()) {
 *   const tag = reader.tag();
 *   if (tag === fieldTag(1, WireType.LENGTH_DELIMITED)) key = reader.bytes();
 *   else reader.skip(tag);
 * }
 */
export class ProtoReader {
  private readonly buffer: Uint8Array;
  private position: number;
  private readonly end: number;
  private readonly depth: number;
  /** Halves of the last 64-bit varint read. */
  private low = 0;
  private high = 0;

  constructor(bytes: Uint8Array, start = 0, end = bytes.length, depth = 0) {
    this.buffer = bytes;
    this.position = start;
    this.end = end;
    this.depth = depth;
  }

  get offset(): number {
    return this.position;
  }

  done(): boolean {
    return this.position >= this.end;
  }

  /** Reads a field tag; refuses field number 0 and wire types 6 and 7. */
  tag(): number {
    const at = this.position;
    const tag = this.uint32();
    const wireType = tag & 7;
    if (tag >>> 3 === 0) throw new ProtoDecodeError('field number 0 is not allowed', at);
    if (wireType > WireType.FIXED32) throw new ProtoDecodeError(`invalid wire type ${wireType}`, at);
    return tag;
  }

  /** A varint that must fit in 32 unsigned bits (tags, lengths). */
  uint32(): number {
    const buffer = this.buffer;
    const position = this.position;
    if (position < this.end && buffer[position]! < 0x80) {
      this.position = position + 1;
      return buffer[position]!;
    }
    const at = position;
    this.varint64();
    if (this.high !== 0) throw new ProtoDecodeError('varint does not fit in 32 bits', at);
    return this.low;
  }

  /** int64 as a number; refuses values outside ±(2^53 − 1). */
  int64(): number {
    const at = this.position;
    this.varint64();
    const value = (this.high | 0) * TWO_POW_32 + this.low;
    if (!Number.isSafeInteger(value)) throw new ProtoDecodeError('int64 value is beyond ±2^53', at);
    return value;
  }

  /** uint64 as a number; refuses values above 2^53 − 1. */
  uint64(): number {
    const at = this.position;
    this.varint64();
    const value = this.high * TWO_POW_32 + this.low;
    if (!Number.isSafeInteger(value)) throw new ProtoDecodeError('uint64 value is beyond 2^53', at);
    return value;
  }

  int64BigInt(): bigint {
    this.varint64();
    return BigInt.asIntN(64, (BigInt(this.high) << 32n) | BigInt(this.low));
  }

  uint64BigInt(): bigint {
    this.varint64();
    if (this.high === 0) return BigInt(this.low);
    return (BigInt(this.high) << 32n) | BigInt(this.low);
  }

  /** An enum value (int32: negative values arrive as 10-byte varints). */
  enumValue(): number {
    this.varint64();
    return this.low | 0;
  }

  /** Any non-zero varint is true, as in protobuf's own parsers. */
  bool(): boolean {
    this.varint64();
    return this.low !== 0 || this.high !== 0;
  }

  /**
   * A length-delimited field's bytes as a plain Uint8Array copy (so a kept key pins neither the
   * request nor, when the input is a Buffer, Node's pooled memory).
   */
  bytes(): Uint8Array {
    const start = this.lengthDelimited();
    if (start === this.position) return EMPTY_BYTES;
    return new Uint8Array(this.buffer.subarray(start, this.position));
  }

  string(): string {
    const start = this.lengthDelimited();
    try {
      return utf8.decode(this.buffer.subarray(start, this.position));
    } catch {
      throw new ProtoDecodeError('string field is not valid UTF-8', start);
    }
  }

  /** A reader over an embedded message; this reader moves past it. */
  message(): ProtoReader {
    if (this.depth >= MESSAGE_NESTING_MAX) {
      throw new ProtoDecodeError(`messages nested deeper than ${MESSAGE_NESTING_MAX}`, this.position);
    }
    const start = this.lengthDelimited();
    return new ProtoReader(this.buffer, start, this.position, this.depth + 1);
  }

  /** Skips the value of a field this message does not know (any wire type, groups included). */
  skip(tag: number): void {
    skipField(this, tag, this.depth);
  }

  skipVarint(): void {
    this.varint64();
  }

  skipBytes(count: number): void {
    this.advance(count);
  }

  skipLengthDelimited(): void {
    this.lengthDelimited();
  }

  /** Reads a length and moves past that many bytes; returns where they start. */
  private lengthDelimited(): number {
    const at = this.position;
    const length = this.uint32();
    const start = this.position;
    if (length > this.end - start) {
      throw new ProtoDecodeError(`length ${length} runs past the end of the message`, at);
    }
    this.position = start + length;
    return start;
  }

  private advance(count: number): void {
    if (count > this.end - this.position)
      throw new ProtoDecodeError('fixed-width value is cut short', this.position);
    this.position += count;
  }

  private byte(): number {
    if (this.position >= this.end) throw new ProtoDecodeError('varint is cut short', this.position);
    return this.buffer[this.position++]!;
  }

  /** Reads a varint of up to 10 bytes into `low` and `high`. */
  private varint64(): void {
    const at = this.position;
    let low = 0;
    let byte = 0;
    for (let shift = 0; shift < 28; shift += 7) {
      byte = this.byte();
      low |= (byte & 0x7f) << shift;
      if (byte < 0x80) {
        this.low = low >>> 0;
        this.high = 0;
        return;
      }
    }
    byte = this.byte();
    low |= (byte & 0x0f) << 28;
    let high = (byte & 0x7f) >> 4;
    if (byte < 0x80) {
      this.low = low >>> 0;
      this.high = high;
      return;
    }
    for (let shift = 3; shift <= 31; shift += 7) {
      byte = this.byte();
      // The 10th byte carries only bit 63.
      if (shift === 31 && byte > 1) throw new ProtoDecodeError('varint overflows 64 bits', at);
      high |= (byte & 0x7f) << shift;
      if (byte < 0x80) {
        this.low = low >>> 0;
        this.high = high >>> 0;
        return;
      }
    }
    throw new ProtoDecodeError(`varint is longer than ${VARINT_BYTES_MAX} bytes`, at);
  }
}

const INITIAL_WRITER_BYTES = 256;
/** Scratch buffers kept for reuse (writers nest, so a few are in use at once), and their largest size. */
const SCRATCH_BUFFERS_KEPT = 16;
const SCRATCH_BUFFER_BYTES_KEPT_MAX = 64 * 1024;
const scratchBuffers: Uint8Array[] = [];
/** A finished writer's buffer: writing after finish() fails loudly (an empty buffer cannot take bytes). */
const FINISHED = new Uint8Array(0);
const utf8Encoder = new TextEncoder();

/**
 * Builds one message. Field writers skip proto3 default values (0, false, empty), as Go's encoder
 * does; `*Always` variants write them anyway (oneof members, where presence is the point).
 *
 * @example
 * const writer = new ProtoWriter();
 * writer.bytesField(1, key);
 * writer.int64Field(3, modRevision);
 * const start = writer.beginMessage(2); writeHeader(writer); writer.endMessage(start);
 * return writer.finish();
 */
export class ProtoWriter {
  // Scratch space borrowed from a small pool: a fresh zero-filled buffer per message was the
  // largest cost of encoding small messages (watch responses go out thousands of times a second).
  private buffer = scratchBuffers.pop() ?? new Uint8Array(INITIAL_WRITER_BYTES);
  private position = 0;
  private finished: Uint8Array | undefined;

  /** The message's bytes (a copy of exactly its size); the writer's scratch space goes back to the pool. */
  finish(): Uint8Array {
    if (this.finished !== undefined) return this.finished;
    const bytes = slabBytes(this.position);
    bytes.set(this.buffer.subarray(0, this.position));
    if (scratchBuffers.length < SCRATCH_BUFFERS_KEPT && this.buffer.length <= SCRATCH_BUFFER_BYTES_KEPT_MAX)
      scratchBuffers.push(this.buffer);
    this.buffer = FINISHED;
    this.finished = bytes;
    return bytes;
  }

  tag(fieldNumber: number, wireType: WireTypeCode): void {
    if (!Number.isInteger(fieldNumber) || fieldNumber < 1 || fieldNumber > FIELD_NUMBER_MAX) {
      throw new RangeError(`invalid field number ${fieldNumber}`);
    }
    this.uint32(fieldTag(fieldNumber, wireType));
  }

  int64Field(fieldNumber: number, value: number): void {
    if (value === 0) return;
    this.tag(fieldNumber, WireType.VARINT);
    this.int64(value);
  }

  /** uint64 given as a number (non-negative safe integer). */
  uint64Field(fieldNumber: number, value: number): void {
    if (value === 0) return;
    if (value < 0) throw new RangeError(`uint64 field ${fieldNumber} cannot hold ${value}`);
    this.tag(fieldNumber, WireType.VARINT);
    this.int64(value);
  }

  int64BigIntField(fieldNumber: number, value: bigint): void {
    if (value === 0n) return;
    this.tag(fieldNumber, WireType.VARINT);
    this.bigint64(value);
  }

  uint64BigIntField(fieldNumber: number, value: bigint): void {
    if (value === 0n) return;
    if (value < 0n) throw new RangeError(`uint64 field ${fieldNumber} cannot hold ${value}`);
    this.tag(fieldNumber, WireType.VARINT);
    this.bigint64(value);
  }

  enumField(fieldNumber: number, value: number): void {
    if (value === 0) return;
    this.tag(fieldNumber, WireType.VARINT);
    this.int64(value);
  }

  boolField(fieldNumber: number, value: boolean): void {
    if (!value) return;
    this.tag(fieldNumber, WireType.VARINT);
    this.ensure(1);
    this.buffer[this.position++] = 1;
  }

  bytesField(fieldNumber: number, value: Uint8Array): void {
    if (value.length === 0) return;
    this.bytesFieldAlways(fieldNumber, value);
  }

  bytesFieldAlways(fieldNumber: number, value: Uint8Array): void {
    this.tag(fieldNumber, WireType.LENGTH_DELIMITED);
    this.uint32(value.length);
    this.ensure(value.length);
    this.buffer.set(value, this.position);
    this.position += value.length;
  }

  int64FieldAlways(fieldNumber: number, value: number): void {
    this.tag(fieldNumber, WireType.VARINT);
    this.int64(value);
  }

  int64BigIntFieldAlways(fieldNumber: number, value: bigint): void {
    this.tag(fieldNumber, WireType.VARINT);
    this.bigint64(value);
  }

  stringField(fieldNumber: number, value: string): void {
    if (value.length === 0) return;
    this.stringFieldAlways(fieldNumber, value);
  }

  /** Repeated strings are written even when empty: each element is present. */
  stringFieldAlways(fieldNumber: number, value: string): void {
    this.tag(fieldNumber, WireType.LENGTH_DELIMITED);
    // Reserve the worst case (3 bytes per UTF-16 unit) after a prefix sized for it, encode, then
    // write the real length, moving the text left if its prefix came out shorter.
    const maxBytes = value.length * 3;
    const reservedPrefixBytes = varint32Size(maxBytes);
    this.ensure(reservedPrefixBytes + maxBytes);
    const textStart = this.position + reservedPrefixBytes;
    const { written } = utf8Encoder.encodeInto(value, this.buffer.subarray(textStart));
    const prefixEnd = putVarint32(this.buffer, this.position, written);
    if (prefixEnd !== textStart) this.buffer.copyWithin(prefixEnd, textStart, textStart + written);
    this.position = prefixEnd + written;
  }

  /** Starts an embedded message field; returns the mark `endMessage` needs. */
  beginMessage(fieldNumber: number): number {
    this.tag(fieldNumber, WireType.LENGTH_DELIMITED);
    // One byte is reserved for the length, enough for messages under 128 bytes; endMessage moves
    // the body when the length needs more.
    this.ensure(1);
    this.position++;
    return this.position;
  }

  endMessage(bodyStart: number): void {
    const length = this.position - bodyStart;
    const prefixBytes = varint32Size(length);
    if (prefixBytes > 1) {
      this.ensure(prefixBytes - 1);
      this.buffer.copyWithin(bodyStart + prefixBytes - 1, bodyStart, this.position);
    }
    putVarint32(this.buffer, bodyStart - 1, length);
    this.position += prefixBytes - 1;
  }

  private uint32(value: number): void {
    this.ensure(5);
    this.position = putVarint32(this.buffer, this.position, value);
  }

  /** A signed safe integer, two's complement in 64 bits (negative values take 10 bytes). */
  private int64(value: number): void {
    if (!Number.isSafeInteger(value))
      throw new RangeError(`${value} is not a safe integer for an int64 field`);
    if (value >= 0 && value < TWO_POW_32) {
      this.uint32(value);
      return;
    }
    const high = Math.floor(value / TWO_POW_32);
    const low = value - high * TWO_POW_32;
    this.varint64(low >>> 0, high >>> 0);
  }

  private bigint64(value: bigint): void {
    const unsigned = BigInt.asUintN(64, value);
    if (unsigned !== value && BigInt.asIntN(64, value) !== value) {
      throw new RangeError(`${value} does not fit in 64 bits`);
    }
    this.varint64(Number(unsigned & 0xffff_ffffn), Number(unsigned >> 32n));
  }

  private varint64(low: number, high: number): void {
    this.ensure(VARINT_BYTES_MAX);
    const buffer = this.buffer;
    let position = this.position;
    while (high > 0 || low > 0x7f) {
      buffer[position++] = (low & 0x7f) | 0x80;
      low = ((low >>> 7) | (high << 25)) >>> 0;
      high >>>= 7;
    }
    buffer[position++] = low;
    this.position = position;
  }

  private ensure(extraBytes: number): void {
    if (this.buffer === FINISHED) throw new Error('ProtoWriter used after finish()');
    const needed = this.position + extraBytes;
    if (needed <= this.buffer.length) return;
    let size = this.buffer.length * 2;
    while (size < needed) size *= 2;
    const grown = new Uint8Array(size);
    grown.set(this.buffer.subarray(0, this.position));
    this.buffer = grown;
  }
}

/** Writes a varint of a uint32 at `at` (the caller made room); returns the position after it. */
function putVarint32(buffer: Uint8Array, at: number, value: number): number {
  let position = at;
  while (value > 0x7f) {
    buffer[position++] = (value & 0x7f) | 0x80;
    value >>>= 7;
  }
  buffer[position++] = value;
  return position;
}

function varint32Size(value: number): number {
  if (value < 0x80) return 1;
  if (value < 0x4000) return 2;
  if (value < 0x20_0000) return 3;
  if (value < 0x1000_0000) return 4;
  return 5;
}

/** An encoder for one message type from its field writer. */
export function encodeWith<T>(
  writeFields: (writer: ProtoWriter, message: T) => void,
): (message: T) => Uint8Array {
  return (message) => {
    const writer = new ProtoWriter();
    writeFields(writer, message);
    return writer.finish();
  };
}

/** A decoder for one message type from its field reader. */
export function decodeWith<T>(read: (reader: ProtoReader) => T): (bytes: Uint8Array) => T {
  return (bytes) => read(new ProtoReader(bytes));
}

/** What skipping a field takes from a reader: this file's ProtoReader and the gateway's WireReader. */
export interface FieldSkipper {
  /** Where the next read starts (error messages name it). */
  readonly offset: number;
  done(): boolean;
  tag(): number;
  skipVarint(): void;
  skipBytes(count: number): void;
  skipLengthDelimited(): void;
}

/** Skips one field's value, whatever its wire type; groups nest at most MESSAGE_NESTING_MAX deep. */
export function skipField(reader: FieldSkipper, tag: number, depth: number): void {
  const at = reader.offset;
  switch (tag & 7) {
    case WireType.VARINT:
      reader.skipVarint();
      return;
    case WireType.FIXED64:
      reader.skipBytes(8);
      return;
    case WireType.LENGTH_DELIMITED:
      reader.skipLengthDelimited();
      return;
    case WireType.START_GROUP:
      skipGroup(reader, tag >>> 3, depth + 1);
      return;
    case WireType.FIXED32:
      reader.skipBytes(4);
      return;
    default:
      throw new ProtoDecodeError(`unexpected end-group tag for field ${tag >>> 3}`, at);
  }
}

function skipGroup(reader: FieldSkipper, fieldNumber: number, depth: number): void {
  if (depth > MESSAGE_NESTING_MAX) {
    throw new ProtoDecodeError(`groups nested deeper than ${MESSAGE_NESTING_MAX}`, reader.offset);
  }
  for (;;) {
    if (reader.done()) throw new ProtoDecodeError(`group ${fieldNumber} is not closed`, reader.offset);
    const at = reader.offset;
    const tag = reader.tag();
    if ((tag & 7) === WireType.END_GROUP) {
      if (tag >>> 3 !== fieldNumber) {
        throw new ProtoDecodeError(`group ${fieldNumber} closed by end-group ${tag >>> 3}`, at);
      }
      return;
    }
    skipField(reader, tag, depth);
  }
}
