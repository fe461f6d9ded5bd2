// Little-endian binary writer and reader for snapshots and hashKv: unsigned varints for counts
// and revisions (up to 2^53, so arithmetic rather than 32-bit shifts), fixed 8 bytes for lease ids.

/** Bytes a writer starts with; it doubles as needed. */
const WRITER_INITIAL_BYTES = 4096;
const VARINT_BYTES_MAX = 8; // 7 bits a byte covers 2^56 > Number.MAX_SAFE_INTEGER
/** Up to this length, bytes are copied one by one rather than with TypedArray.set. */
const SMALL_COPY_BYTES = 64;

export class ByteWriter {
  private buffer: Uint8Array;
  private view: DataView;
  private length = 0;

  constructor(initialBytes = WRITER_INITIAL_BYTES) {
    this.buffer = new Uint8Array(initialBytes);
    this.view = new DataView(this.buffer.buffer);
  }

  get byteLength(): number {
    return this.length;
  }

  /** Forgets what was written, keeping the buffer (for per-record reuse). */
  clear(): void {
    this.length = 0;
  }

  /** The bytes written so far (a view: valid until the next write). */
  bytes(): Uint8Array {
    return this.buffer.subarray(0, this.length);
  }

  uvarint(value: number): void {
    if (!Number.isSafeInteger(value) || value < 0)
      throw new Error(`uvarint: ${value} is not a safe unsigned integer`);
    this.reserve(VARINT_BYTES_MAX);
    let rest = value;
    while (rest >= 0x80) {
      this.buffer[this.length++] = (rest % 0x80) | 0x80;
      rest = Math.floor(rest / 0x80);
    }
    this.buffer[this.length++] = rest;
  }

  uint8(value: number): void {
    this.reserve(1);
    this.buffer[this.length++] = value;
  }

  uint32(value: number): void {
    this.reserve(4);
    this.view.setUint32(this.length, value, true);
    this.length += 4;
  }

  int64(value: bigint): void {
    this.reserve(8);
    // Most leases are 0: skip the bigint conversion (the buffer may hold old bytes after clear()).
    if (value === 0n) this.buffer.fill(0, this.length, this.length + 8);
    else this.view.setBigInt64(this.length, BigInt.asIntN(64, value), true);
    this.length += 8;
  }

  raw(bytes: Uint8Array): void {
    this.reserve(bytes.length);
    if (bytes.length <= SMALL_COPY_BYTES) {
      // A loop beats TypedArray.set for the short keys and values most records hold.
      for (let i = 0; i < bytes.length; i++) this.buffer[this.length + i] = bytes[i]!;
    } else {
      this.buffer.set(bytes, this.length);
    }
    this.length += bytes.length;
  }

  /** A length-prefixed byte string. */
  lengthPrefixed(bytes: Uint8Array): void {
    this.uvarint(bytes.length);
    this.raw(bytes);
  }

  private reserve(bytes: number): void {
    if (this.length + bytes <= this.buffer.length) return;
    let capacity = this.buffer.length * 2;
    while (capacity < this.length + bytes) capacity *= 2;
    const grown = new Uint8Array(capacity);
    grown.set(this.buffer.subarray(0, this.length));
    this.buffer = grown;
    this.view = new DataView(grown.buffer);
  }
}

/** Thrown by ByteReader when input ends early or holds an impossible value; callers name the context. */
export class TruncatedInputError extends Error {}

export class ByteReader {
  private readonly bytes: Uint8Array;
  private readonly view: DataView;
  private position = 0;

  /** Reads a copy of `bytes` as a plain Uint8Array, so raw() can hand out independent slices. */
  constructor(bytes: Uint8Array) {
    this.bytes = new Uint8Array(bytes);
    this.view = new DataView(this.bytes.buffer);
  }

  get offset(): number {
    return this.position;
  }

  get remaining(): number {
    return this.bytes.length - this.position;
  }

  uvarint(): number {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < VARINT_BYTES_MAX; i++) {
      const byte = this.uint8();
      value += (byte & 0x7f) * scale;
      if ((byte & 0x80) === 0) {
        if (!Number.isSafeInteger(value)) break;
        return value;
      }
      scale *= 0x80;
    }
    throw new TruncatedInputError(`varint at offset ${this.position} is too long`);
  }

  uint8(): number {
    this.need(1);
    return this.bytes[this.position++]!;
  }

  uint32(): number {
    this.need(4);
    const value = this.view.getUint32(this.position, true);
    this.position += 4;
    return value;
  }

  int64(): bigint {
    this.need(8);
    const value = this.view.getBigInt64(this.position, true);
    this.position += 8;
    return value;
  }

  /** A copy, so the result does not keep the whole input alive. */
  raw(length: number): Uint8Array {
    this.need(length);
    const copy = this.bytes.slice(this.position, this.position + length);
    this.position += length;
    return copy;
  }

  lengthPrefixed(): Uint8Array {
    return this.raw(this.uvarint());
  }

  private need(bytes: number): void {
    if (this.position + bytes > this.bytes.length) {
      throw new TruncatedInputError(
        `input ends at offset ${this.bytes.length}, ${bytes} more bytes expected`,
      );
    }
  }
}
