// LeaseExpiryTracker: the leader-only half of etcd's lessor. It knows when each lease expires,
// renews leases on KeepAlive, hands out expired leases for the leader to revoke through the log,
// and schedules checkpoints of long leases' remaining TTL. Nothing here is replicated: a new
// leader rebuilds it from the LeaseStore with promote(). Time is injected as monotonic
// milliseconds; the tracker never reads a clock.
import { type Deadline, DeadlineHeap } from './deadline-heap.js';
import {
  LEASE_CHECKPOINT_INTERVAL_MS_DEFAULT,
  LEASE_REVOKE_RATE_PER_SECOND,
  LEASE_REVOKE_RETRY_MS_DEFAULT,
  type LeaseSummary,
} from './lease-types.js';

export interface LeaseExpiryTrackerOptions {
  /** How often a long lease's remaining TTL is checkpointed. Default 5 min (etcd's). */
  readonly checkpointIntervalMs?: number;
  /** How long a proposed revoke may take to apply before the lease is offered again. Default 3 s. */
  readonly revokeRetryMs?: number;
}

/** What promote() needs of each lease: LeaseStore.list() gives it. */
export type TrackedLeaseSource = Pick<LeaseSummary, 'id' | 'grantedTtl' | 'remainingTtl'>;

export type LeaseRenewResult =
  | {
      readonly ok: true;
      /** The lease's granted TTL, which KeepAlive answers with. */
      readonly ttlSeconds: number;
      /**
       * The store holds a checkpointed remaining TTL: propose checkpoint(id, 0), or a later leader
       * would start the renewed lease from that stale remainder (etcd does the same).
       */
      readonly clearCheckpoint: boolean;
    }
  | { readonly ok: false; readonly reason: 'notLeader' | 'notFound' };

export type LeaseTimeToLiveResult =
  | {
      readonly ok: true;
      /** Whole seconds left, rounded down as etcd does; -1 for an expired or unknown lease. */
      readonly ttlSeconds: number;
    }
  | { readonly ok: false; readonly reason: 'notLeader' };

/** A remaining TTL to replicate: propose it, and LeaseStore.checkpoint applies it. */
export interface LeaseCheckpoint {
  readonly id: bigint;
  readonly remainingTtlSeconds: number;
}

interface TrackedLease {
  readonly id: bigint;
  readonly grantedTtl: number;
  expiryMs: number;
  /** Set once the lease was handed out for revoke: when to hand it out again if it is still here. */
  revokeRetryAtMs: number | undefined;
  /** The current expiry-heap entry's token; older entries of this lease are stale. */
  expiryToken: number;
  /** When the next checkpoint is due; undefined for leases too short to need one. */
  checkpointDueMs: number | undefined;
  checkpointToken: number;
  /** The store holds a remaining TTL for this lease (a checkpoint was issued since the last renewal). */
  checkpointed: boolean;
}

/** Stale heap entries tolerated beyond the live ones before a rebuild (amortizes the O(n) rebuild). */
const HEAP_SLACK_ENTRIES = 1_024;
const MS_PER_SECOND = 1_000;

/**
 * Leader-side lease expiry, driven by the caller's clock.
 *
 * @example
 * const tracker = new LeaseExpiryTracker();
 * tracker.promote(clock.nowMs(), leases.list(), electionTimeoutMs); // on becoming leader
 * tracker.renew(id, clock.nowMs());                                  // KeepAlive
 * for (const id of tracker.expired(clock.nowMs(), LEASE_REVOKE_BATCH_MAX)) proposeRevoke(id);
 * tracker.demote();                                                  // on losing leadership
 */
export class LeaseExpiryTracker {
  readonly checkpointIntervalMs: number;
  readonly revokeRetryMs: number;
  private leader = false;
  private readonly leases = new Map<bigint, TrackedLease>();
  private readonly expiryHeap = new DeadlineHeap();
  private readonly checkpointHeap = new DeadlineHeap();
  private lastNowMs = Number.NEGATIVE_INFINITY;
  /**
   * Tokens are unique across leases and time: a lease revoked and granted again under the same id
   * must not mistake its predecessor's heap entries for its own.
   */
  private lastToken = 0;

  constructor(options: LeaseExpiryTrackerOptions = {}) {
    this.checkpointIntervalMs = options.checkpointIntervalMs ?? LEASE_CHECKPOINT_INTERVAL_MS_DEFAULT;
    this.revokeRetryMs = options.revokeRetryMs ?? LEASE_REVOKE_RETRY_MS_DEFAULT;
    assertPositiveMs(this.checkpointIntervalMs, 'checkpointIntervalMs');
    assertPositiveMs(this.revokeRetryMs, 'revokeRetryMs');
  }

  get isLeader(): boolean {
    return this.leader;
  }

  /** Leases tracked (0 while not leader). */
  get size(): number {
    return this.leases.size;
  }

