// User and role names sort as etcd's bbolt buckets and Go's sort.Strings order them: by the bytes
// of their UTF-8, which is code point order.

const SURROGATE_FIRST = 0xd800;
const SURROGATE_END = 0xe000;
/** Moves surrogates (code points above U+FFFF) after U+E000–U+FFFF, where UTF-8 puts them. */
const SURROGATE_SHIFT = 0x2000;
const ABOVE_SURROGATES_SHIFT = 0x800;

function codePointRank(unit: number): number {
  if (unit < SURROGATE_FIRST) return unit;
  return unit < SURROGATE_END ? unit + SURROGATE_SHIFT : unit - ABOVE_SURROGATES_SHIFT;
}

/** Negative, zero or positive as `a` sorts before, with or after `b` in UTF-8 byte order. */
export function compareNames(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const unitA = a.charCodeAt(i);
    const unitB = b.charCodeAt(i);
    if (unitA !== unitB) return codePointRank(unitA) - codePointRank(unitB);
  }
  return a.length - b.length;
}
