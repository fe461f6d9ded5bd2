// HPACK (RFC 7541) for the server side of HTTP/2: a decoder for request header blocks, with the dynamic
// table the peer's encoder drives, and an encoder for response headers and trailers that uses only the
// static table. Header lists are flat string arrays [name0, value0, name1, value1, …] so that decoding
// allocates the strings and one array per block, nothing per field.
import { HeaderListTooLargeError, HpackError } from './errors.js';
import { huffmanDecode } from './huffman.js';
import { asLatin1Buffer, type Latin1Buffer, latin1String } from './latin1.js';
import { STATIC_NAMES, STATIC_TABLE_LENGTH, STATIC_VALUES, staticNameEntry } from './static-table.js';

export { HeaderListTooLargeError, HpackError } from './errors.js';

/** SETTINGS_HEADER_TABLE_SIZE's initial value (RFC 7540 §6.5.2). */
export const DEFAULT_HEADER_TABLE_BYTES = 4096;
/** Added to name + value length per table entry (RFC 7541 §4.1) and per listed field (RFC 7540 §6.5.2). */
const ENTRY_OVERHEAD_BYTES = 32;
/** Integers above this are refused: no length, index or table size of ours comes near it. */
const MAX_INTEGER = 0x7fff_ffff;
/** 2^31 - 1 needs 5 continuation bytes after a full prefix; more can only be padding or an attack. */
const MAX_CONTINUATION_BYTES = 5;
const INITIAL_TABLE_SLOTS = 16;

export interface HpackDecoderOptions {
  /** SETTINGS_HEADER_TABLE_SIZE we advertise (default 4096): the most a dynamic table size update may set. */
  readonly maxTableBytes?: number;
  /** Largest decoded header list, counted as RFC 7540 §6.5.2 does (name + value + 32 per field). */
  readonly maxHeaderListBytes: number;
}

/**
 * Decodes the header blocks of one connection, in the order they arrive (the dynamic table is shared
 * state). After an HpackError other than HeaderListTooLargeError the table is out of step with the peer's
 * and the decoder must not be used again.
 *
 * @example
 * const decoder = new HpackDecoder({ maxHeaderListBytes: 16 << 10 });
 * const fields = decoder.decode(headerBlock); // [':method', 'POST', ':path', '/pkg.Service/Method', …]
 */
export class HpackDecoder {
  private readonly maxTableBytes: number;
  private readonly maxHeaderListBytes: number;
  /** The table's current size limit: maxTableBytes until the peer's encoder sets it lower. */
  private tableLimitBytes: number;
  // The dynamic table as a ring of parallel arrays: slot (head - 1) holds the newest entry (HPACK index 62),
  // slot (head - length) the oldest. Capacity is a power of two so wrapping is a mask.
  private names: string[] = new Array<string>(INITIAL_TABLE_SLOTS).fill('');
  private values: string[] = new Array<string>(INITIAL_TABLE_SLOTS).fill('');
  private slotMask = INITIAL_TABLE_SLOTS - 1;
  private head = 0;
  private length = 0;
  private bytes = 0;
  /** Read position in the block being decoded. */
  private cursor = 0;

  constructor(options: HpackDecoderOptions) {
    const maxTableBytes = options.maxTableBytes ?? DEFAULT_HEADER_TABLE_BYTES;
    if (!Number.isSafeInteger(maxTableBytes) || maxTableBytes < 0 || maxTableBytes > MAX_INTEGER) {
      throw new RangeError(`maxTableBytes must be an integer in [0, ${MAX_INTEGER}], got ${maxTableBytes}`);
    }
    if (!(options.maxHeaderListBytes >= 0)) {
      throw new RangeError(`maxHeaderListBytes must be >= 0, got ${options.maxHeaderListBytes}`);
    }
    this.maxTableBytes = maxTableBytes;
    this.tableLimitBytes = maxTableBytes;
    this.maxHeaderListBytes = options.maxHeaderListBytes;
  }

  /** Size of the dynamic table, counted as RFC 7541 §4.1 does. */
  get tableBytes(): number {
    return this.bytes;
  }

  /** Number of entries in the dynamic table. */
  get tableLength(): number {
    return this.length;
  }

  /** The dynamic table's current size limit, as last set by the peer (at most maxTableBytes). */
  get tableLimit(): number {
    return this.tableLimitBytes;
  }

  /** The dynamic table as [name, value, …], newest (HPACK index 62) first. For tests and diagnostics. */
  tableFields(): string[] {
    const fields: string[] = [];
    for (let age = 0; age < this.length; age++) {
      const slot = (this.head - 1 - age) & this.slotMask;
      fields.push(this.names[slot]!, this.values[slot]!);
    }
    return fields;
  }

