// The HPACK static table (RFC 7541 Appendix A): 61 fixed header fields that both ends know, so a field
// can be sent as a one-byte index. Indices start at 1; index 62 onwards address the dynamic table.

/** [name, value] for static indices 1..61, in index order (the entry at array position i has index i + 1). */
export const STATIC_TABLE: readonly (readonly [name: string, value: string])[] = [
  [':authority', ''],
  [':method', 'GET'],
  [':method', 'POST'],
  [':path', '/'],
  [':path', '/index.html'],
  [':scheme', 'http'],
  [':scheme', 'https'],
  [':status', '200'],
  [':status', '204'],
  [':status', '206'],
  [':status', '304'],
  [':status', '400'],
  [':status', '404'],
  [':status', '500'],
  ['accept-charset', ''],
  ['accept-encoding', 'gzip, deflate'],
  ['accept-language', ''],
  ['accept-ranges', ''],
  ['accept', ''],
  ['access-control-allow-origin', ''],
  ['age', ''],
  ['allow', ''],
  ['authorization', ''],
  ['cache-control', ''],
  ['content-disposition', ''],
  ['content-encoding', ''],
  ['content-language', ''],
  ['content-length', ''],
  ['content-location', ''],
  ['content-range', ''],
  ['content-type', ''],
  ['cookie', ''],
  ['date', ''],
  ['etag', ''],
  ['expect', ''],
  ['expires', ''],
  ['from', ''],
  ['host', ''],
  ['if-match', ''],
  ['if-modified-since', ''],
  ['if-none-match', ''],
  ['if-range', ''],
  ['if-unmodified-since', ''],
  ['last-modified', ''],
  ['link', ''],
  ['location', ''],
  ['max-forwards', ''],
  ['proxy-authenticate', ''],
  ['proxy-authorization', ''],
  ['range', ''],
  ['referer', ''],
  ['refresh', ''],
  ['retry-after', ''],
  ['server', ''],
  ['set-cookie', ''],
  ['strict-transport-security', ''],
  ['transfer-encoding', ''],
  ['user-agent', ''],
  ['vary', ''],
  ['via', ''],
  ['www-authenticate', ''],
];

/** The highest static index; HPACK index STATIC_TABLE_LENGTH + 1 is the newest dynamic entry. */
export const STATIC_TABLE_LENGTH = 61;

if (STATIC_TABLE.length !== STATIC_TABLE_LENGTH) throw new Error('HPACK static table must have 61 entries');

// Flat arrays addressed by HPACK index (position 0 unused), so the decoder reads a name or value with one
// array access and no tuple in between.
/** Static names by HPACK index (1..61); index 0 is an unused placeholder. */
export const STATIC_NAMES: readonly string[] = ['', ...STATIC_TABLE.map(([name]) => name)];
/** Static values by HPACK index (1..61); index 0 is an unused placeholder. */
export const STATIC_VALUES: readonly string[] = ['', ...STATIC_TABLE.map(([, value]) => value)];

/** What the encoder needs to know about a name that appears in the static table. */
export interface StaticNameEntry {
  /** The lowest index carrying this name (what a literal field refers to for its name). */
  readonly nameIndex: number;
  /** Value -> index, for the values the static table pairs with this name (empty values included). */
  readonly valueIndices: ReadonlyMap<string, number>;
}

const entriesByName = new Map<string, { nameIndex: number; valueIndices: Map<string, number> }>();
STATIC_TABLE.forEach(([name, value], position) => {
  const index = position + 1;
  let entry = entriesByName.get(name);
  if (entry === undefined) {
    entry = { nameIndex: index, valueIndices: new Map() };
    entriesByName.set(name, entry);
  }
  entry.valueIndices.set(value, index);
});

/** The static-table facts about `name`, or undefined when no static entry has that name. One map lookup. */
export function staticNameEntry(name: string): StaticNameEntry | undefined {
  return entriesByName.get(name);
}

/** The index of the static entry with exactly this name and value, or 0 when there is none. */
export function staticFieldIndex(name: string, value: string): number {
  return entriesByName.get(name)?.valueIndices.get(value) ?? 0;
}

/** The lowest index of a static entry with this name, or 0 when there is none. */
export function staticNameIndex(name: string): number {
  return entriesByName.get(name)?.nameIndex ?? 0;
}
