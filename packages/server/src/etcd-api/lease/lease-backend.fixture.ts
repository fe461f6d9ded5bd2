// A LeaseBackend for tests: one member that is always leader, with @synod/state's LeaseStore and
// LeaseExpiryTracker applied directly (no Raft), on the real monotonic clock. It shows the calls
// the server's backend makes in what order, without the log in between.
import { LEASE_ERRORS, LeaseExpiryTracker, LeaseStore, type LeaseStoreOptions } from '@synod/state';
import type { LeaseBackend, LeaseResult } from './lease-service.js';

/** What tests can make the backend do besides answering. */
export interface LeaseBackendHooks {
  /** Runs before each keep-alive is answered (to delay or fail it). */
  beforeKeepAlive?: (id: bigint) => Promise<void>;
}

const ELECTION_TIMEOUT_MS = 1_000;

export class InMemoryLeaseBackend implements LeaseBackend {
  readonly store: LeaseStore;
  readonly tracker = new LeaseExpiryTracker();
  /** Every call, as `method id`, in order. */
  readonly calls: string[] = [];
  hooks: LeaseBackendHooks = {};
  revision = 1;
  private nextId = 0x694d_0000_0000_0001n;
  private readonly nowMs: () => number;

  constructor(options: LeaseStoreOptions = {}, nowMs: () => number = () => performance.now()) {
    this.store = new LeaseStore(options);
    this.nowMs = nowMs;
    this.tracker.promote(this.nowMs(), [], ELECTION_TIMEOUT_MS);
  }

  /** Attaches `key` to lease `id` as an applied put would (what KV.Put with a lease does). */
  attach(id: bigint, key: Uint8Array): LeaseResult<Record<string, never>> {
    if (!this.store.has(id)) return { ok: false, error: LEASE_ERRORS.leaseNotFound };
    this.revision++;
    const kv = {
      key,
      createRevision: this.revision,
      modRevision: this.revision,
      version: 1,
      value: key,
      lease: id,
    };
    this.store.observe([{ type: 'PUT', kv, prevKv: undefined }]);
    return { ok: true, value: {}, revision: this.revision };
  }

  async grant(ttlSeconds: number, id: bigint): ReturnType<LeaseBackend['grant']> {
    this.calls.push(`grant ${id}`);
    const chosen = id === 0n ? this.nextId++ : id;
    const granted = this.store.grant(chosen, ttlSeconds);
    if ('error' in granted) return { ok: false, error: granted.error };
    this.tracker.onGrant(chosen, granted.lease.grantedTtl, this.nowMs());
    return { ok: true, value: { id: chosen, ttl: granted.lease.grantedTtl }, revision: this.revision };
  }

  async revoke(id: bigint): ReturnType<LeaseBackend['revoke']> {
    this.calls.push(`revoke ${id}`);
    const revoked = this.store.revoke(id);
    if ('error' in revoked) return { ok: false, error: revoked.error };
    this.tracker.onRevoke(id);
    if (revoked.keys.length > 0) this.revision++;
    return { ok: true, value: {}, revision: this.revision };
  }

  async keepAlive(id: bigint): ReturnType<LeaseBackend['keepAlive']> {
    this.calls.push(`keepAlive ${id}`);
    await this.hooks.beforeKeepAlive?.(id);
    const renewed = this.tracker.renew(id, this.nowMs());
    return { ok: true, value: { ttl: renewed.ok ? renewed.ttlSeconds : 0 }, revision: this.revision };
  }

  async timeToLive(id: bigint, withKeys: boolean): ReturnType<LeaseBackend['timeToLive']> {
    this.calls.push(`timeToLive ${id}`);
    const lease = this.store.get(id);
    const left = this.tracker.remainingTtlSeconds(id, this.nowMs());
    if (lease === undefined || !left.ok) return { ok: false, error: LEASE_ERRORS.leaseNotFound };
    const keys = withKeys ? lease.keys : [];
    return {
      ok: true,
      value: { ttl: left.ttlSeconds, grantedTtl: lease.grantedTtl, keys },
      revision: this.revision,
    };
  }

  async leases(): ReturnType<LeaseBackend['leases']> {
    this.calls.push('leases');
    return { ok: true, value: { ids: this.store.list().map((lease) => lease.id) }, revision: this.revision };
  }
}
