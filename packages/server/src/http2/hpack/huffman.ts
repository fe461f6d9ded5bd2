// The HPACK Huffman code (RFC 7541 §5.2, Appendix B). The code is canonical, so the code lengths alone
// determine it: the codes are derived here at load, then checked against known values from the RFC.
//
// Decoding runs a table-driven state machine a byte at a time: a state is an internal node of the code tree
// (the bits read since the last symbol), and one lookup per input byte gives the next state and the symbols
// completed on the way. The shortest code has 5 bits, so a byte completes at most two. A byte per lookup
// rather than a nibble halves the chain of dependent loads, which is what bounds the loop's speed; the
// table costs 256 KiB, of which text touches only the states near the root.
import { HpackError } from './errors.js';
import { allocLatin1Buffer, type Latin1Buffer, latin1String } from './latin1.js';

/** The end-of-string symbol: never valid inside a string; its leading bits are the padding. */
const EOS = 256;
const SYMBOL_COUNT = 257;

// Code length in bits of each symbol, 16 symbols a row; the last row is EOS.
// biome-ignore format: one row per 16 symbols keeps the table checkable against the RFC
const CODE_LENGTHS = new Uint8Array([
  13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28, //   0..15
  28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28, //  16..31
   6, 10, 10, 12, 13,  6,  8, 11, 10, 10,  8, 11,  8,  6,  6,  6, //  32..47  ' ' to '/'
   5,  5,  5,  6,  6,  6,  6,  6,  6,  6,  7,  8, 15,  6, 12, 10, //  48..63  '0' to '?'
  13,  6,  7,  7,  7,  7,  7,  7,  7,  7,  7,  7,  7,  7,  7,  7, //  64..79  '@' to 'O'
   7,  7,  7,  7,  7,  7,  7,  7,  8,  7,  8, 13, 19, 13, 14,  6, //  80..95  'P' to '_'
  15,  5,  6,  5,  6,  5,  6,  6,  6,  5,  7,  7,  6,  6,  6,  5, //  96..111 '`' to 'o'
   6,  7,  6,  5,  5,  6,  7,  7,  7,  7,  7, 15, 11, 14, 13, 28, // 112..127 'p' to DEL
  20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23, // 128..143
  24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24, // 144..159
  22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23, // 160..175
  21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23, // 176..191
  26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25, // 192..207
  19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27, // 208..223
  20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23, // 224..239
  26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26, // 240..255
  30,                                                             // EOS
]);

/**
 * Canonical assignment: symbols ordered by (length, symbol) take consecutive codes, the code shifted left
 * each time the length grows.
 */
function deriveCodes(lengths: Uint8Array): Uint32Array {
  const order = Array.from({ length: SYMBOL_COUNT }, (_, symbol) => symbol).sort(
    (a, b) => lengths[a]! - lengths[b]! || a - b,
  );
  const codes = new Uint32Array(SYMBOL_COUNT);
  let code = 0;
  let previousLength = lengths[order[0]!]!;
  for (const symbol of order) {
    const length = lengths[symbol]!;
    code *= 2 ** (length - previousLength);
    codes[symbol] = code;
    code += 1;
    previousLength = length;
  }
  return codes;
}

const CODES = deriveCodes(CODE_LENGTHS);

// The derivation is only as good as the lengths typed above: pin a few codes from the RFC.
for (const [symbol, code, length] of [
  [48, 0x0, 5], // '0'
  [97, 0x3, 5], // 'a'
  [32, 0x14, 6], // ' '
  [58, 0x5c, 7], // ':'
  [0, 0x1ff8, 13],
  [9, 0xffffea, 24],
  [195, 0x7fff1, 19],
  [255, 0x3ffffee, 26],
  [254, 0x7fffff0, 27],
  [249, 0xffffffe, 28],
  [22, 0x3ffffffe, 30],
  [EOS, 0x3fffffff, 30],
] as const) {
  if (CODES[symbol] !== code || CODE_LENGTHS[symbol] !== length) {
    throw new Error(`HPACK Huffman table is wrong at symbol ${symbol}`);
  }
}

// --- Decoding tables -------------------------------------------------------------------------------------

/** A complete prefix code over 257 symbols has exactly 256 internal nodes; node 0 is the root. */
const NODE_COUNT = 256;
// Transition entry: bits 0..7 the next state, 8..15 and 16..23 the symbols completed (first, second),
// 24..25 how many were completed, bit 26 set when the byte completes EOS.
const SYMBOL_COUNT_SHIFT = 24;
const COMPLETES_EOS = 1 << 26;

/** Per state, 256 entries (one per input byte). */
const TRANSITIONS = new Uint32Array(NODE_COUNT * 256);
/** Per state, 1 when the bits read since the last symbol are valid padding: at most 7 bits, all 1s. */
const ACCEPTING = new Uint8Array(NODE_COUNT);
/** Per state, whether all its bits are 1s: tells which padding rule an unaccepted end broke. */
const ALL_ONES = new Uint8Array(NODE_COUNT);

