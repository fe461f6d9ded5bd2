// The server side of leases: grants and revokes go through the Raft log (ClusterState applies
// them), while expiry is the leader's business alone (LeaseExpiryTracker, not replicated). The
// leader renews on keep-alive, proposes revokes for expired leases and checkpoints remaining TTLs;
// followers forward keep-alive and time-to-live to it.
import { randomBytes } from 'node:crypto';
import type { ClusterApplied, ClusterCommand, EtcdError } from '@synod/state';
import {
  LEASE_CHECKPOINT_BATCH_MAX,
  LEASE_ERRORS,
  LEASE_EXPIRY_CHECK_INTERVAL_MS,
  LEASE_REVOKE_BATCH_MAX,
  LEASE_TTL_SECONDS_MAX,
  LeaseExpiryTracker,
} from '@synod/state';
import type { RaftDriver } from '../../raft-driver/raft-driver.js';
import { currentToken } from '../auth-guard.js';
import type { LeaderForwarder } from '../leader-forwarder.js';
import type { StateService } from '../state-service.js';
import type { KeepAliveRelay } from './keep-alive-relay.js';
import {
  decodeLeaseKeepAliveResponse,
  decodeLeaseTimeToLiveResponse,
  encodeLeaseKeepAliveRequest,
  encodeLeaseTimeToLiveRequest,
} from './lease-messages.js';
import type { LeaseBackend, LeaseResult } from './lease-service.js';

/** Random ids that collide with an existing lease before we give up (2^63 ids: never in practice). */
const ID_ATTEMPTS = 8;

export interface LeaseManagerOptions {
  readonly state: StateService;
  readonly driver: () => RaftDriver;
  readonly forwarder: LeaderForwarder;
  /** A new leader extends every lease by this much (etcd: one election timeout). */
  readonly electionTimeoutMs: number;
  readonly requestTimeoutMs: number;
  /** Monotonic milliseconds. */
  readonly now?: () => number;
  /** Relays keep-alives to the leader over one stream (used while auth is off). */
  readonly relay?: KeepAliveRelay;
  /** The auth check for renewing lease `id` (each keep-alive on a stream); undefined: allowed. */
  readonly authorizeKeepAlive?: (id: bigint) => EtcdError | undefined;
}

export class LeaseManager implements LeaseBackend {
  readonly tracker = new LeaseExpiryTracker();
  private readonly options: LeaseManagerOptions;
  private readonly now: () => number;
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(options: LeaseManagerOptions) {
    this.options = options;
    this.now = options.now ?? (() => performance.now());
  }

