// Checks etcd makes on a request before it is proposed (server/etcdserver/api/v3rpc/key.go):
// they depend only on the request, never on the store, so every replica agrees on them.
import { compareBytes } from './bytes.js';
import {
  ETCD_ERRORS,
  type EtcdError,
  type KvWriteRequest,
  type PutRequest,
  type RangeRequest,
  type RequestOp,
  type SortOrder,
  type SortTarget,
  type TxnRequest,
} from './etcd-types.js';

/**
 * Deepest txn-inside-txn accepted. etcd has no such bound (only the request size); ours keeps
 * recursion far from the JavaScript stack limit. Deeper requests get etcd's too-many-operations error.
 */
export const MAX_TXN_NESTING_DEPTH = 64;

const SORT_ORDERS: readonly SortOrder[] = ['NONE', 'ASCEND', 'DESCEND'];
const SORT_TARGETS: readonly SortTarget[] = ['KEY', 'VERSION', 'CREATE', 'MOD', 'VALUE'];

/** The request-only checks of a write, in etcd's order; undefined when it may be applied. */
export function checkWriteRequest(request: KvWriteRequest, maxTxnOps: number): EtcdError | undefined {
  switch (request.kind) {
    case 'put':
      return checkPutRequest(request.request);
    case 'deleteRange':
      return request.request.key.length === 0 ? ETCD_ERRORS.emptyKey : undefined;
    case 'txn':
      return (
        checkTxnRequest(request.request, maxTxnOps, 1) ??
        checkTxnOverlaps(request.request.success) ??
        checkTxnOverlaps(request.request.failure)
      );
    case 'compact':
      return undefined;
  }
}

export function checkRangeRequest(request: RangeRequest): EtcdError | undefined {
  if (request.key.length === 0) return ETCD_ERRORS.emptyKey;
  if (!SORT_ORDERS.includes(request.sortOrder) || !SORT_TARGETS.includes(request.sortTarget)) {
    return ETCD_ERRORS.invalidSortOption;
  }
  return undefined;
}

function checkPutRequest(request: PutRequest): EtcdError | undefined {
  if (request.key.length === 0) return ETCD_ERRORS.emptyKey;
  if (request.ignoreValue && request.value.length !== 0) return ETCD_ERRORS.valueProvided;
  if (request.ignoreLease && request.lease !== 0n) return ETCD_ERRORS.leaseProvided;
  return undefined;
}

/** etcd counts operations per level: the longest of compare, success and failure. */
function checkTxnRequest(request: TxnRequest, maxTxnOps: number, depth: number): EtcdError | undefined {
  const operations = Math.max(request.compare.length, request.success.length, request.failure.length);
  if (operations > maxTxnOps || depth > MAX_TXN_NESTING_DEPTH) return ETCD_ERRORS.tooManyOps;
  for (const compare of request.compare) if (compare.key.length === 0) return ETCD_ERRORS.emptyKey;
  for (const op of request.success) {
    const error = checkRequestOp(op, maxTxnOps, depth);
    if (error !== undefined) return error;
  }
  for (const op of request.failure) {
    const error = checkRequestOp(op, maxTxnOps, depth);
    if (error !== undefined) return error;
  }
  return undefined;
}

function checkRequestOp(op: RequestOp, maxTxnOps: number, depth: number): EtcdError | undefined {
  switch (op.kind) {
    case 'range':
      return checkRangeRequest(op.request);
    case 'put':
      return checkPutRequest(op.request);
    case 'deleteRange':
      return op.request.key.length === 0 ? ETCD_ERRORS.emptyKey : undefined;
    case 'txn':
      return checkTxnRequest(op.request, maxTxnOps, depth + 1);
    default:
      // An op with no request set: etcd answers "key not found".
      return ETCD_ERRORS.keyNotFound;
  }
}

/**
 * etcd's rule against writing a key twice in one txn (v3rpc/key.go checkIntervals): within one
 * branch, a put may not repeat a put of the same key nor fall in a delete range at its level or
 * inherited from an earlier nested txn; a nested txn's then- and else-branches may put the same
 * key (only one runs). Reproduced as etcd has it, gaps included: a delete in a later nested txn
 * is not checked against puts of an earlier one, and a delete's range end is compared literally
 * (so "\0", "every key from here on", covers no put).
 */
