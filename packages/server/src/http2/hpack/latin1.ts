// Header strings are handled as latin1: one char per byte, so any byte sequence decodes losslessly and a
// string's length is its size in bytes. Buffer's latin1Slice/latin1Write skip the encoding dispatch and
// argument checks of toString/write. They are undocumented (and missing from @types/node), so where a
// Node.js lacks them the documented toString/write with 'latin1' stand in.

/** A Buffer with its latin1 fast paths typed. */
export interface Latin1Buffer extends Buffer {
  /** The bytes [start, end) as a one-byte string. The caller keeps start <= end <= length. */
  latin1Slice(start: number, end: number): string;
  /** Writes the low byte of each char of `text` at `offset`, at most `length` bytes; returns the count. */
  latin1Write(text: string, offset: number, length: number): number;
}

const prototype = Buffer.prototype as Partial<Latin1Buffer> & Buffer;
if (typeof prototype.latin1Slice !== 'function') {
  Object.defineProperty(prototype, 'latin1Slice', {
    value(this: Buffer, start: number, end: number): string {
      return this.toString('latin1', start, end);
    },
  });
}
if (typeof prototype.latin1Write !== 'function') {
  Object.defineProperty(prototype, 'latin1Write', {
    value(this: Buffer, text: string, offset: number, length: number): number {
      return this.write(text, offset, length, 'latin1');
    },
  });
}

/** `bytes` as a Buffer (the same memory, no copy) with the latin1 fast paths typed. */
export function asLatin1Buffer(bytes: Uint8Array): Latin1Buffer {
  return (
    Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  ) as Latin1Buffer;
}

/** A fresh uninitialised Buffer of `size` bytes with the latin1 fast paths typed. */
export function allocLatin1Buffer(size: number): Latin1Buffer {
  return Buffer.allocUnsafe(size) as Latin1Buffer;
}

const fromCharCode = String.fromCharCode;

/**
 * The bytes b[s, end) as a one-byte string. Up to 8 bytes, String.fromCharCode with the bytes as arguments
 * is three to four times faster than latin1Slice, whose cost is mostly the call into native code; many
 * header values are that short (schemes, methods, timeouts, status codes).
 */
export function latin1String(b: Latin1Buffer, s: number, end: number): string {
  switch (end - s) {
    case 0:
      return '';
    case 1:
      return fromCharCode(b[s]!);
    case 2:
      return fromCharCode(b[s]!, b[s + 1]!);
    case 3:
      return fromCharCode(b[s]!, b[s + 1]!, b[s + 2]!);
    case 4:
      return fromCharCode(b[s]!, b[s + 1]!, b[s + 2]!, b[s + 3]!);
    case 5:
      return fromCharCode(b[s]!, b[s + 1]!, b[s + 2]!, b[s + 3]!, b[s + 4]!);
    case 6:
      return fromCharCode(b[s]!, b[s + 1]!, b[s + 2]!, b[s + 3]!, b[s + 4]!, b[s + 5]!);
    case 7:
      return fromCharCode(b[s]!, b[s + 1]!, b[s + 2]!, b[s + 3]!, b[s + 4]!, b[s + 5]!, b[s + 6]!);
    case 8:
      return fromCharCode(b[s]!, b[s + 1]!, b[s + 2]!, b[s + 3]!, b[s + 4]!, b[s + 5]!, b[s + 6]!, b[s + 7]!);
    default:
      return b.latin1Slice(s, end);
  }
}