  start(): void {
    this.timer = setInterval(() => this.onTick(), LEASE_EXPIRY_CHECK_INTERVAL_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** Called for every applied command (the StateService's hook), in log order. */
  onApplied(command: ClusterCommand, outcome: ClusterApplied | { error: EtcdError }): void {
    if ('error' in outcome) return;
    if (command.kind === 'leaseGrant' && outcome.response.kind === 'leaseGrant')
      this.tracker.onGrant(command.id, outcome.response.lease.grantedTtl, this.now());
    else if (command.kind === 'leaseRevoke') this.tracker.onRevoke(command.id);
  }

  /** After a snapshot replaced the state, a leader tracks the leases it holds now. */
  onRestore(): void {
    if (!this.tracker.isLeader) return;
    this.tracker.demote();
    this.syncRole();
  }

  /** Promote on winning leadership, demote on losing it: the tracker follows Raft's role. */
  private syncRole(): boolean {
    const leader = this.options.driver().node.raft.role === 'leader';
    if (leader && !this.tracker.isLeader)
      this.tracker.promote(
        this.now(),
        this.options.state.state.leases.list(),
        this.options.electionTimeoutMs,
      );
    else if (!leader && this.tracker.isLeader) this.tracker.demote();
    return leader;
  }

  private onTick(): void {
    if (!this.syncRole()) return;
    const now = this.now();
    for (const id of this.tracker.expired(now, LEASE_REVOKE_BATCH_MAX)) {
      // Not awaited: a failed revoke comes back from expired() after the tracker's retry time.
      void this.options.state.propose({ kind: 'leaseRevoke', id });
    }
    const checkpoints = this.tracker.checkpointsDue(now, LEASE_CHECKPOINT_BATCH_MAX);
    if (checkpoints.length > 0)
      void this.options.state.propose({
        kind: 'leaseCheckpoint',
        checkpoints: checkpoints.map((checkpoint) => ({
          id: checkpoint.id,
          remainingTtlSeconds: checkpoint.remainingTtlSeconds,
        })),
      });
  }

  async grant(ttlSeconds: number, id: bigint): Promise<LeaseResult<{ id: bigint; ttl: number }>> {
    if (ttlSeconds > LEASE_TTL_SECONDS_MAX) return { ok: false, error: LEASE_ERRORS.ttlTooLarge };
    let chosen = id;
    for (let attempt = 0; chosen === 0n && attempt < ID_ATTEMPTS; attempt++) {
      const candidate = randomLeaseId();
      if (!this.options.state.state.leases.has(candidate)) chosen = candidate;
    }
    const result = await this.options.state.propose({ kind: 'leaseGrant', id: chosen, ttl: ttlSeconds });
    if (!result.ok) return result;
    const response = result.value.response;
    if (response.kind !== 'leaseGrant') throw new Error(`leaseGrant answered ${response.kind}`);
    return { ok: true, value: { id: chosen, ttl: response.lease.grantedTtl }, revision: result.revision };
  }

  async revoke(id: bigint): Promise<LeaseResult<Record<string, never>>> {
    const result = await this.options.state.propose({ kind: 'leaseRevoke', id });
    if (!result.ok) return result;
    return { ok: true, value: {}, revision: result.revision };
  }

  async keepAlive(id: bigint): Promise<LeaseResult<{ ttl: number }>> {
    const refused = this.options.authorizeKeepAlive?.(id);
    if (refused) return { ok: false, error: refused };
    if (this.syncRole()) {
      const renewed = this.tracker.renew(id, this.now());
      if (renewed.ok) {
        // A checkpointed lease renewed to its full TTL: forget the checkpoint everywhere.
        if (renewed.clearCheckpoint)
          void this.options.state.propose({
            kind: 'leaseCheckpoint',
            checkpoints: [{ id, remainingTtlSeconds: 0 }],
          });
        return { ok: true, value: { ttl: renewed.ttlSeconds }, revision: this.options.state.revision };
      }
      if (renewed.reason === 'notFound')
        return { ok: true, value: { ttl: 0 }, revision: this.options.state.revision };
    }
    // Without a token to pass on, keep-alives share one relay stream to the leader.
    if (this.options.relay && currentToken() === undefined) {
      const relayed = await this.options.relay.renew(id);
      if (!relayed.ok) return relayed;
      return { ok: true, value: { ttl: relayed.ttl }, revision: this.options.state.revision };
    }
    const forwarded = await this.options.forwarder.call(
      '/etcdserverpb.Lease/LeaseKeepAlive',
      encodeLeaseKeepAliveRequest({ id }),
      this.options.requestTimeoutMs,
    );
    if (!forwarded.ok) return forwarded;
    const response = decodeLeaseKeepAliveResponse(forwarded.body);
    return {
      ok: true,
      value: { ttl: response.ttl },
      revision: response.header?.revision ?? this.options.state.revision,
    };
  }

  async timeToLive(
    id: bigint,
    withKeys: boolean,
  ): Promise<LeaseResult<{ ttl: number; grantedTtl: number; keys: readonly Uint8Array[] }>> {
    if (this.syncRole()) {
      const lease = this.options.state.state.leases.get(id);
      if (!lease) return { ok: false, error: LEASE_ERRORS.leaseNotFound };
      const remaining = this.tracker.remainingTtlSeconds(id, this.now());
      const ttl = remaining.ok ? remaining.ttlSeconds : -1;
      return {
        ok: true,
        value: { ttl, grantedTtl: lease.grantedTtl, keys: withKeys ? lease.keys : [] },
        revision: this.options.state.revision,
      };
    }
    const forwarded = await this.options.forwarder.call(
      '/etcdserverpb.Lease/LeaseTimeToLive',
      encodeLeaseTimeToLiveRequest({ id, keys: withKeys }),
      this.options.requestTimeoutMs,
    );
    if (!forwarded.ok) return forwarded;
    const response = decodeLeaseTimeToLiveResponse(forwarded.body);
    if (response.ttl === -1 && response.grantedTtl === 0)
      return { ok: false, error: LEASE_ERRORS.leaseNotFound };
    return {
      ok: true,
      value: { ttl: response.ttl, grantedTtl: response.grantedTtl, keys: response.keys },
      revision: response.header?.revision ?? this.options.state.revision,
    };
  }

  async leases(): Promise<LeaseResult<{ ids: readonly bigint[] }>> {
    const error = await this.options.state.linearizableBarrier();
    if (error) return { ok: false, error };
    return {
      ok: true,
      value: { ids: this.options.state.state.leases.list().map((lease) => lease.id) },
      revision: this.options.state.revision,
    };
  }
}

/** etcd picks a random positive int63. */
function randomLeaseId(): bigint {
  const id = randomBytes(8).readBigUInt64BE() & 0x7fff_ffff_ffff_ffffn;
  return id === 0n ? 1n : id;
}
