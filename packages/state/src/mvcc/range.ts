// Range as etcd serves it (server/etcdserver/txn: executeRange over mvcc rangeKeys): count the
// keys in the interval, fetch up to limit + 1, filter by mod/create revision, sort, truncate.
import { compareBytes, type RangeBound, rangeBound } from './bytes.js';
import type { KeyValue, RangeRequest, RangeResponse, SortOrder, SortTarget } from './etcd-types.js';

/** The store at one revision, as range and compare see it. */
export interface ReadView {
  /** Visits the keys present at `revision` in [key, bound), ascending, until `visitor` returns false. */
  visit(key: Uint8Array, bound: RangeBound, revision: number, visitor: (kv: KeyValue) => boolean): void;
}

const EMPTY_VALUE = new Uint8Array(0);

/** Serves `request` at `revision` (already resolved and checked against compaction). */
export function executeRange(view: ReadView, request: RangeRequest, revision: number): RangeResponse {
  const bound = rangeBound(request.rangeEnd);
  if (request.countOnly) {
    let count = 0;
    view.visit(request.key, bound, revision, () => {
      count++;
      return true;
    });
    return { kvs: [], more: false, count };
  }
  const filtered =
    request.minModRevision !== 0 ||
    request.maxModRevision !== 0 ||
    request.minCreateRevision !== 0 ||
    request.maxCreateRevision !== 0;
  // etcd fetches everything when it must sort or filter, else one more than the limit (for `more`).
  const fetchLimit = request.sortOrder !== 'NONE' || filtered || request.limit <= 0 ? 0 : request.limit + 1;
  let kvs: KeyValue[] = [];
  let count = 0;
  view.visit(request.key, bound, revision, (kv) => {
    if (fetchLimit === 0 || kvs.length < fetchLimit) kvs.push(kv);
    count++;
    return true;
  });
  if (filtered) kvs = kvs.filter((kv) => passesRevisionFilters(kv, request));
  sortKeyValues(kvs, request.sortOrder, request.sortTarget);
  let more = false;
  if (request.limit > 0 && kvs.length > request.limit) {
    kvs.length = request.limit;
    more = true;
  }
  if (request.keysOnly) kvs = kvs.map((kv) => ({ ...kv, value: EMPTY_VALUE }));
  return { kvs, more, count };
}

/** A bound of 0 is no bound; any other value applies, negative ones included, as in etcd. */
function passesRevisionFilters(kv: KeyValue, request: RangeRequest): boolean {
  if (request.maxModRevision !== 0 && kv.modRevision > request.maxModRevision) return false;
  if (request.minModRevision !== 0 && kv.modRevision < request.minModRevision) return false;
  if (request.maxCreateRevision !== 0 && kv.createRevision > request.maxCreateRevision) return false;
  if (request.minCreateRevision !== 0 && kv.createRevision < request.minCreateRevision) return false;
  return true;
}

/**
 * etcd's sort rules: a target other than KEY with order NONE sorts ascending; KEY ascending is
 * already the index order. Ties keep key order (stable sort; etcd's sort is stable only up to 12
 * keys, where Go sorts by insertion).
 */
function sortKeyValues(kvs: KeyValue[], requestedOrder: SortOrder, target: SortTarget): void {
  let order = requestedOrder;
  if (target !== 'KEY' && order === 'NONE') order = 'ASCEND';
  else if (target === 'KEY' && order === 'ASCEND') order = 'NONE';
  if (order === 'NONE') return;
  const direction = order === 'ASCEND' ? 1 : -1;
  const compare = SORT_COMPARATORS[target];
  kvs.sort((a, b) => direction * compare(a, b));
}

const SORT_COMPARATORS: Record<SortTarget, (a: KeyValue, b: KeyValue) => number> = {
  KEY: (a, b) => compareBytes(a.key, b.key),
  VERSION: (a, b) => a.version - b.version,
  CREATE: (a, b) => a.createRevision - b.createRevision,
  MOD: (a, b) => a.modRevision - b.modRevision,
  VALUE: (a, b) => compareBytes(a.value, b.value),
};