function buildDecoder(): void {
  // childOf[2n + bit]: > 0 an internal node, < 0 the leaf of symbol -child - 1, 0 not yet assigned (the root
  // is no one's child, so 0 is free to mean "empty").
  const childOf = new Int32Array(NODE_COUNT * 2);
  const depth = new Uint8Array(NODE_COUNT);
  let nodeCount = 1;
  ALL_ONES[0] = 1;
  for (let symbol = 0; symbol < SYMBOL_COUNT; symbol++) {
    const length = CODE_LENGTHS[symbol]!;
    const code = CODES[symbol]!;
    let node = 0;
    for (let bitIndex = length - 1; bitIndex > 0; bitIndex--) {
      const bit = (code >>> bitIndex) & 1;
      const slot = node * 2 + bit;
      let child = childOf[slot]!;
      if (child === 0) {
        if (nodeCount === NODE_COUNT) throw new Error('HPACK Huffman code has too many internal nodes');
        child = nodeCount++;
        childOf[slot] = child;
        depth[child] = depth[node]! + 1;
        ALL_ONES[child] = ALL_ONES[node]! & bit;
      } else if (child < 0) {
        throw new Error(`HPACK Huffman code is not prefix-free at symbol ${symbol}`);
      }
      node = child;
    }
    const slot = node * 2 + (code & 1);
    if (childOf[slot] !== 0) throw new Error(`HPACK Huffman code is not prefix-free at symbol ${symbol}`);
    childOf[slot] = -symbol - 1;
  }
  if (nodeCount !== NODE_COUNT || childOf.includes(0)) throw new Error('HPACK Huffman code is not complete');

  for (let state = 0; state < NODE_COUNT; state++) {
    ACCEPTING[state] = ALL_ONES[state]! && depth[state]! <= 7 ? 1 : 0;
    for (let byte = 0; byte < 256; byte++) {
      let node = state;
      let entry = 0;
      let completed = 0;
      for (let bitIndex = 7; bitIndex >= 0; bitIndex--) {
        const child = childOf[node * 2 + ((byte >>> bitIndex) & 1)]!;
        if (child > 0) {
          node = child;
          continue;
        }
        const symbol = -child - 1;
        if (symbol === EOS) entry |= COMPLETES_EOS;
        else entry |= symbol << (8 + 8 * completed++);
        node = 0;
      }
      if (completed > 2) throw new Error('HPACK Huffman code completes more than two symbols in a byte');
      TRANSITIONS[state * 256 + byte] = entry | (completed << SYMBOL_COUNT_SHIFT) | node;
    }
  }
}

buildDecoder();

/** Output of the decoder, reused across calls; grows to the largest string seen. */
let decodeScratch: Latin1Buffer = allocLatin1Buffer(256);

/**
 * Decodes the Huffman-coded bytes source[start, end) into a latin1 string.
 * @throws HpackError when the bytes contain EOS, or end in padding longer than 7 bits or not all 1s.
 */
export function huffmanDecode(source: Uint8Array, start: number, end: number): string {
  // Every symbol takes at least 5 bits; one more byte because each step writes two symbols, used or not.
  const capacity = Math.floor(((end - start) * 8) / 5) + 1;
  if (decodeScratch.length < capacity) {
    decodeScratch = allocLatin1Buffer(Math.max(capacity, decodeScratch.length * 2));
  }
  const out = decodeScratch;
  const transitions = TRANSITIONS;
  let length = 0;
  let state = 0;
  for (let position = start; position < end; position++) {
    const entry = transitions[(state << 8) | source[position]!]!;
    if (entry >= COMPLETES_EOS) throw new HpackError('Huffman string contains EOS');
    // Writing both symbol slots and advancing by the count avoids a branch that text cannot predict.
    out[length] = entry >>> 8;
    out[length + 1] = entry >>> 16;
    length += entry >>> SYMBOL_COUNT_SHIFT;
    state = entry & 0xff;
  }
  if (ACCEPTING[state] === 0) {
    throw new HpackError(
      ALL_ONES[state] === 1 ? 'Huffman padding is longer than 7 bits' : 'Huffman padding is not all 1s',
    );
  }
  return latin1String(out, 0, length);
}

/** Bytes that huffmanEncode writes for `text` (chars taken as latin1 bytes). */
export function huffmanEncodedLength(text: string): number {
  let bits = 0;
  for (let i = 0; i < text.length; i++) bits += CODE_LENGTHS[text.charCodeAt(i) & 0xff]!;
  return Math.ceil(bits / 8);
}

/**
 * Writes `text` (chars taken as latin1 bytes) Huffman-coded into target at offset, padded with 1s; returns
 * the offset after it. The caller sizes target with huffmanEncodedLength.
 */
export function huffmanEncode(text: string, target: Uint8Array, offset: number): number {
  // Bits not yet written, as a number below 2^(7 + 30): exact in a double, where int32 shifts would not be.
  let pending = 0;
  let pendingBits = 0;
  for (let i = 0; i < text.length; i++) {
    const symbol = text.charCodeAt(i) & 0xff;
    const length = CODE_LENGTHS[symbol]!;
    pending = pending * 2 ** length + CODES[symbol]!;
    pendingBits += length;
    while (pendingBits >= 8) {
      pendingBits -= 8;
      const scale = 2 ** pendingBits;
      const byte = Math.floor(pending / scale);
      target[offset++] = byte;
      pending -= byte * scale;
    }
  }
  if (pendingBits > 0) target[offset++] = (pending << (8 - pendingBits)) | (0xff >>> pendingBits);
  return offset;
}
