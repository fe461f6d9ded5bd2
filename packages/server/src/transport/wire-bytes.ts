// Bounds-checked primitives of the payload codecs: unsigned LEB128 varints (up to 2^53 − 1),
// single bytes, booleans, length-prefixed byte strings and UTF-8 strings. The writer grows by
// doubling (amortised O(n)); the reader throws FrameError at the first byte that is out of place.
import { FrameError, invariant } from './frame-error.js';

/** A varint of a safe integer never needs more than 8 bytes (8 × 7 = 56 bits ≥ 53). */
const VARUINT_BYTES_MAX = 8;
/** Strings up to this many UTF-16 units encode to at most 126 UTF-8 bytes: a 1-byte length prefix. */
const SHORT_STRING_UNITS_MAX = 42;
/** Short ASCII strings decode faster by hand than through TextDecoder's call overhead. */
const ASCII_FAST_PATH_BYTES_MAX = 64;

const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

export class ByteWriter {
  private buffer: Buffer;
  private offset: number;

  /** `headroomBytes` are left unwritten at the front, for a frame header written later. */
  constructor(capacityBytes: number, headroomBytes = 0) {
    invariant(headroomBytes <= capacityBytes, 'headroom larger than the capacity');
    this.buffer = Buffer.allocUnsafe(Math.max(capacityBytes, 64));
    this.offset = headroomBytes;
  }

  get length(): number {
    return this.offset;
  }

  u8(value: number): void {
    this.ensure(1);
    this.buffer[this.offset++] = value;
  }

  bool(value: boolean): void {
    this.u8(value ? 1 : 0);
  }

  varuint(value: number): void {
    invariant(Number.isSafeInteger(value) && value >= 0, `varuint out of range: ${value}`);
    this.ensure(VARUINT_BYTES_MAX);
    const buffer = this.buffer;
    let offset = this.offset;
    while (value > 0x7f) {
      // `& 0x7f` keeps the low bits correct even above 2^32 (ToInt32 works modulo 2^32).
      buffer[offset++] = (value & 0x7f) | 0x80;
      value = value > 0xffffffff ? Math.floor(value / 128) : value >>> 7;
    }
    buffer[offset++] = value;
    this.offset = offset;
  }

  /** Length-prefixed bytes. */
  bytes(value: Uint8Array): void {
    this.varuint(value.byteLength);
    this.ensure(value.byteLength);
    this.buffer.set(value, this.offset);
    this.offset += value.byteLength;
  }

  /** Length-prefixed UTF-8. */
  string(value: string): void {
    if (value.length <= SHORT_STRING_UNITS_MAX) {
      // Reserve the one-byte length, write, then fill it in: no separate byteLength pass.
      this.ensure(1 + value.length * 3);
      const written = this.buffer.write(value, this.offset + 1, 'utf8');
      this.buffer[this.offset] = written;
      this.offset += 1 + written;
      return;
    }
    const byteLength = Buffer.byteLength(value, 'utf8');
    this.varuint(byteLength);
    this.ensure(byteLength);
    this.offset += this.buffer.write(value, this.offset, 'utf8');
  }

  /** The bytes written so far (including the headroom), as a view of the internal buffer. */
  finish(): Buffer {
    return this.buffer.subarray(0, this.offset);
  }

  private ensure(bytes: number): void {
    const needed = this.offset + bytes;
    if (needed <= this.buffer.length) return;
    const grown = Buffer.allocUnsafe(Math.max(needed, this.buffer.length * 2));
    this.buffer.copy(grown, 0, 0, this.offset);
    this.buffer = grown;
  }
}

export class ByteReader {
  private readonly bytes: Uint8Array;
  private offset = 0;

  constructor(bytes: Uint8Array) {
    this.bytes = bytes;
  }

  get remaining(): number {
    return this.bytes.length - this.offset;
  }

