// The etcd v3 messages as the wire carries them, beyond the KV data model of @synod/state: the
// header on every response, and the Maintenance.Status and Cluster.MemberList messages.
// Conventions follow @synod/state's etcd-types.ts: int64 counters and indexes that stay below 2^53
// are `number`; identifiers drawn from the whole 64-bit space (member, cluster, leader ids) are `bigint`.
import type {
  DeleteRangeResponse,
  PutResponse,
  RangeResponse,
  ResponseHeader,
  TxnResponse,
} from '@synod/state';

/** A response as sent: the service's answer plus the header etcd puts on every response. */
export type WithHeader<T> = T & { readonly header: ResponseHeader | undefined };

export type RangeResponseMessage = WithHeader<RangeResponse>;
export type PutResponseMessage = WithHeader<PutResponse>;
export type DeleteRangeResponseMessage = WithHeader<DeleteRangeResponse>;
/** Operations nested in `responses` carry no header of their own here (clients read the top one). */
export type TxnResponseMessage = WithHeader<TxnResponse>;

export interface CompactionResponse {
  readonly header: ResponseHeader | undefined;
}

/** Maintenance.Status takes no arguments. */
export type StatusRequest = Readonly<Record<string, never>>;

export interface StatusResponse {
  readonly header: ResponseHeader | undefined;
  /** The server's version string (etcdctl prints it as the member's version). */
  readonly version: string;
  /** Bytes the member's storage occupies. */
  readonly dbSize: number;
  /** The member this member takes for the leader; 0n when there is none. */
  readonly leader: bigint;
  /** Raft commit index. */
  readonly raftIndex: number;
  readonly raftTerm: number;
  readonly raftAppliedIndex: number;
  /** Alarms and health problems, as text. */
  readonly errors: readonly string[];
  /** Bytes of storage in use. */
  readonly dbSizeInUse: number;
  readonly isLearner: boolean;
}

export interface Member {
  readonly id: bigint;
  /** Empty until the member has started. */
  readonly name: string;
  readonly peerURLs: readonly string[];
  /** Empty until the member has started. */
  readonly clientURLs: readonly string[];
  readonly isLearner: boolean;
}

export interface MemberListRequest {
  /** Answer from the committed membership rather than this member's local view (etcd 3.5+). */
  readonly linearizable: boolean;
}

export interface MemberListResponse {
  readonly header: ResponseHeader | undefined;
  readonly members: readonly Member[];
}
