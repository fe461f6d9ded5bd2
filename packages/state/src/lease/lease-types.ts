// etcd v3 leases as plain values: what the replicated lease store holds, etcd's limits with their
// units, and the lease errors etcd answers with (exact text: clients match on it).
import { ETCD_ERRORS, type EtcdError } from '../mvcc/etcd-types.js';

/** etcd's MaxLeaseTTL (server/lease/lessor.go): a longer TTL is refused. */
export const LEASE_TTL_SECONDS_MAX = 9_000_000_000;

/**
 * etcd revokes at most this many expired leases per second (lessor.go leaseRevokeRate), so a mass
 * expiry cannot flood the log with revokes.
 */
export const LEASE_REVOKE_RATE_PER_SECOND = 1_000;

/** etcd checks for expired leases every 500 ms (lessor.go revokeExpiredLeases). */
export const LEASE_EXPIRY_CHECK_INTERVAL_MS = 500;

/** Revokes to propose per expiry check: the revoke rate spread over the checks of one second. */
export const LEASE_REVOKE_BATCH_MAX = (LEASE_REVOKE_RATE_PER_SECOND * LEASE_EXPIRY_CHECK_INTERVAL_MS) / 1_000;

/**
 * etcd's lease checkpoint interval (default 5 min): how often the leader replicates the remaining
 * TTL of a long lease, so a new leader does not restart it from its full TTL.
 */
export const LEASE_CHECKPOINT_INTERVAL_MS_DEFAULT = 5 * 60 * 1_000;

/** Checkpoints per proposal (etcd's maxLeaseCheckpointBatchSize). */
export const LEASE_CHECKPOINT_BATCH_MAX = 1_000;

/**
 * How long a proposed revoke of an expired lease may take to apply before the leader offers the
 * lease for revoke again (etcd's expiredLeaseRetryInterval, 3 s).
 */
export const LEASE_REVOKE_RETRY_MS_DEFAULT = 3_000;

/**
 * etcd's minimum TTL with its default election timeout of 1 s: ceil(1.5 × election timeout).
 * A shorter lease could expire during a leader election that it cannot be renewed through.
 */
export const LEASE_MIN_TTL_SECONDS_DEFAULT = 2;

/** No lease: a key with lease 0 is attached to none, and 0 is never a lease id. */
export const NO_LEASE = 0n;

/** etcd's lease errors, verbatim (api/v3rpc/rpctypes/error.go). */
export const LEASE_ERRORS = {
  leaseNotFound: ETCD_ERRORS.leaseNotFound,
  leaseExists: { code: 'FailedPrecondition', message: 'etcdserver: lease already exists' },
  ttlTooLarge: { code: 'OutOfRange', message: 'etcdserver: too large lease TTL' },
} as const satisfies Record<string, EtcdError>;

/** A lease as every member holds it (replicated; no expiry: only the leader tracks time). */
export interface LeaseSummary {
  readonly id: bigint;
  /** The TTL granted, in seconds, after raising it to the minimum. KeepAlive renews to this. */
  readonly grantedTtl: number;
  /**
   * The remaining TTL in seconds the leader last checkpointed, 0 when none: a new leader starts
   * the lease from this instead of from `grantedTtl`.
   */
  readonly remainingTtl: number;
  /** Keys attached to the lease. */
  readonly keyCount: number;
}

/** A lease with its attached keys, in byte order. */
export interface LeaseInfo extends LeaseSummary {
  readonly keys: readonly Uint8Array[];
}

/** Sizes for metrics. */
export interface LeaseStoreStats {
  readonly leases: number;
  /** Keys attached to some lease. */
  readonly attachedKeys: number;
}
