// What travels on the lock scenario's client network: clients' requests to cluster members and
// their answers, and fenced writes to the storage service and its acknowledgements.
import type { ClusterCommand, ClusterResponse, EtcdError, RangeRequest, RangeResponse } from '@synod/state';

export type NodeRequest =
  /** A replicated command (lease grant/revoke, lock txn): answered once applied. */
  | { readonly kind: 'propose'; readonly requestId: string; readonly command: ClusterCommand }
  /** Ranges served together at one revision after a ReadIndex round (linearizable). */
  | { readonly kind: 'read'; readonly requestId: string; readonly ranges: readonly RangeRequest[] }
  /** LeaseKeepAlive: served by the leader's expiry tracker, not replicated. */
  | { readonly kind: 'keepAlive'; readonly requestId: string; readonly lease: bigint };

export type NodeReply =
  | {
      readonly kind: 'applied';
      readonly requestId: string;
      readonly revision: number;
      readonly response: ClusterResponse;
    }
  /** Applied, and the state machine refused it (e.g. the lease is gone): a definite answer. */
  | { readonly kind: 'refused'; readonly requestId: string; readonly error: EtcdError }
  | {
      readonly kind: 'read';
      readonly requestId: string;
      readonly revision: number;
      readonly responses: readonly RangeResponse[];
    }
  /** etcd answers a keep-alive of an unknown or expired lease with TTL 0. */
  | { readonly kind: 'keepAlive'; readonly requestId: string; readonly ttlSeconds: number }
  /** Not served here; `leader` is a hint ('' when unknown). Nothing was proposed. */
  | { readonly kind: 'notLeader'; readonly requestId: string; readonly leader: string }
  /** Definitely not applied (the entry was replaced) or the read was dropped: safe to retry. */
  | { readonly kind: 'failed'; readonly requestId: string; readonly reason: string };

/** A write to the fenced storage service, carrying the writer's fencing token. */
export interface ResourceWrite {
  readonly writeId: string;
  readonly resource: string;
  readonly token: number;
  /** Who believes it holds the lock: `client#cycle`. */
  readonly holder: string;
}

export interface ResourceAck {
  readonly writeId: string;
  readonly accepted: boolean;
  /** The highest token the resource had seen when it answered. */
  readonly highestToken: number;
}

export type ClientNetworkMessage =
  | { readonly kind: 'request'; readonly request: NodeRequest }
  | { readonly kind: 'reply'; readonly reply: NodeReply }
  | { readonly kind: 'write'; readonly write: ResourceWrite }
  | { readonly kind: 'writeAck'; readonly ack: ResourceAck };

/** The storage service's address on the client network. */
export const RESOURCE_ID = 'resource';