  /** Throws the FrameError every decoding failure becomes, naming the byte offset. */
  fail(reason: string): never {
    throw new FrameError('malformed-payload', `${reason} (at payload byte ${this.offset})`);
  }

  u8(): number {
    if (this.offset >= this.bytes.length) this.fail('payload ends early');
    return this.bytes[this.offset++]!;
  }

  bool(): boolean {
    const value = this.u8();
    if (value > 1) this.fail(`boolean byte is ${value}, expected 0 or 1`);
    return value === 1;
  }

  varuint(): number {
    const first = this.u8();
    if (first < 0x80) return first;
    let value = first & 0x7f;
    let scale = 128;
    for (let count = 1; count < VARUINT_BYTES_MAX; count++) {
      const byte = this.u8();
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) {
        if (!Number.isSafeInteger(value)) this.fail('varint exceeds 2^53 − 1');
        return value;
      }
      scale *= 128;
    }
    return this.fail(`varint longer than ${VARUINT_BYTES_MAX} bytes`);
  }

  /** A varint that must not exceed `max` (a count or length about to be trusted). */
  varuintAtMost(max: number, what: string): number {
    const value = this.varuint();
    if (value > max) this.fail(`${what} is ${value}, above the limit ${max}`);
    return value;
  }

  /**
   * Length-prefixed byte strings, `count` of them back to back, copied into one new array they
   * are views of: one allocation per message instead of one per string (entries of one append are
   * kept and dropped together), and the (larger) frame buffer is never pinned. `read` reads
   * whatever precedes each string (it may use this reader); it runs before each string is taken.
   */
  bytesCopies(count: number, what: string, read: () => void): Uint8Array[] {
    const starts: number[] = [];
    const ends: number[] = [];
    const regionStart = this.offset;
    for (let i = 0; i < count; i++) {
      read();
      const length = this.varuintAtMost(this.remaining, `${what} length`);
      const start = this.take(length);
      starts.push(start);
      ends.push(start + length);
    }
    // A plain copy (Buffer#slice would be a view).
    const region = new Uint8Array(this.offset - regionStart);
    region.set(this.bytes.subarray(regionStart, this.offset));
    const copies: Uint8Array[] = [];
    for (let i = 0; i < count; i++)
      copies.push(region.subarray(starts[i]! - regionStart, ends[i]! - regionStart));
    return copies;
  }

  /** Length-prefixed bytes, copied: decoded messages never pin the (larger) frame buffer. */
  bytesCopy(maxBytes: number, what: string): Uint8Array {
    const length = this.varuintAtMost(maxBytes, `${what} length`);
    const start = this.take(length);
    const copy = new Uint8Array(length);
    copy.set(this.bytes.subarray(start, start + length));
    return copy;
  }

  /** Length-prefixed UTF-8; malformed UTF-8 is rejected, never replaced. */
  string(maxBytes: number, what: string): string {
    const length = this.varuintAtMost(maxBytes, `${what} length`);
    const start = this.take(length);
    const bytes = this.bytes;
    if (length <= ASCII_FAST_PATH_BYTES_MAX) {
      let ascii = '';
      let index = start;
      for (; index < start + length; index++) {
        const byte = bytes[index]!;
        if (byte >= 0x80) break;
        ascii += String.fromCharCode(byte);
      }
      if (index === start + length) return ascii;
    }
    try {
      return utf8Decoder.decode(bytes.subarray(start, start + length));
    } catch {
      return this.fail(`${what} is not valid UTF-8`);
    }
  }

  /** Every byte of the payload must be accounted for: trailing bytes mean a framing bug or tampering. */
  expectEnd(): void {
    if (this.offset !== this.bytes.length) this.fail(`${this.remaining} unexpected trailing bytes`);
  }

  private take(length: number): number {
    if (length > this.remaining) this.fail(`needs ${length} bytes, ${this.remaining} left`);
    const start = this.offset;
    this.offset += length;
    return start;
  }
}
