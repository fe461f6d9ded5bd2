// The MVCC write that deletes a revoked lease's keys: one txn, so every key goes at one revision
// (etcd deletes them in one backend txn). A txn level holds at most --max-txn-ops operations, so
// more keys are spread over nested txns (each level within the limit; 128 keys a level reach
// 128² keys at depth 2), which the MVCC store applies in order at the same revision.
import { ETCD_LIMITS, type KvWriteRequest, type RequestOp } from '../mvcc/etcd-types.js';

const EMPTY_RANGE_END = new Uint8Array(0);

/**
 * The write that deletes `keys` (LeaseStore.revoke's result) at one revision, or undefined when
 * there is nothing to delete (etcd's revoke of a lease without keys does not move the revision).
 *
 * @example
 * const revoked = leases.revoke(id);
 * if ('keys' in revoked) {
 *   const write = leaseRevokeWrite(revoked.keys);
 *   if (write !== undefined) mvcc.apply(write);
 * }
 */
export function leaseRevokeWrite(
  keys: readonly Uint8Array[],
  maxTxnOps: number = ETCD_LIMITS.maxTxnOps,
): KvWriteRequest | undefined {
  if (!Number.isSafeInteger(maxTxnOps) || maxTxnOps < 2) {
    throw new RangeError(`maxTxnOps must be an integer of at least 2, got ${maxTxnOps}`);
  }
  if (keys.length === 0) return undefined;
  let level: RequestOp[] = keys.map((key) => ({
    kind: 'deleteRange',
    request: { key, rangeEnd: EMPTY_RANGE_END, prevKv: false },
  }));
  while (level.length > maxTxnOps) {
    const nested: RequestOp[] = [];
    for (let start = 0; start < level.length; start += maxTxnOps) {
      nested.push({
        kind: 'txn',
        request: { compare: [], success: level.slice(start, start + maxTxnOps), failure: [] },
      });
    }
    level = nested;
  }
  return { kind: 'txn', request: { compare: [], success: level, failure: [] } };
}
