// LeaseStore: the replicated half of etcd's lessor. Every member applies grants, revokes and
// checkpoints in log order and follows the MVCC store's events to know which keys each lease
// holds. Pure: no clock (expiry is the leader's business, see LeaseExpiryTracker), no I/O.
import { compareBytes } from '../mvcc/bytes.js';
import type { EtcdError, KvEvent } from '../mvcc/etcd-types.js';
import {
  decodeLeaseSnapshot,
  encodeLeaseSnapshot,
  LeaseSnapshotError,
  type SnapshotLease,
} from './lease-snapshot.js';
import {
  LEASE_ERRORS,
  LEASE_MIN_TTL_SECONDS_DEFAULT,
  LEASE_TTL_SECONDS_MAX,
  type LeaseInfo,
  type LeaseStoreStats,
  type LeaseSummary,
  NO_LEASE,
} from './lease-types.js';

export interface LeaseStoreOptions {
  /**
   * Shorter TTLs are raised to this, in seconds, as etcd raises them to ceil(1.5 × election
   * timeout). Every member must use the same value: it decides the replicated grantedTtl.
   * Default LEASE_MIN_TTL_SECONDS_DEFAULT (2 s, for etcd's default 1 s election timeout).
   */
  readonly minTtlSeconds?: number;
}

export type LeaseGrantResult = { readonly lease: LeaseSummary } | { readonly error: EtcdError };

/** A revoked lease's keys, ascending: delete them all in one MVCC txn, so the revoke is one revision. */
export type LeaseRevokeResult = { readonly keys: readonly Uint8Array[] } | { readonly error: EtcdError };

interface StoredLease {
  readonly id: bigint;
  readonly grantedTtl: number;
  remainingTtl: number;
  /**
   * Attached keys, by their string form (see keyId); undefined while there are none. Most leases
   * hold no key or few (a lease per session), and an empty Map costs about 200 bytes.
   */
  keys: Map<string, Uint8Array> | undefined;
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
/** Bytes turned into characters per String.fromCharCode call (its argument count is bounded). */
const KEY_ID_CHUNK_BYTES = 8_192;

/**
 * The leases of one Raft group and the keys attached to each.
 *
 * @example
 * const leases = new LeaseStore({ minTtlSeconds: 2 });
 * leases.grant(7n, 10);                    // { lease: { id: 7n, grantedTtl: 10, remainingTtl: 0, keyCount: 0 } }
 * leases.observe(mvcc.apply(putWithLease7).events);
 * const revoked = leases.revoke(7n);       // { keys: [the key] } → delete them in one MVCC txn
 */
export class LeaseStore {
  readonly minTtlSeconds: number;
  private readonly leases = new Map<bigint, StoredLease>();
  private readonly leaseOfKey = new Map<string, bigint>();

  constructor(options: LeaseStoreOptions = {}) {
    const minTtlSeconds = options.minTtlSeconds ?? LEASE_MIN_TTL_SECONDS_DEFAULT;
    if (!Number.isSafeInteger(minTtlSeconds) || minTtlSeconds < 1 || minTtlSeconds > LEASE_TTL_SECONDS_MAX) {
      throw new RangeError(
        `minTtlSeconds must be an integer in 1..${LEASE_TTL_SECONDS_MAX}, got ${minTtlSeconds}`,
      );
    }
    this.minTtlSeconds = minTtlSeconds;
  }

  /** @throws LeaseSnapshotError when the bytes are damaged or of an unknown format. */
  static restore(bytes: Uint8Array, options: LeaseStoreOptions = {}): LeaseStore {
    const store = new LeaseStore(options);
    for (const lease of decodeLeaseSnapshot(bytes)) store.restoreLease(lease);
    return store;
  }

  get stats(): LeaseStoreStats {
    return { leases: this.leases.size, attachedKeys: this.leaseOfKey.size };
  }

  /**
   * Grants lease `id` (chosen by the proposer, never 0) for `ttlSeconds`, raised to the minimum.
   * Errors as etcd's lessor: id 0 → lease not found; TTL over LEASE_TTL_SECONDS_MAX → too large;
   * an existing id → lease already exists.
   */
  grant(id: bigint, ttlSeconds: number): LeaseGrantResult {
    assertLeaseId(id);
    assertInteger(ttlSeconds, 'ttlSeconds');
    if (id === NO_LEASE) return { error: LEASE_ERRORS.leaseNotFound };
    if (ttlSeconds > LEASE_TTL_SECONDS_MAX) return { error: LEASE_ERRORS.ttlTooLarge };
    if (this.leases.has(id)) return { error: LEASE_ERRORS.leaseExists };
    const lease: StoredLease = {
      id,
      grantedTtl: Math.max(ttlSeconds, this.minTtlSeconds),
      remainingTtl: 0,
      keys: undefined,
    };
    this.leases.set(id, lease);
    return { lease: summarize(lease) };
  }

  /** Forgets lease `id` and detaches its keys, which the caller deletes (one MVCC txn). */
  revoke(id: bigint): LeaseRevokeResult {
    assertLeaseId(id);
    const lease = this.leases.get(id);
    if (lease === undefined) return { error: LEASE_ERRORS.leaseNotFound };
    this.leases.delete(id);
    if (lease.keys !== undefined)
      for (const keyString of lease.keys.keys()) this.leaseOfKey.delete(keyString);
    return { keys: sortedKeys(lease) };
  }

