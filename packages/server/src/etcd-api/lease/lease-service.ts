// etcd's Lease gRPC service, thin (STYLE §4): the codecs decode, a LeaseBackend does the work
// (proposing through Raft, asking the leader's expiry tracker), these handlers add etcd's response
// header and map EtcdErrors to gRPC statuses with etcd's exact messages. Where etcd answers a
// missing lease with a value rather than an error (KeepAlive: TTL 0; TimeToLive: TTL -1), so do we.
import type { EtcdError, ResponseHeader } from '@synod/state';
import { LEASE_ERRORS } from '@synod/state';
import { bidiStreaming, type ServerStreamCall, unary } from '../../grpc/methods.js';
import type { GrpcServer } from '../../grpc/server.js';
import { etcdErrorToGrpc } from '../etcd-grpc-error.js';
import {
  LEASE_METHOD_CODECS,
  type LeaseKeepAliveRequest,
  type LeaseKeepAliveResponse,
  type LeaseTimeToLiveResponse,
} from './lease-messages.js';
import { answerInOrder } from './ordered-pipeline.js';

/**
 * Keep-alives one LeaseKeepAlive stream may have being answered at once. Clients send one per
 * lease every TTL/3, so a stream rarely has more than a few; past this, reading the stream pauses
 * (HTTP/2 flow control pushes back) rather than queueing renewals without bound.
 */
export const LEASE_KEEPALIVE_IN_FLIGHT_MAX = 16;

/** An answer and the store revision it was served at (for the response header), or etcd's error. */
export type LeaseResult<T> =
  | { readonly ok: true; readonly value: T; readonly revision: number }
  | { readonly ok: false; readonly error: EtcdError };

/**
 * What the Lease service needs from the rest of the server. Implemented over Raft: grant, revoke
 * and checkpoints are replicated commands applied to @synod/state's LeaseStore; keepAlive and
 * timeToLive are answered by the leader's LeaseExpiryTracker (forwarded there from followers).
 */
export interface LeaseBackend {
  /**
   * Grants a lease. `id` 0n: the backend picks one (etcd picks a random positive int63). Errors:
   * LEASE_ERRORS.leaseExists, LEASE_ERRORS.ttlTooLarge, or an availability error (no leader, timeout).
   */
  grant(ttlSeconds: number, id: bigint): Promise<LeaseResult<{ readonly id: bigint; readonly ttl: number }>>;
  /** Revokes a lease and deletes its keys at one revision. Unknown: LEASE_ERRORS.leaseNotFound. */
  revoke(id: bigint): Promise<LeaseResult<Record<string, never>>>;
  /**
   * Renews a lease to its granted TTL. An unknown or expired lease answers ttl 0 (etcd's answer;
   * the leaseNotFound error is accepted too and answered the same way).
   */
  keepAlive(id: bigint): Promise<LeaseResult<{ readonly ttl: number }>>;
  /**
   * Seconds left (-1 for an unknown or expired lease; the leaseNotFound error is answered the
   * same way), the granted TTL and, when `withKeys`, the attached keys.
   */
  timeToLive(
    id: bigint,
    withKeys: boolean,
  ): Promise<
    LeaseResult<{ readonly ttl: number; readonly grantedTtl: number; readonly keys: readonly Uint8Array[] }>
  >;
  /** Every lease's id. */
  leases(): Promise<LeaseResult<{ readonly ids: readonly bigint[] }>>;
}

/** Live figures of the service, for metrics. */
export interface LeaseServiceStats {
  /** Open LeaseKeepAlive streams. */
  readonly keepAliveStreams: number;
  /** Keep-alives being answered or waiting to be sent, over all streams. */
  readonly keepAlivesInFlight: number;
}

/** The status etcd answers an EtcdError with: its code, its exact message. */
export const leaseGrpcError = etcdErrorToGrpc;

function unwrap<T>(result: LeaseResult<T>): { value: T; revision: number } {
  if (!result.ok) throw leaseGrpcError(result.error);
  return { value: result.value, revision: result.revision };
}

