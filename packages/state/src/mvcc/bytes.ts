// Byte-wise key order, as etcd's index orders keys (Go's bytes.Compare).

/** Negative, zero or positive as `a` sorts before, with or after `b`, byte by byte. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const difference = a[i]! - b[i]!;
    if (difference !== 0) return difference;
  }
  return a.length - b.length;
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** `rangeEnd = "\0"` means "every key ≥ key" (etcd's mkGteRange). */
export function isFromKeyRangeEnd(rangeEnd: Uint8Array): boolean {
  return rangeEnd.length === 1 && rangeEnd[0] === 0;
}

/** The end of a key range: one key, all keys from `key` on, or the half-open [key, end). */
export type RangeBound =
  | { readonly kind: 'single' }
  | { readonly kind: 'fromKey' }
  | { readonly kind: 'until'; readonly end: Uint8Array };

const SINGLE: RangeBound = { kind: 'single' };
const FROM_KEY: RangeBound = { kind: 'fromKey' };

/** Reads a request's `rangeEnd` the way etcd does. */
export function rangeBound(rangeEnd: Uint8Array): RangeBound {
  if (rangeEnd.length === 0) return SINGLE;
  if (isFromKeyRangeEnd(rangeEnd)) return FROM_KEY;
  return { kind: 'until', end: rangeEnd };
}
