/**
 * MurmurHash3, x86 32-bit variant (Austin Appleby's published algorithm): fast, well mixed,
 * not cryptographic. Strings are hashed as their UTF-8 bytes, so `murmur3Hash32('é')` equals
 * `murmur3Hash32(new TextEncoder().encode('é'))`.
 */
import { bytesOf, type HashInput } from './utf8.js';

const c1 = 0xcc9e2d51;
const c2 = 0x1b873593;
const fmixMultiplier1 = 0x85ebca6b;
const fmixMultiplier2 = 0xc2b2ae35;

/**
 * 32-bit MurmurHash3 of `input` (unsigned integer in [0, 2³²)).
 *
 * @example
 * murmur3Hash32('Hello, world!', 0x9747b28c); // 0x24884cba
 */
export function murmur3Hash32(input: HashInput, seed = 0): number {
  if (typeof input === 'string') {
    const hash = hashAscii(input, seed);
    if (hash >= 0) return hash;
  }
  const bytes = bytesOf(input);
  const length = bytes.length;
  const blockEnd = length & ~3;
  let hash = seed | 0;
  for (let offset = 0; offset < blockEnd; offset += 4) {
    hash = mixHash(hash, mixBlock(readUint32LE(bytes, offset)));
  }
  const tail = readTail(bytes, blockEnd, length & 3);
  if ((length & 3) !== 0) hash ^= mixBlock(tail);
  return finalMix(hash ^ length);
}

/**
 * Two MurmurHash3 values of the same input under two seeds, in one pass over the bytes.
 * Writes `[hash(seedA), hash(seedB)]` into `out` (reused to avoid an allocation per call).
 * Sketches use it for Kirsch–Mitzenmacher double hashing.
 *
 * @example
 * const pair = murmur3Hash32Pair('key', 1, 2, new Uint32Array(2));
 * // pair[0] === murmur3Hash32('key', 1) && pair[1] === murmur3Hash32('key', 2)
 */
export function murmur3Hash32Pair(
  input: HashInput,
  seedA: number,
  seedB: number,
  out: Uint32Array,
): Uint32Array {
  const bytes = bytesOf(input);
  const length = bytes.length;
  const blockEnd = length & ~3;
  let hashA = seedA | 0;
  let hashB = seedB | 0;
  for (let offset = 0; offset < blockEnd; offset += 4) {
    const block = mixBlock(readUint32LE(bytes, offset));
    hashA = mixHash(hashA, block);
    hashB = mixHash(hashB, block);
  }
  if ((length & 3) !== 0) {
    const tail = mixBlock(readTail(bytes, blockEnd, length & 3));
    hashA ^= tail;
    hashB ^= tail;
  }
  out[0] = finalMix(hashA ^ length);
  out[1] = finalMix(hashB ^ length);
  return out;
}

/**
 * Hashes one unsigned 32-bit integer (as its 4 little-endian bytes) under `seed`.
 * Cheap pairing of two hashes, e.g. a key hash with a node hash in rendezvous hashing.
 *
 * @example
 * murmur3HashUint32(0, 0); // 0x2362f9de, same as hashing four zero bytes
 */
export function murmur3HashUint32(value: number, seed = 0): number {
  return finalMix(mixHash(seed | 0, mixBlock(value | 0)) ^ 4);
}

/**
 * Hashes an all-ASCII string straight from its code units (which then equal its UTF-8 bytes),
 * skipping the copy into a byte buffer; returns −1 on the first non-ASCII unit.
 */
function hashAscii(text: string, seed: number): number {
  const length = text.length;
  const blockEnd = length & ~3;
  let hash = seed | 0;
  let offset = 0;
  for (; offset < blockEnd; offset += 4) {
    const unit0 = text.charCodeAt(offset);
    const unit1 = text.charCodeAt(offset + 1);
    const unit2 = text.charCodeAt(offset + 2);
    const unit3 = text.charCodeAt(offset + 3);
    if ((unit0 | unit1 | unit2 | unit3) >= 0x80) return -1;
    hash = mixHash(hash, mixBlock(unit0 | (unit1 << 8) | (unit2 << 16) | (unit3 << 24)));
  }
  let tail = 0;
  for (let shift = 0; offset < length; offset++, shift += 8) {
    const code = text.charCodeAt(offset);
    if (code >= 0x80) return -1;
    tail |= code << shift;
  }
  if ((length & 3) !== 0) hash ^= mixBlock(tail);
  return finalMix(hash ^ length);
}

function mixBlock(block: number): number {
  let k = Math.imul(block, c1);
  k = (k << 15) | (k >>> 17);
  return Math.imul(k, c2);
}

function mixHash(hash: number, mixedBlock: number): number {
  hash ^= mixedBlock;
  hash = (hash << 13) | (hash >>> 19);
  return (Math.imul(hash, 5) + 0xe6546b64) | 0;
}

/** MurmurHash3's finaliser: forces every input bit to affect every output bit. */
function finalMix(hash: number): number {
  hash ^= hash >>> 16;
  hash = Math.imul(hash, fmixMultiplier1);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, fmixMultiplier2);
  hash ^= hash >>> 16;
  return hash >>> 0;
}

function readUint32LE(bytes: Uint8Array, offset: number): number {
  return bytes[offset]! | (bytes[offset + 1]! << 8) | (bytes[offset + 2]! << 16) | (bytes[offset + 3]! << 24);
}

function readTail(bytes: Uint8Array, offset: number, tailLength: number): number {
  let tail = 0;
  if (tailLength >= 3) tail ^= bytes[offset + 2]! << 16;
  if (tailLength >= 2) tail ^= bytes[offset + 1]! << 8;
  if (tailLength >= 1) tail ^= bytes[offset]!;
  return tail;
}