  /**
   * Decodes one complete header block (HEADERS plus any CONTINUATION payloads, joined) into
   * [name0, value0, name1, value1, …], in order.
   * @throws HeaderListTooLargeError after decoding the whole block, when its list exceeds maxHeaderListBytes.
   * @throws HpackError when the block is malformed.
   */
  decode(block: Uint8Array): string[] {
    const bytes = asLatin1Buffer(block);
    const end = bytes.length;
    const maxListBytes = this.maxHeaderListBytes;
    const fields: string[] = [];
    let listBytes = 0;
    let sawField = false;
    this.cursor = 0;
    while (this.cursor < end) {
      const first = bytes[this.cursor]!;
      let name: string;
      let value: string;
      if (first >= 0x80) {
        // 1xxxxxxx: indexed field.
        const index = this.readInteger(bytes, 0x7f);
        if (index <= STATIC_TABLE_LENGTH) {
          if (index === 0) throw new HpackError('indexed field with index 0');
          name = STATIC_NAMES[index]!;
          value = STATIC_VALUES[index]!;
        } else {
          const slot = this.dynamicSlot(index);
          name = this.names[slot]!;
          value = this.values[slot]!;
        }
      } else if (first >= 0x40) {
        // 01xxxxxx: literal field with incremental indexing.
        name = this.readName(bytes, 0x3f);
        value = this.readString(bytes);
        this.insert(name, value);
      } else if (first >= 0x20) {
        // 001xxxxx: dynamic table size update, allowed only before the first field.
        if (sawField) throw new HpackError('dynamic table size update after a header field');
        const limit = this.readInteger(bytes, 0x1f);
        if (limit > this.maxTableBytes) {
          throw new HpackError(
            `dynamic table size update to ${limit} exceeds the advertised ${this.maxTableBytes}`,
          );
        }
        this.tableLimitBytes = limit;
        this.evictDownTo(limit);
        continue;
      } else {
        // 0001xxxx never indexed / 0000xxxx without indexing: both leave the table alone.
        name = this.readName(bytes, 0x0f);
        value = this.readString(bytes);
      }
      sawField = true;
      listBytes += name.length + value.length + ENTRY_OVERHEAD_BYTES;
      // Past the limit the block is still decoded to keep the table in step, but nothing more is kept.
      if (listBytes <= maxListBytes) fields.push(name, value);
    }
    if (listBytes > maxListBytes) throw new HeaderListTooLargeError(listBytes, maxListBytes);
    return fields;
  }

  /** Reads an integer whose prefix is the low bits of the current byte (`prefixMax` = 2^N - 1). */
  private readInteger(bytes: Uint8Array, prefixMax: number): number {
    let position = this.cursor;
    if (position >= bytes.length) throw new HpackError('header block ends inside a field');
    let value = bytes[position++]! & prefixMax;
    if (value === prefixMax) {
      let scale = 1;
      let byte: number;
      let continuationBytes = 0;
      do {
        if (position >= bytes.length) throw new HpackError('header block ends inside an integer');
        if (continuationBytes === MAX_CONTINUATION_BYTES) throw new HpackError('integer has too many bytes');
        byte = bytes[position++]!;
        continuationBytes++;
        // Arithmetic rather than shifts: 5 × 7 bits overflow int32 before the range check can see it.
        value += (byte & 0x7f) * scale;
        scale *= 128;
      } while (byte >= 0x80);
      if (value > MAX_INTEGER) throw new HpackError('integer exceeds 2^31 - 1');
    }
    this.cursor = position;
    return value;
  }

  /** Reads a string literal: a Huffman flag and 7-bit-prefix length, then that many bytes. */
  private readString(bytes: Latin1Buffer): string {
    const position = this.cursor;
    if (position >= bytes.length) throw new HpackError('header block ends before a string');
    const huffman = bytes[position]! >= 0x80;
    const length = this.readInteger(bytes, 0x7f);
    const start = this.cursor;
    const end = start + length;
    if (end > bytes.length) throw new HpackError('string runs past the end of the header block');
    this.cursor = end;
    return huffman ? huffmanDecode(bytes, start, end) : latin1String(bytes, start, end);
  }

  /** Reads a literal field's name: an index into either table, or 0 then a string literal. */
  private readName(bytes: Latin1Buffer, prefixMax: number): string {
    const index = this.readInteger(bytes, prefixMax);
    if (index === 0) return this.readString(bytes);
    if (index <= STATIC_TABLE_LENGTH) return STATIC_NAMES[index]!;
    return this.names[this.dynamicSlot(index)]!;
  }

  /** The ring slot of HPACK index `index` (> 61). */
  private dynamicSlot(index: number): number {
    const age = index - STATIC_TABLE_LENGTH - 1;
    if (age >= this.length) throw new HpackError(`index ${index} is beyond the dynamic table`);
    return (this.head - 1 - age) & this.slotMask;
  }