function isLeaseNotFound(result: LeaseResult<unknown>): boolean {
  return !result.ok && result.error.message === LEASE_ERRORS.leaseNotFound.message;
}

/**
 * Registers `etcdserverpb.Lease` on `grpc`. `header` builds the response header for a revision
 * (cluster and member ids, Raft term), as the KV service's does.
 *
 * @example
 * const lease = registerLeaseService(grpc, backend, (revision) => ({ clusterId, memberId, revision, raftTerm }));
 * metrics.keepAliveStreams.set(lease.stats.keepAliveStreams);
 */
export function registerLeaseService(
  grpc: GrpcServer,
  backend: LeaseBackend,
  header: (revision: number) => ResponseHeader,
): { readonly stats: LeaseServiceStats } {
  const counters = { keepAliveStreams: 0, inFlight: 0 };
  const codecs = LEASE_METHOD_CODECS;
  grpc.addService('etcdserverpb.Lease', {
    LeaseGrant: unary(codecs.LeaseGrant, async (request) => {
      const { value, revision } = unwrap(await backend.grant(request.ttl, request.id));
      return { header: header(revision), id: value.id, ttl: value.ttl, error: '' };
    }),
    LeaseRevoke: unary(codecs.LeaseRevoke, async (request) => {
      const { revision } = unwrap(await backend.revoke(request.id));
      return { header: header(revision) };
    }),
    LeaseKeepAlive: bidiStreaming(codecs.LeaseKeepAlive, async (requests, call) => {
      counters.keepAliveStreams++;
      try {
        await serveKeepAlives(requests, call, backend, header, counters);
      } finally {
        counters.keepAliveStreams--;
      }
    }),
    LeaseTimeToLive: unary(codecs.LeaseTimeToLive, async (request): Promise<LeaseTimeToLiveResponse> => {
      const result = await backend.timeToLive(request.id, request.keys);
      // etcd answers an unknown lease with TTL -1 rather than an error (v3rpc/lease.go).
      if (isLeaseNotFound(result))
        return { header: header(0), id: request.id, ttl: -1, grantedTtl: 0, keys: [] };
      const { value, revision } = unwrap(result);
      const keys = request.keys ? value.keys : [];
      return { header: header(revision), id: request.id, ttl: value.ttl, grantedTtl: value.grantedTtl, keys };
    }),
    LeaseLeases: unary(codecs.LeaseLeases, async () => {
      const { value, revision } = unwrap(await backend.leases());
      return { header: header(revision), leases: value.ids.map((id) => ({ id })) };
    }),
  });
  return {
    stats: {
      get keepAliveStreams() {
        return counters.keepAliveStreams;
      },
      get keepAlivesInFlight() {
        return counters.inFlight;
      },
    },
  };
}

/**
 * One LeaseKeepAlive stream: every request renewed, answered in order, at most
 * LEASE_KEEPALIVE_IN_FLIGHT_MAX at once. An unknown lease answers TTL 0 (etcd's behaviour); any
 * other error ends the stream with its status, as etcd's does. Client half-close ends the call
 * once the answers are sent; cancellation drops them.
 */
function serveKeepAlives(
  requests: AsyncIterable<LeaseKeepAliveRequest>,
  call: ServerStreamCall<LeaseKeepAliveResponse>,
  backend: LeaseBackend,
  header: (revision: number) => ResponseHeader,
  stats: { inFlight: number },
): Promise<void> {
  const renew = async (request: LeaseKeepAliveRequest): Promise<LeaseKeepAliveResponse> => {
    const result = await backend.keepAlive(request.id);
    if (isLeaseNotFound(result)) return { header: header(0), id: request.id, ttl: 0 };
    const { value, revision } = unwrap(result);
    return { header: header(revision), id: request.id, ttl: value.ttl };
  };
  // call.signal: a client's cancel can look like a half-close to the request iteration, and
  // pending renewals must not keep a dead stream open.
  return answerInOrder(requests, renew, (response) => call.send(response), {
    inFlightMax: LEASE_KEEPALIVE_IN_FLIGHT_MAX,
    stats,
    signal: call.signal,
  });
}
