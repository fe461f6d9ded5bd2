// The lock scenario's verdicts: Raft's own (from the SafetyObserver) plus the lock checks.
import type { ViolationKind } from '../cluster/invariants.js';

export type LockViolationKind =
  /** Check 1: the resource accepted a lower token after a higher one (holders' writes interleave). */
  | 'fencing'
  /** Check 2: a holder was told it holds the lock although its key was not the oldest. */
  | 'lock-exclusion'
  /** Check 3: a lease expired before the leader's own clock saw its TTL pass. */
  | 'lease-expiry'
  /** Check 3, liveness: a lease nobody renewed was still there long after the faults stopped. */
  | 'lease-liveness'
  /** Nobody acquired a lock after the faults stopped. */
  | 'lock-liveness';

export interface LockViolation {
  readonly kind: ViolationKind | LockViolationKind;
  readonly atMs: number;
  readonly node?: string;
  readonly message: string;
}

/** Bound on recorded violations per run: the first ones explain the failure. */
export const MAX_LOCK_VIOLATIONS = 20;