  /** Adds an entry as the newest, evicting the oldest ones to make room (RFC 7541 §4.4). */
  private insert(name: string, value: string): void {
    const size = name.length + value.length + ENTRY_OVERHEAD_BYTES;
    if (size > this.tableLimitBytes) {
      // An entry larger than the whole table empties it and is not added.
      this.evictDownTo(0);
      return;
    }
    this.evictDownTo(this.tableLimitBytes - size);
    if (this.length > this.slotMask) this.grow();
    const slot = this.head;
    this.names[slot] = name;
    this.values[slot] = value;
    this.head = (slot + 1) & this.slotMask;
    this.length++;
    this.bytes += size;
  }

  /** Evicts the oldest entries until the table holds at most `targetBytes`. */
  private evictDownTo(targetBytes: number): void {
    while (this.bytes > targetBytes) {
      const slot = (this.head - this.length) & this.slotMask;
      const name = this.names[slot]!;
      const value = this.values[slot]!;
      this.bytes -= name.length + value.length + ENTRY_OVERHEAD_BYTES;
      // Drop the references so evicted strings can be collected.
      this.names[slot] = '';
      this.values[slot] = '';
      this.length--;
    }
  }

  /** Doubles the ring, laying the entries out oldest first from slot 0. */
  private grow(): void {
    const capacity = (this.slotMask + 1) * 2;
    const names = new Array<string>(capacity).fill('');
    const values = new Array<string>(capacity).fill('');
    for (let age = this.length - 1, target = 0; age >= 0; age--, target++) {
      const slot = (this.head - 1 - age) & this.slotMask;
      names[target] = this.names[slot]!;
      values[target] = this.values[slot]!;
    }
    this.names = names;
    this.values = values;
    this.slotMask = capacity - 1;
    this.head = this.length;
  }
}

// --- Encoding ------------------------------------------------------------------------------------------

/** Bytes an integer takes at most, its prefix byte included. */
const MAX_INTEGER_BYTES = 1 + MAX_CONTINUATION_BYTES;
/** Bytes a field takes at most besides its name and value: a representation byte and two string lengths. */
const MAX_FIELD_OVERHEAD_BYTES = 1 + 2 * MAX_INTEGER_BYTES;
/** Strings up to this length are copied char by char: cheaper than a call into Buffer's native write. */
const SHORT_STRING_CHARS = 16;

/**
 * Encodes response headers or trailers given as [name0, value0, name1, value1, …]. Uses no dynamic
 * table, so the peer's SETTINGS_HEADER_TABLE_SIZE never matters: a field equal to a static entry becomes
 * its index (`[':status', '200']` is the single byte 0x88); any other field a literal without indexing,
 * naming a static entry when the name has one, with raw (not Huffman-coded) strings. Names are written
 * as given (callers pass lower case); values are taken as latin1, one byte per char.
 */
export function encodeHeaderBlock(fields: readonly string[]): Buffer {
  if (fields.length % 2 !== 0) throw new RangeError('header fields must come as name, value pairs');
  let boundBytes = 0;
  for (let i = 0; i < fields.length; i += 2) {
    boundBytes += MAX_FIELD_OVERHEAD_BYTES + fields[i]!.length + fields[i + 1]!.length;
  }
  // A bound rather than the exact size: the output is a view of a possibly larger (pooled) allocation.
  const out = Buffer.allocUnsafe(boundBytes) as Latin1Buffer;
  let offset = 0;
  for (let i = 0; i < fields.length; i += 2) {
    const name = fields[i]!;
    const value = fields[i + 1]!;
    const entry = staticNameEntry(name);
    if (entry !== undefined) {
      const index = entry.valueIndices.get(value);
      if (index !== undefined) {
        out[offset++] = 0x80 | index; // indexed field: every static index fits in the 7-bit prefix
        continue;
      }
      offset = writeInteger(out, offset, 0x00, 0x0f, entry.nameIndex);
    } else {
      out[offset++] = 0x00; // literal without indexing, new name
      offset = writeString(out, offset, name);
    }
    offset = writeString(out, offset, value);
  }
  return out.subarray(0, offset);
}

/** Writes `value` as an HPACK integer whose prefix (`prefixMax` = 2^N - 1) shares a byte with `flags`. */
function writeInteger(out: Buffer, offset: number, flags: number, prefixMax: number, value: number): number {
  if (value < prefixMax) {
    out[offset++] = flags | value;
    return offset;
  }
  out[offset++] = flags | prefixMax;
  value -= prefixMax;
  while (value >= 0x80) {
    out[offset++] = (value & 0x7f) | 0x80;
    value = Math.floor(value / 128);
  }
  out[offset++] = value;
  return offset;
}

/** Writes a raw (not Huffman-coded) string literal. */
function writeString(out: Latin1Buffer, offset: number, text: string): number {
  const length = text.length;
  offset = writeInteger(out, offset, 0x00, 0x7f, length);
  if (length <= SHORT_STRING_CHARS) {
    for (let i = 0; i < length; i++) out[offset + i] = text.charCodeAt(i);
  } else {
    out.latin1Write(text, offset, length);
  }
  return offset + length;
}