  /** Heap entries, stale ones included: stays within a constant factor of `size`. */
  get heapEntries(): number {
    return this.expiryHeap.size + this.checkpointHeap.size;
  }

  /**
   * Starts tracking every lease on becoming leader. A lease expires no earlier than now + its
   * checkpointed remaining TTL (or its granted TTL) + `extendMs`: etcd extends by one election
   * timeout, so no lease expires early because its holder's keep-alives went to the old leader.
   */
  promote(nowMs: number, leases: Iterable<TrackedLeaseSource>, extendMs: number): void {
    this.advanceClock(nowMs);
    if (this.leader) throw new Error('promote: the tracker is already a leader’s');
    if (!Number.isSafeInteger(extendMs) || extendMs < 0)
      throw new RangeError(`extendMs ${extendMs} is invalid`);
    this.leader = true;
    for (const source of leases) {
      if (this.leases.has(source.id)) throw new Error(`promote: lease ${source.id} is listed twice`);
      const ttlSeconds = source.remainingTtl > 0 ? source.remainingTtl : source.grantedTtl;
      const lease = this.track(source.id, source.grantedTtl, nowMs + ttlSeconds * MS_PER_SECOND + extendMs);
      lease.checkpointed = source.remainingTtl > 0;
      if (Math.max(ttlSeconds, source.grantedTtl) * MS_PER_SECOND > this.checkpointIntervalMs) {
        lease.checkpointDueMs = nowMs + this.checkpointIntervalMs;
      }
    }
    this.rebuildHeaps();
  }

  /** Forgets every expiry on losing leadership; the next leader measures from its own promote. */
  demote(): void {
    this.leader = false;
    this.leases.clear();
    this.expiryHeap.clear();
    this.checkpointHeap.clear();
  }

  /** A grant applied (call on every member; ignored unless leader). `ttlSeconds` is the granted TTL. */
  onGrant(id: bigint, ttlSeconds: number, nowMs: number): void {
    this.advanceClock(nowMs);
    if (!this.leader) return;
    if (this.leases.has(id)) throw new Error(`onGrant: lease ${id} is already tracked`);
    const lease = this.track(id, ttlSeconds, nowMs + ttlSeconds * MS_PER_SECOND);
    this.pushExpiry(lease);
    if (ttlSeconds * MS_PER_SECOND > this.checkpointIntervalMs) {
      lease.checkpointDueMs = nowMs + this.checkpointIntervalMs;
      this.pushCheckpoint(lease);
    }
  }

  /** A revoke applied (call on every member; ignored unless leader). Unknown ids are fine. */
  onRevoke(id: bigint): void {
    // Heap entries of the lease become stale: their lease is gone.
    this.leases.delete(id);
  }

  /** KeepAlive: restarts the lease's full granted TTL from now. */
  renew(id: bigint, nowMs: number): LeaseRenewResult {
    this.advanceClock(nowMs);
    if (!this.leader) return { ok: false, reason: 'notLeader' };
    const lease = this.leases.get(id);
    if (lease === undefined || !this.alive(lease, nowMs)) return { ok: false, reason: 'notFound' };
    lease.expiryMs = nowMs + lease.grantedTtl * MS_PER_SECOND;
    this.pushExpiry(lease);
    const clearCheckpoint = lease.checkpointed;
    lease.checkpointed = false;
    return { ok: true, ttlSeconds: lease.grantedTtl, clearCheckpoint };
  }

  /** TimeToLive's TTL: whole seconds left, -1 once expired or unknown. */
  remainingTtlSeconds(id: bigint, nowMs: number): LeaseTimeToLiveResult {
    this.advanceClock(nowMs);
    if (!this.leader) return { ok: false, reason: 'notLeader' };
    const lease = this.leases.get(id);
    if (lease === undefined || !this.alive(lease, nowMs)) return { ok: true, ttlSeconds: -1 };
    return { ok: true, ttlSeconds: Math.floor((lease.expiryMs - nowMs) / MS_PER_SECOND) };
  }

  /**
   * Up to `maxBatch` expired leases for the leader to revoke, earliest expiry first. Each is marked
   * "revoke in flight": it is not handed out again unless it is still tracked `revokeRetryMs`
   * later (the proposal was lost). Costs O((returned + stale) × log n), never a scan.
   * Call every LEASE_EXPIRY_CHECK_INTERVAL_MS with LEASE_REVOKE_BATCH_MAX to revoke at etcd's rate.
   */
  expired(nowMs: number, maxBatch: number): bigint[] {
    this.advanceClock(nowMs);
    assertBatch(maxBatch, LEASE_REVOKE_RATE_PER_SECOND);
    const due: bigint[] = [];
    if (!this.leader) return due;
    for (;;) {
      const top = this.expiryHeap.peek();
      if (top === undefined || top.dueMs > nowMs || due.length >= maxBatch) break;
      this.expiryHeap.pop();
      const lease = this.leases.get(top.id);
      if (lease === undefined || lease.expiryToken !== top.token) continue;
      due.push(lease.id);
      lease.revokeRetryAtMs = nowMs + this.revokeRetryMs;
      this.pushExpiry(lease);
    }
    return due;
  }

