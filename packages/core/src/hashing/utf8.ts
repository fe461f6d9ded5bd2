/**
 * UTF-8 view of a hash input without a fresh allocation per call: hashing a string must
 * give the same value as hashing its UTF-8 bytes, and short keys dominate, so the
 * encoding goes into one reusable scratch buffer.
 */

/** What every hash function in this module accepts: text (hashed as UTF-8) or raw bytes. */
export type HashInput = string | Uint8Array;

/** Scratch buffers larger than this are not kept between calls, so one huge key cannot pin memory. */
const scratchBytesMax = 64 * 1024;
/** UTF-8 needs at most 3 bytes per UTF-16 code unit (a surrogate pair is 4 bytes for 2 units). */
const utf8BytesPerCodeUnitMax = 3;

const encoder = new TextEncoder();
let scratch = new Uint8Array(256);

/**
 * Returns the bytes of `input`: the array itself, or its UTF-8 encoding in a shared scratch
 * buffer that stays valid only until the next call. Callers must consume it synchronously.
 */
export function bytesOf(input: HashInput): Uint8Array {
  if (typeof input !== 'string') return input;
  const bytesMax = input.length * utf8BytesPerCodeUnitMax;
  const target = bytesMax <= scratch.length ? scratch : growScratch(bytesMax);
  // Fast path for ASCII, the common case for keys; anything else goes through the platform encoder.
  const length = input.length;
  for (let index = 0; index < length; index++) {
    const code = input.charCodeAt(index);
    if (code >= 0x80) return encodeSlow(input, target);
    target[index] = code;
  }
  return target.subarray(0, length);
}

function encodeSlow(input: string, target: Uint8Array): Uint8Array {
  const { written } = encoder.encodeInto(input, target);
  return target.subarray(0, written);
}

function growScratch(bytesMax: number): Uint8Array {
  const buffer = new Uint8Array(bytesMax);
  if (bytesMax <= scratchBytesMax) scratch = buffer;
  return buffer;
}
