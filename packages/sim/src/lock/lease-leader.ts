// The leader-only half of leases on one simulated member, wired as the server wires it
// (packages/state/src/lease/README.md): a LeaseExpiryTracker promoted when the leader applies
// the first (empty) entry of its term, demoted when it stops leading, fed by the member's own
// skewed, drifting clock, and polled every LEASE_EXPIRY_CHECK_INTERVAL_MS of that clock.
import {
  type ClusterApplied,
  type ClusterCommand,
  type ClusterState,
  LEASE_CHECKPOINT_BATCH_MAX,
  LEASE_EXPIRY_CHECK_INTERVAL_MS,
  LEASE_REVOKE_BATCH_MAX,
  type LeaseCheckpoint,
  LeaseExpiryTracker,
} from '@synod/state';
import type { LeaseAuditSink } from './lease-audit.js';

/** Deliberately broken lease handling, for showing that check 3 can fail. */
export type LeaseMutation =
  /** promote() without the election-timeout extension. */
  | 'promote-without-extension'
  /** The tracker reads true (virtual) time instead of the member's own clock. */
  | 'expiry-by-wall-time'
  /** The leader never proposes revokes for expired leases. */
  | 'leader-never-revokes';

export interface LeaseLeaderOptions {
  /** etcd extends every lease by one election timeout when a new leader takes over. */
  readonly promoteExtensionMs: number;
  readonly checkpointIntervalMs: number;
  readonly mutations: ReadonlySet<LeaseMutation>;
}

/** Commands the leader's lease loop wants proposed. */
export interface LeaseProposals {
  readonly revokes: readonly bigint[];
  readonly checkpoints: readonly LeaseCheckpoint[];
}

export type KeepAliveAnswer =
  | { readonly kind: 'renewed'; readonly ttlSeconds: number; readonly clearCheckpoint: boolean }
  | { readonly kind: 'notFound' }
  | { readonly kind: 'notLeader' };

const NOTHING_TO_PROPOSE: LeaseProposals = { revokes: [], checkpoints: [] };

export class LeaseLeader {
  private readonly node: string;
  private readonly localClock: { now(): number };
  private readonly wallClock: { readonly now: number };
  private readonly audit: LeaseAuditSink;
  private readonly options: LeaseLeaderOptions;
  private readonly tracker: LeaseExpiryTracker;
  private promotedTerm = -1;
  private nextCheckAtMs = Number.NEGATIVE_INFINITY;

  constructor(
    node: string,
    localClock: { now(): number },
    wallClock: { readonly now: number },
    audit: LeaseAuditSink,
    options: LeaseLeaderOptions,
  ) {
    this.node = node;
    this.localClock = localClock;
    this.wallClock = wallClock;
    this.audit = audit;
    this.options = options;
    this.tracker = new LeaseExpiryTracker({ checkpointIntervalMs: options.checkpointIntervalMs });
  }

  get isLeader(): boolean {
    return this.tracker.isLeader;
  }

  /**
   * The leader applied its term's first entry: every lease of earlier terms is in `state` now
   * (etcd promotes its lessor at the same point).
   */
  promote(term: number, state: ClusterState): void {
    if (this.tracker.isLeader) this.demote();
    const leases = state.leases.list();
    const nowMs = this.localClock.now();
    const extendMs = this.options.mutations.has('promote-without-extension')
      ? 0
      : this.options.promoteExtensionMs;
    this.tracker.promote(this.trackerNow(nowMs), leases, extendMs);
    this.audit.promoted(this.node, nowMs, leases);
    this.promotedTerm = term;
    this.nextCheckAtMs = nowMs + LEASE_EXPIRY_CHECK_INTERVAL_MS;
  }

  /** Called after every step: leadership of the promoted term is over once role or term moved. */
  observeRole(role: string, term: number): void {
    if (this.tracker.isLeader && (role !== 'leader' || term !== this.promotedTerm)) this.demote();
  }

  demote(): void {
    if (!this.tracker.isLeader) return;
    this.tracker.demote();
    this.audit.demoted(this.node);
    this.promotedTerm = -1;
  }

  /** A committed command was applied on this member (every member calls; only a leader acts). */
  applied(command: ClusterCommand, result: ClusterApplied | { error: unknown }): void {
    if ('error' in result) return;
    if (command.kind === 'leaseGrant' && result.response.kind === 'leaseGrant') {
      const nowMs = this.localClock.now();
      const { grantedTtl } = result.response.lease;
      this.tracker.onGrant(command.id, grantedTtl, this.trackerNow(nowMs));
      if (this.tracker.isLeader) this.audit.granted(this.node, command.id, grantedTtl, nowMs);
    } else if (command.kind === 'leaseRevoke') {
      this.tracker.onRevoke(command.id);
      this.audit.revoked(this.node, command.id);
    }
  }

  keepAlive(lease: bigint): KeepAliveAnswer {
    const nowMs = this.localClock.now();
    const renewed = this.tracker.renew(lease, this.trackerNow(nowMs));
    if (!renewed.ok) return renewed.reason === 'notLeader' ? { kind: 'notLeader' } : { kind: 'notFound' };
    this.audit.renewed(this.node, lease, nowMs);
    return { kind: 'renewed', ttlSeconds: renewed.ttlSeconds, clearCheckpoint: renewed.clearCheckpoint };
  }

  /** On every tick: every LEASE_EXPIRY_CHECK_INTERVAL_MS of the local clock, what to propose. */
  tick(): LeaseProposals {
    if (!this.tracker.isLeader) return NOTHING_TO_PROPOSE;
    const nowMs = this.localClock.now();
    if (nowMs < this.nextCheckAtMs) return NOTHING_TO_PROPOSE;
    this.nextCheckAtMs = nowMs + LEASE_EXPIRY_CHECK_INTERVAL_MS;
    const trackerNowMs = this.trackerNow(nowMs);
    const expired = this.tracker.expired(trackerNowMs, LEASE_REVOKE_BATCH_MAX);
    const revokes = this.options.mutations.has('leader-never-revokes') ? [] : expired;
    for (const lease of revokes) this.audit.expiryProposed(this.node, lease, nowMs);
    const checkpoints = this.tracker.checkpointsDue(trackerNowMs, LEASE_CHECKPOINT_BATCH_MAX);
    return { revokes, checkpoints };
  }

  private trackerNow(localNowMs: number): number {
    return this.options.mutations.has('expiry-by-wall-time') ? this.wallClock.now : localNowMs;
  }
}