  /**
   * Checkpoints due now, at most `maxBatch` (etcd uses LEASE_CHECKPOINT_BATCH_MAX): the remaining
   * TTL of long leases that have used part of it. Each lease is scheduled again one interval later.
   */
  checkpointsDue(nowMs: number, maxBatch: number): LeaseCheckpoint[] {
    this.advanceClock(nowMs);
    assertBatch(maxBatch, Number.MAX_SAFE_INTEGER);
    const due: LeaseCheckpoint[] = [];
    if (!this.leader) return due;
    for (;;) {
      const top = this.checkpointHeap.peek();
      if (top === undefined || top.dueMs > nowMs || due.length >= maxBatch) break;
      this.checkpointHeap.pop();
      const lease = this.leases.get(top.id);
      if (lease === undefined || lease.checkpointToken !== top.token || !this.alive(lease, nowMs)) continue;
      lease.checkpointDueMs = nowMs + this.checkpointIntervalMs;
      this.pushCheckpoint(lease);
      // Rounded up, as etcd does: a checkpoint never shortens a lease by a fraction of a second.
      const remainingTtlSeconds = Math.ceil((lease.expiryMs - nowMs) / MS_PER_SECOND);
      if (remainingTtlSeconds >= lease.grantedTtl) continue;
      lease.checkpointed = true;
      due.push({ id: lease.id, remainingTtlSeconds });
    }
    return due;
  }

  private alive(lease: TrackedLease, nowMs: number): boolean {
    return lease.revokeRetryAtMs === undefined && lease.expiryMs > nowMs;
  }

  private track(id: bigint, grantedTtl: number, expiryMs: number): TrackedLease {
    if (!Number.isSafeInteger(grantedTtl) || grantedTtl < 1) {
      throw new RangeError(`lease ${id} has granted TTL ${grantedTtl}`);
    }
    const lease: TrackedLease = {
      id,
      grantedTtl,
      expiryMs,
      revokeRetryAtMs: undefined,
      expiryToken: ++this.lastToken,
      checkpointDueMs: undefined,
      checkpointToken: ++this.lastToken,
      checkpointed: false,
    };
    this.leases.set(id, lease);
    return lease;
  }

  private pushExpiry(lease: TrackedLease): void {
    lease.expiryToken = ++this.lastToken;
    this.expiryHeap.push(expiryDeadline(lease));
    if (this.expiryHeap.size > 2 * this.leases.size + HEAP_SLACK_ENTRIES) this.rebuildHeaps();
  }

  private pushCheckpoint(lease: TrackedLease): void {
    lease.checkpointToken = ++this.lastToken;
    this.checkpointHeap.push(checkpointDeadline(lease));
    if (this.checkpointHeap.size > 2 * this.leases.size + HEAP_SLACK_ENTRIES) this.rebuildHeaps();
  }

  /** Both heaps from the live leases only, in O(n). */
  private rebuildHeaps(): void {
    const expiries: Deadline[] = [];
    const checkpoints: Deadline[] = [];
    for (const lease of this.leases.values()) {
      expiries.push(expiryDeadline(lease));
      if (lease.checkpointDueMs !== undefined) checkpoints.push(checkpointDeadline(lease));
    }
    this.expiryHeap.rebuild(expiries);
    this.checkpointHeap.rebuild(checkpoints);
  }

  private advanceClock(nowMs: number): void {
    if (!Number.isFinite(nowMs) || nowMs < this.lastNowMs) {
      throw new RangeError(`time went from ${this.lastNowMs} ms to ${nowMs} ms: pass a monotonic clock`);
    }
    this.lastNowMs = nowMs;
  }
}

function expiryDeadline(lease: TrackedLease): Deadline {
  return { dueMs: lease.revokeRetryAtMs ?? lease.expiryMs, id: lease.id, token: lease.expiryToken };
}

function checkpointDeadline(lease: TrackedLease): Deadline {
  if (lease.checkpointDueMs === undefined) throw new Error(`lease ${lease.id} has no checkpoint scheduled`);
  return { dueMs: lease.checkpointDueMs, id: lease.id, token: lease.checkpointToken };
}

function assertPositiveMs(value: number, name: string): void {
  if (!Number.isSafeInteger(value) || value < 1)
    throw new RangeError(`${name} must be a positive integer, got ${value}`);
}

function assertBatch(maxBatch: number, limit: number): void {
  if (!Number.isSafeInteger(maxBatch) || maxBatch < 1 || maxBatch > limit) {
    throw new RangeError(`maxBatch must be an integer in 1..${limit}, got ${maxBatch}`);
  }
}
