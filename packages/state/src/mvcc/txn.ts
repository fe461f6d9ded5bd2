// Txn guards as etcd evaluates them (server/etcdserver/txn): every compare of the txn and of the
// nested txns on the chosen branches is decided against the store as it was before the txn wrote
// anything, and recorded in pre-order as the txn's path.
import { compareBytes, rangeBound } from './bytes.js';
import type { Compare, KeyValue, RequestOp, TxnRequest } from './etcd-types.js';
import type { ReadView } from './range.js';

const ABSENT_KEY: KeyValue = {
  key: new Uint8Array(0),
  createRevision: 0,
  modRevision: 0,
  version: 0,
  value: new Uint8Array(0),
  lease: 0n,
};

/**
 * One compare: every key in its range must satisfy it. A missing key (or an empty range) compares
 * as version, revisions and lease 0, except that a VALUE compare on it always fails.
 */
export function applyCompare(view: ReadView, compare: Compare, revision: number): boolean {
  let found = false;
  let holds = true;
  view.visit(compare.key, rangeBound(compare.rangeEnd), revision, (kv) => {
    found = true;
    holds = compareKeyValue(compare, kv);
    return holds;
  });
  if (found) return holds;
  return compare.target === 'VALUE' ? false : compareKeyValue(compare, ABSENT_KEY);
}

export function applyCompares(view: ReadView, compares: readonly Compare[], revision: number): boolean {
  for (const compare of compares) if (!applyCompare(view, compare, revision)) return false;
  return true;
}

function compareKeyValue(compare: Compare, kv: KeyValue): boolean {
  const order = targetOrder(compare, kv);
  switch (compare.result) {
    case 'EQUAL':
      return order === 0;
    case 'NOT_EQUAL':
      return order !== 0;
    case 'GREATER':
      return order > 0;
    case 'LESS':
      return order < 0;
    default:
      // etcd treats a result it does not know as satisfied.
      return true;
  }
}

function targetOrder(compare: Compare, kv: KeyValue): number {
  switch (compare.target) {
    case 'VALUE':
      return compareBytes(kv.value, compare.value);
    case 'CREATE':
      return Math.sign(kv.createRevision - compare.createRevision);
    case 'MOD':
      return Math.sign(kv.modRevision - compare.modRevision);
    case 'VERSION':
      return Math.sign(kv.version - compare.version);
    case 'LEASE':
      return kv.lease === compare.lease ? 0 : kv.lease < compare.lease ? -1 : 1;
    default:
      return 0;
  }
}

/** Outcomes of a txn's compares and of nested txns on the branches taken, in pre-order. */
export function compareToPath(
  view: ReadView,
  txn: TxnRequest,
  revision: number,
  path: boolean[] = [],
): boolean[] {
  const succeeded = applyCompares(view, txn.compare, revision);
  path.push(succeeded);
  for (const op of succeeded ? txn.success : txn.failure) {
    if (op.kind === 'txn') compareToPath(view, op.request, revision, path);
  }
  return path;
}

/** Reads a txn path in the order compareToPath wrote it. */
export class TxnPathCursor {
  private readonly path: readonly boolean[];
  private next = 0;

  constructor(path: readonly boolean[]) {
    this.path = path;
  }

  take(): boolean {
    const succeeded = this.path[this.next++];
    if (succeeded === undefined) throw new Error('txn path is shorter than the txn');
    return succeeded;
  }

  /** Asserts that execution consumed exactly the path. */
  finish(): void {
    if (this.next !== this.path.length)
      throw new Error(`txn path has ${this.path.length - this.next} unused entries`);
  }
}

/** Visits the ops on the txn's chosen branches (nested ones included, in order) until `check` returns a value. */
export function findOnPath<T>(
  txn: TxnRequest,
  path: TxnPathCursor,
  check: (op: Exclude<RequestOp, { kind: 'txn' }>) => T | undefined,
): T | undefined {
  const ops = path.take() ? txn.success : txn.failure;
  for (const op of ops) {
    const found = op.kind === 'txn' ? findOnPath(op.request, path, check) : check(op);
    if (found !== undefined) return found;
  }
  return undefined;
}
