/**
 * JSON values, the one payload type every CRDT here stores, and a canonical text form of them:
 * replicas must agree on when two values are "the same" and on a deterministic order.
 */

export type JsonValue =
  | null
  | boolean
  | number
  | string
  | readonly JsonValue[]
  | { readonly [key: string]: JsonValue };

/** Bounds recursion when validating untrusted state. */
export const jsonDepthMax = 64;

/** Raised when a state handed to `fromJSON` or `merge` is not one this module exports. */
export class CrdtFormatError extends Error {
  readonly code = 'CRDT_FORMAT';

  constructor(crdt: string, problem: string) {
    super(`Cannot import ${crdt} state: ${problem}. Pass exactly what toJSON() produced.`);
    this.name = 'CrdtFormatError';
  }
}

/** JSON text with object keys sorted, so equal values have equal text. */
export function canonicalJson(value: JsonValue): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map((item: JsonValue) => canonicalJson(item)).join(',')}]`;
  const record = value as { readonly [key: string]: JsonValue };
  const keys = Object.keys(record).sort();
  return `{${keys.map((key) => `${JSON.stringify(key)}:${canonicalJson(record[key]!)}`).join(',')}}`;
}

/** True when `value` survives JSON.stringify/parse unchanged (finite numbers, plain objects, arrays). */
export function isJsonValue(value: unknown, depth = 0): value is JsonValue {
  if (depth > jsonDepthMax) return false;
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return true;
  if (typeof value === 'number') return Number.isFinite(value);
  if (Array.isArray(value)) return value.every((item) => isJsonValue(item, depth + 1));
  if (typeof value !== 'object') return false;
  const prototype = Object.getPrototypeOf(value);
  if (prototype !== Object.prototype && prototype !== null) return false;
  return Object.values(value).every((item) => isJsonValue(item, depth + 1));
}

/** Validates a replica id → non-negative integer record (the shape of counters and clocks). */
export function readCounts(crdt: string, field: string, json: unknown): Map<string, number> {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new CrdtFormatError(crdt, `"${field}" must be an object of replica → count`);
  }
  const counts = new Map<string, number>();
  for (const [replica, count] of Object.entries(json)) {
    if (typeof count !== 'number' || !Number.isSafeInteger(count) || count < 0) {
      throw new CrdtFormatError(crdt, `"${field}.${replica}" must be a non-negative integer`);
    }
    if (count > 0) counts.set(replica, count);
  }
  return counts;
}

/** A record with keys in sorted order, for stable exported state. */
export function sortedRecord(entries: Iterable<readonly [string, number]>): Record<string, number> {
  return Object.fromEntries(
    [...entries].sort(([left], [right]) => (left < right ? -1 : left > right ? 1 : 0)),
  );
}

export function assertReplicaId(replicaId: string): void {
  if (typeof replicaId !== 'string' || replicaId.length === 0)
    throw new RangeError('replicaId must be a non-empty string');
}