export function checkTxnOverlaps(ops: readonly RequestOp[]): EtcdError | undefined {
  const result = collectWrites(ops);
  return 'error' in result ? result.error : undefined;
}

interface BranchWrites {
  readonly puts: Set<string>;
  readonly deletes: DeleteIntervals;
}

function collectWrites(ops: readonly RequestOp[]): BranchWrites | { readonly error: EtcdError } {
  const deletes = new DeleteIntervals();
  for (const op of ops) {
    if (op.kind !== 'deleteRange') continue;
    const { key, rangeEnd } = op.request;
    deletes.add(key, rangeEnd.length === 0 ? pointEnd(key) : rangeEnd);
  }
  const puts = new Set<string>();
  for (const op of ops) {
    if (op.kind !== 'txn') continue;
    const then = collectWrites(op.request.success);
    if ('error' in then) return then;
    const otherwise = collectWrites(op.request.failure);
    if ('error' in otherwise) return otherwise;
    for (const key of then.puts) {
      if (puts.has(key) || deletes.containsKeyString(key)) return { error: ETCD_ERRORS.duplicateKey };
      puts.add(key);
    }
    for (const key of otherwise.puts) {
      if (puts.has(key) && !then.puts.has(key)) return { error: ETCD_ERRORS.duplicateKey };
      if (deletes.containsKeyString(key)) return { error: ETCD_ERRORS.duplicateKey };
      puts.add(key);
    }
    deletes.addAll(then.deletes);
    deletes.addAll(otherwise.deletes);
  }
  for (const op of ops) {
    if (op.kind !== 'put') continue;
    const key = keyString(op.request.key);
    if (puts.has(key) || deletes.containsKeyString(key)) return { error: ETCD_ERRORS.duplicateKey };
    puts.add(key);
  }
  return { puts, deletes };
}

/** A key as a string of char codes 0–255: a Set key that is one-to-one with the bytes. */
export function keyString(key: Uint8Array): string {
  let text = '';
  for (let i = 0; i < key.length; i++) text += String.fromCharCode(key[i]!);
  return text;
}

function keyBytes(text: string): Uint8Array {
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}

/** The end of the one-key interval [key, key + "\0"). */
function pointEnd(key: Uint8Array): Uint8Array {
  const end = new Uint8Array(key.length + 1);
  end.set(key);
  return end;
}

/**
 * A union of half-open byte intervals kept as sorted, disjoint, non-empty intervals, so that
 * "does any delete cover this key?" is a binary search. Empty or inverted intervals cover nothing.
 */
class DeleteIntervals {
  private readonly intervals: { begin: Uint8Array; end: Uint8Array }[] = [];

  add(begin: Uint8Array, end: Uint8Array): void {
    if (compareBytes(begin, end) >= 0) return;
    let mergedBegin = begin;
    let mergedEnd = end;
    // First interval that ends at or after `begin`: it and following ones that start by `end` merge.
    const first = this.firstEndingAtOrAfter(begin);
    let last = first;
    while (last < this.intervals.length && compareBytes(this.intervals[last]!.begin, mergedEnd) <= 0) {
      const interval = this.intervals[last]!;
      if (compareBytes(interval.begin, mergedBegin) < 0) mergedBegin = interval.begin;
      if (compareBytes(interval.end, mergedEnd) > 0) mergedEnd = interval.end;
      last++;
    }
    this.intervals.splice(first, last - first, { begin: mergedBegin, end: mergedEnd });
  }

  addAll(other: DeleteIntervals): void {
    for (const interval of other.intervals) this.add(interval.begin, interval.end);
  }

  containsKeyString(key: string): boolean {
    if (this.intervals.length === 0) return false;
    const bytes = keyBytes(key);
    const index = this.firstEndingAtOrAfter(bytes);
    const interval = this.intervals[index];
    if (interval === undefined) return false;
    return compareBytes(interval.begin, bytes) <= 0 && compareBytes(bytes, interval.end) < 0;
  }

  /** Index of the first interval whose end is ≥ `point` (the only one that can cover or touch it). */
  private firstEndingAtOrAfter(point: Uint8Array): number {
    let low = 0;
    let high = this.intervals.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (compareBytes(this.intervals[middle]!.end, point) < 0) low = middle + 1;
      else high = middle;
    }
    return low;
  }
}
