// What the Lock and Election services need from the rest of the server: the replicated KV store
// (Txn and linearizable Range), watches on it, and lease grants. etcd runs both services as
// clients of its own KV, Watch and Lease APIs (the client/v3/concurrency recipes); so do we, which
// keeps a lock taken here and one taken by `etcdctl lock` (the same recipe, client-side) exclusive.
import type { EtcdError, KvEvent, RangeRequest, RangeResponse, TxnRequest, TxnResponse } from '@synod/state';

/** An answer and the store revision after it (for a write) or at which it was served (for a read). */
export type KvAnswer<T> =
  | { readonly ok: true; readonly value: T; readonly revision: number }
  | { readonly ok: false; readonly error: EtcdError };

/** What a watch delivers: events in revision order, or the reason it stopped (then it ends). */
export type WatchUpdate =
  | { readonly kind: 'events'; readonly events: readonly KvEvent[] }
  | { readonly kind: 'canceled'; readonly error: EtcdError };

/**
 * The server side the Lock and Election services run on. The lead's implementation proposes
 * through Raft (txn), reads through ReadIndex (range), feeds the watch hub (watch) and grants
 * through the Lease service's backend (grantLease).
 *
 * @example
 * const answer = await backend.range({ ...rangeOf(key), serializable: false });
 * if (answer.ok) console.log(answer.value.kvs.length, 'at revision', answer.revision);
 */
export interface ConcurrencyBackend {
  /**
   * A Txn with KV.Txn's semantics, answered once applied. Puts with a lease that does not exist
   * fail with etcd's `etcdserver: requested lease not found`, as KV.Txn does.
   */
  txn(request: TxnRequest): Promise<KvAnswer<TxnResponse>>;
  /** A Range with KV.Range's semantics (linearizable unless `serializable`). */
  range(request: RangeRequest): Promise<KvAnswer<RangeResponse>>;
  /**
   * The events of keys in [key, rangeEnd) (rangeEnd as in Range) from `startRevision` (inclusive)
   * on, as Watch delivers them: in revision order, none missed. Ends when `signal` aborts (without
   * throwing) or after a `canceled` update (a compacted start revision, a server shutting down).
   * Buffering per watch is the backend's to bound; past its bound it cancels the watch.
   */
  watch(
    key: Uint8Array,
    rangeEnd: Uint8Array,
    startRevision: number,
    signal: AbortSignal,
  ): AsyncIterable<WatchUpdate>;
  /**
   * Grants a lease with a server-chosen id. Lock and Campaign with lease 0 need one: etcd then opens
   * a session of its own, whose lease (60 s) it never renews.
   */
  grantLease(
    ttlSeconds: number,
  ): Promise<{ readonly ok: true; readonly id: bigint } | { readonly ok: false; readonly error: EtcdError }>;
}