  /**
   * Records the remaining TTL the leader measured (etcd's lease checkpoint); 0 clears it, as a
   * renewal does. A lease revoked before its checkpoint applied is skipped: returns false.
   */
  checkpoint(id: bigint, remainingTtlSeconds: number): boolean {
    assertLeaseId(id);
    assertInteger(remainingTtlSeconds, 'remainingTtlSeconds');
    if (remainingTtlSeconds < 0 || remainingTtlSeconds > LEASE_TTL_SECONDS_MAX) {
      throw new RangeError(`remaining TTL ${remainingTtlSeconds} s is outside 0..${LEASE_TTL_SECONDS_MAX}`);
    }
    const lease = this.leases.get(id);
    if (lease === undefined) return false;
    lease.remainingTtl = remainingTtlSeconds;
    return true;
  }

  /**
   * Keeps attachments in step with the MVCC store: call with the events of every applied write,
   * in order. A PUT moves its key to the lease it names (none for 0); a DELETE detaches the key.
   * Returns how many PUTs named a lease this store does not hold: they stay unattached. The apply
   * path must refuse such writes before the MVCC store applies them (etcd answers "requested
   * lease not found"); a non-zero count means it did not.
   */
  observe(events: readonly KvEvent[]): number {
    let unknownLeases = 0;
    for (const event of events) {
      const next = event.type === 'PUT' ? event.kv.lease : NO_LEASE;
      // Most writes touch keys without leases: then no key needs naming (keyId costs on every put).
      if (next === NO_LEASE && this.leaseOfKey.size === 0) continue;
      const keyString = keyId(event.kv.key);
      if ((this.leaseOfKey.get(keyString) ?? NO_LEASE) === next) continue;
      this.detach(keyString);
      if (next === NO_LEASE) continue;
      const lease = this.leases.get(next);
      if (lease === undefined) {
        unknownLeases++;
        continue;
      }
      // A copy: the event's bytes belong to the caller.
      lease.keys ??= new Map();
      lease.keys.set(keyString, new Uint8Array(event.kv.key));
      this.leaseOfKey.set(keyString, lease.id);
    }
    return unknownLeases;
  }

  has(id: bigint): boolean {
    return this.leases.has(id);
  }

  /** The lease with its keys in byte order, or undefined. */
  get(id: bigint): LeaseInfo | undefined {
    const lease = this.leases.get(id);
    if (lease === undefined) return undefined;
    return { ...summarize(lease), keys: sortedKeys(lease) };
  }

  /** The lease a key is attached to, NO_LEASE when none. */
  leaseOf(key: Uint8Array): bigint {
    return this.leaseOfKey.get(keyId(key)) ?? NO_LEASE;
  }

  /** Every lease, ascending by id. */
  list(): LeaseSummary[] {
    return [...this.leases.values()].sort(byId).map(summarize);
  }

  snapshot(): Uint8Array {
    const leases: SnapshotLease[] = [...this.leases.values()].sort(byId).map((lease) => ({
      id: lease.id,
      grantedTtl: lease.grantedTtl,
      remainingTtl: lease.remainingTtl,
      keys: sortedKeys(lease),
    }));
    return encodeLeaseSnapshot(leases, this.leaseOfKey.size);
  }

  private detach(keyString: string): void {
    const previous = this.leaseOfKey.get(keyString);
    if (previous === undefined) return;
    this.leaseOfKey.delete(keyString);
    const lease = this.leases.get(previous);
    if (lease === undefined)
      throw new Error(`key attached to lease ${previous}, which the store does not hold`);
    lease.keys?.delete(keyString);
    if (lease.keys?.size === 0) lease.keys = undefined;
  }

  private restoreLease(decoded: SnapshotLease): void {
    let keys: Map<string, Uint8Array> | undefined;
    for (const key of decoded.keys) {
      const keyString = keyId(key);
      if (this.leaseOfKey.has(keyString)) {
        throw new LeaseSnapshotError(
          'corrupt',
          `a key of lease ${decoded.id} is also attached to another lease`,
        );
      }
      keys ??= new Map();
      keys.set(keyString, key);
      this.leaseOfKey.set(keyString, decoded.id);
    }
    const { id, grantedTtl, remainingTtl } = decoded;
    this.leases.set(id, { id, grantedTtl, remainingTtl, keys });
  }
}

function summarize(lease: StoredLease): LeaseSummary {
  return {
    id: lease.id,
    grantedTtl: lease.grantedTtl,
    remainingTtl: lease.remainingTtl,
    keyCount: lease.keys?.size ?? 0,
  };
}

function sortedKeys(lease: StoredLease): Uint8Array[] {
  return lease.keys === undefined ? [] : [...lease.keys.values()].sort(compareBytes);
}

function byId(a: StoredLease, b: StoredLease): number {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** A key as a Map key: one character per byte, so distinct keys give distinct strings. */
function keyId(key: Uint8Array): string {
  if (key.length <= KEY_ID_CHUNK_BYTES) return String.fromCharCode(...key);
  let text = '';
  for (let start = 0; start < key.length; start += KEY_ID_CHUNK_BYTES) {
    text += String.fromCharCode(...key.subarray(start, start + KEY_ID_CHUNK_BYTES));
  }
  return text;
}

/** Lease ids are int64 on the wire; anything else is a caller's bug. */
function assertLeaseId(id: bigint): void {
  if (id < INT64_MIN || id > INT64_MAX) throw new RangeError(`lease id ${id} does not fit in int64`);
}

function assertInteger(value: number, name: string): void {
  if (!Number.isSafeInteger(value)) throw new RangeError(`${name} must be a safe integer, got ${value}`);
}
