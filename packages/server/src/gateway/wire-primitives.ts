// The protobuf wire format at the level the schema-driven transcoder needs: every scalar encoding
// (varints as bigint so 64-bit values stay exact, zigzag left to the caller, fixed32/64, float,
// double), length-delimited ranges, and skipping of unknown fields. ../etcd-api/proto/wire.ts is
// built for hand-written codecs and writes neither fixed-width values nor raw packed varints,
// hence these. Malformed input throws the repo's ProtoDecodeError.
import { ProtoDecodeError, skipField, WireType, type WireTypeCode } from '../etcd-api/proto/wire.js';

const FIELD_NUMBER_MAX = 2 ** 29 - 1;
const VARINT_BYTES_MAX = 10;
const UINT64_MAX = 2n ** 64n - 1n;

/** Reads fields from `bytes[start, end)`; sub-ranges share the buffer, so offsets are absolute. */
export class WireReader {
  private readonly buffer: Uint8Array;
  private readonly view: DataView;
  private position: number;
  private readonly end: number;

  constructor(bytes: Uint8Array, start = 0, end = bytes.length) {
    this.buffer = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.position = start;
    this.end = end;
  }

  get offset(): number {
    return this.position;
  }

  done(): boolean {
    return this.position >= this.end;
  }

  /** A reader over `[start, end)` of the same buffer (a length-delimited field's contents). */
  slice(start: number, end: number): WireReader {
    return new WireReader(this.buffer, start, end);
  }

  /** A field tag, `(fieldNumber << 3) | wireType`; refuses field number 0 and wire types 6 and 7. */
  tag(): number {
    const at = this.position;
    const tag = this.varint();
    const fieldNumber = tag >> 3n;
    const wireType = Number(tag & 7n);
    if (fieldNumber === 0n || fieldNumber > BigInt(FIELD_NUMBER_MAX)) {
      throw new ProtoDecodeError(`invalid field number ${fieldNumber}`, at);
    }
    if (wireType > WireType.FIXED32) throw new ProtoDecodeError(`invalid wire type ${wireType}`, at);
    return Number(tag);
  }

  /** A varint of up to 10 bytes, as the unsigned 64-bit value it encodes. */
  varint(): bigint {
    const at = this.position;
    const first = this.byte();
    if (first < 0x80) return BigInt(first);
    let value = BigInt(first & 0x7f);
    for (let count = 1; count < VARINT_BYTES_MAX; count++) {
      const byte = this.byte();
      // The 10th byte holds only bit 63.
      if (count === VARINT_BYTES_MAX - 1 && byte > 1)
        throw new ProtoDecodeError('varint overflows 64 bits', at);
      value |= BigInt(byte & 0x7f) << BigInt(7 * count);
      if (byte < 0x80) return value;
    }
    throw new ProtoDecodeError(`varint is longer than ${VARINT_BYTES_MAX} bytes`, at);
  }

  fixed32(): number {
    const at = this.advance(4);
    return this.view.getUint32(at, true);
  }

  fixed64(): bigint {
    const at = this.advance(8);
    return this.view.getBigUint64(at, true);
  }

  float32(): number {
    const at = this.advance(4);
    return this.view.getFloat32(at, true);
  }

  float64(): number {
    const at = this.advance(8);
    return this.view.getFloat64(at, true);
  }

  /** Moves past a length-delimited value; returns where its contents lie. */
  lengthDelimited(): { readonly start: number; readonly end: number } {
    const at = this.position;
    const length = this.varint();
    if (length > BigInt(this.end - this.position)) {
      throw new ProtoDecodeError(`length ${length} runs past the end of the message`, at);
    }
    const start = this.position;
    this.position = start + Number(length);
    return { start, end: this.position };
  }

  /** A copy of `[start, end)`, so returned bytes do not pin the input. */
  copy(start: number, end: number): Uint8Array {
    return this.buffer.slice(start, end);
  }

  /** Skips the value of a field the schema does not know, groups included. */
  skip(tag: number, depth = 0): void {
    skipField(this, tag, depth);
  }

  skipVarint(): void {
    this.varint();
  }

  skipBytes(count: number): void {
    this.advance(count);
  }

  skipLengthDelimited(): void {
    this.lengthDelimited();
  }

  /** Moves past `count` bytes; returns where they start. */
  private advance(count: number): number {
    if (count > this.end - this.position) {
      throw new ProtoDecodeError('fixed-width value is cut short', this.position);
    }
    const at = this.position;
    this.position += count;
    return at;
  }

  private byte(): number {
    if (this.position >= this.end) throw new ProtoDecodeError('varint is cut short', this.position);
    return this.buffer[this.position++]!;
  }
}

const INITIAL_WRITER_BYTES = 64;

/** Builds one message's bytes; nested messages are built by their own writer and added with `bytes`. */
export class WireWriter {
  private buffer = new Uint8Array(INITIAL_WRITER_BYTES);
  private view = new DataView(this.buffer.buffer);
  private length = 0;

  get byteLength(): number {
    return this.length;
  }

  tag(fieldNumber: number, wireType: WireTypeCode): void {
    this.varint32(fieldNumber * 8 + wireType);
  }

  /** A varint of a non-negative integer below 2^32 (tags, lengths, small values). */
  varint32(value: number): void {
    this.ensure(5);
    while (value > 0x7f) {
      this.buffer[this.length++] = (value & 0x7f) | 0x80;
      value = Math.floor(value / 128);
    }
    this.buffer[this.length++] = value;
  }

  /** A varint of a 64-bit pattern; negative numbers must be mapped to unsigned by the caller. */
  varint64(value: bigint): void {
    if (value < 0n || value > UINT64_MAX) throw new RangeError(`${value} is not an unsigned 64-bit value`);
    if (value <= 0xffff_ffffn) {
      this.varint32(Number(value));
      return;
    }
    this.ensure(VARINT_BYTES_MAX);
    while (value > 0x7fn) {
      this.buffer[this.length++] = Number(value & 0x7fn) | 0x80;
      value >>= 7n;
    }
    this.buffer[this.length++] = Number(value);
  }

  fixed32(value: number): void {
    this.ensure(4);
    this.view.setUint32(this.length, value >>> 0, true);
    this.length += 4;
  }

  fixed64(value: bigint): void {
    this.ensure(8);
    this.view.setBigUint64(this.length, BigInt.asUintN(64, value), true);
    this.length += 8;
  }

  float32(value: number): void {
    this.ensure(4);
    this.view.setFloat32(this.length, value, true);
    this.length += 4;
  }

  float64(value: number): void {
    this.ensure(8);
    this.view.setFloat64(this.length, value, true);
    this.length += 8;
  }

  /** A length prefix and the bytes (string, bytes, nested message or packed values). */
  lengthDelimited(bytes: Uint8Array): void {
    this.varint32(bytes.length);
    this.ensure(bytes.length);
    this.buffer.set(bytes, this.length);
    this.length += bytes.length;
  }

  finish(): Uint8Array {
    return this.buffer.slice(0, this.length);
  }

  private ensure(extraBytes: number): void {
    const needed = this.length + extraBytes;
    if (needed <= this.buffer.length) return;
    let size = this.buffer.length * 2;
    while (size < needed) size *= 2;
    const grown = new Uint8Array(size);
    grown.set(this.buffer.subarray(0, this.length));
    this.buffer = grown;
    this.view = new DataView(grown.buffer);
  }
}
