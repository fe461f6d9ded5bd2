// The compact binary form shared by WAL records and snapshot files: unsigned LEB128 varints for
// indexes, terms and lengths (most are small, and all stay below 2^53), length-prefixed bytes and
// UTF-8 strings, and little-endian fixed-width fields for checksums.

/** Bytes of a varint holding any safe integer (7 bits each: 8 × 7 = 56 ≥ 53). */
const VARINT_BYTES_MAX = 8;
const WRITER_INITIAL_BYTES = 256;

/** Bytes the writer could not decode: a bug or damaged data the caller reports with its location. */
export class DecodeError extends Error {
  override readonly name = 'DecodeError';
}

/** Grows as it goes; `finish()` returns the bytes written (a view, not a copy). */
export class ByteWriter {
  private buffer: Buffer;
  private length = 0;

  constructor(initialBytes = WRITER_INITIAL_BYTES) {
    this.buffer = Buffer.allocUnsafe(initialBytes);
  }

  get byteLength(): number {
    return this.length;
  }

  u8(value: number): void {
    this.reserve(1);
    this.buffer[this.length++] = value;
  }

  u32(value: number): void {
    this.reserve(4);
    this.buffer.writeUInt32LE(value >>> 0, this.length);
    this.length += 4;
  }

  /** Writes a non-negative safe integer as an unsigned LEB128 varint. */
  uvarint(value: number): void {
    if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`uvarint of ${value}`);
    this.reserve(VARINT_BYTES_MAX);
    let rest = value;
    // Division, not shifts: shifts truncate to 32 bits and indexes may exceed that.
    while (rest >= 0x80) {
      this.buffer[this.length++] = (rest % 0x80) | 0x80;
      rest = Math.floor(rest / 0x80);
    }
    this.buffer[this.length++] = rest;
  }

  bytes(value: Uint8Array): void {
    this.uvarint(value.byteLength);
    this.raw(value);
  }

  string(value: string): void {
    this.bytes(Buffer.from(value, 'utf8'));
  }

  raw(value: Uint8Array): void {
    this.reserve(value.byteLength);
    this.buffer.set(value, this.length);
    this.length += value.byteLength;
  }

  /** Overwrites a u32 written earlier (a length or checksum known only at the end). */
  patchU32(offset: number, value: number): void {
    if (offset < 0 || offset + 4 > this.length) throw new RangeError(`patch at ${offset} outside the output`);
    this.buffer.writeUInt32LE(value >>> 0, offset);
  }

  finish(): Buffer {
    return this.buffer.subarray(0, this.length);
  }

  private reserve(bytes: number): void {
    if (this.length + bytes <= this.buffer.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.length + bytes));
    this.buffer.copy(grown, 0, 0, this.length);
    this.buffer = grown;
  }
}

/** Reads what ByteWriter wrote; every read is bounds-checked and throws DecodeError past the end. */
export class ByteReader {
  private readonly bytesIn: Uint8Array;
  private position: number;
  private readonly end: number;

  constructor(bytes: Uint8Array, start = 0, end = bytes.length) {
    this.bytesIn = bytes;
    this.position = start;
    this.end = end;
  }

  get remaining(): number {
    return this.end - this.position;
  }

  u8(): number {
    this.need(1);
    return this.bytesIn[this.position++]!;
  }

  u32(): number {
    this.need(4);
    const at = this.position;
    const b = this.bytesIn;
    this.position += 4;
    return (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)) >>> 0;
  }

  uvarint(): number {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < VARINT_BYTES_MAX; i++) {
      const byte = this.u8();
      value += (byte & 0x7f) * scale;
      if ((byte & 0x80) === 0) {
        if (!Number.isSafeInteger(value)) throw new DecodeError(`varint ${value} exceeds 2^53`);
        return value;
      }
      scale *= 0x80;
    }
    throw new DecodeError(`varint longer than ${VARINT_BYTES_MAX} bytes`);
  }

  /** A length-prefixed byte string, copied so it outlives the buffer it was read from. */
  bytes(): Uint8Array {
    const length = this.uvarint();
    this.need(length);
    // A plain Uint8Array copy: a Buffer view would pin the whole segment or file in memory.
    const value = new Uint8Array(length);
    value.set(this.bytesIn.subarray(this.position, this.position + length));
    this.position += length;
    return value;
  }

  string(): string {
    const length = this.uvarint();
    this.need(length);
    const value = Buffer.from(this.bytesIn.buffer, this.bytesIn.byteOffset + this.position, length).toString(
      'utf8',
    );
    this.position += length;
    return value;
  }

  /** Asserts the whole input was consumed: trailing bytes mean a format mismatch. */
  expectEnd(what: string): void {
    if (this.position !== this.end)
      throw new DecodeError(`${this.end - this.position} trailing bytes in ${what}`);
  }

  private need(bytes: number): void {
    if (bytes > this.end - this.position)
      throw new DecodeError(
        `needs ${bytes} bytes at offset ${this.position}, ${this.end - this.position} left`,
      );
  }
}
