// The etcd v3 KV data model and requests as plain TypeScript values (etcd's api/etcdserverpb and
// api/mvccpb messages, field for field, in camelCase). The MVCC store consumes and produces these;
// the server's protobuf codec maps them to and from the wire. Keys and values are bytes.
//
// Numbers: revisions, versions, counts and limits are int64 on the wire but stay far below 2^53,
// so they are `number`. Identifiers drawn from the whole 64-bit space (lease ids, member and
// cluster ids) are `bigint`.

export interface KeyValue {
  readonly key: Uint8Array;
  /** Revision of the key's last creation. */
  readonly createRevision: number;
  /** Revision of the key's last modification. */
  readonly modRevision: number;
  /** Modifications since creation (1 after creation; a deleted key has none). */
  readonly version: number;
  readonly value: Uint8Array;
  /** Attached lease id, 0n for none. */
  readonly lease: bigint;
}

export interface ResponseHeader {
  readonly clusterId: bigint;
  readonly memberId: bigint;
  /** The store's revision when the request was served. */
  readonly revision: number;
  readonly raftTerm: number;
}

export type SortOrder = 'NONE' | 'ASCEND' | 'DESCEND';
export type SortTarget = 'KEY' | 'VERSION' | 'CREATE' | 'MOD' | 'VALUE';

export interface RangeRequest {
  readonly key: Uint8Array;
  /** Empty: the single key. `\0`: every key ≥ key. Otherwise the half-open interval [key, rangeEnd). */
  readonly rangeEnd: Uint8Array;
  /** 0 = no limit. */
  readonly limit: number;
  /** ≤ 0 = the latest revision. */
  readonly revision: number;
  readonly sortOrder: SortOrder;
  readonly sortTarget: SortTarget;
  readonly serializable: boolean;
  readonly keysOnly: boolean;
  readonly countOnly: boolean;
  /** 0 = no bound. */
  readonly minModRevision: number;
  readonly maxModRevision: number;
  readonly minCreateRevision: number;
  readonly maxCreateRevision: number;
}

/**
 * A RangeRequest with etcd's defaults (the one key `key`, at the latest revision, linearizable,
 * unsorted, unlimited), changed by `options`.
 */
export function rangeRequest(key: Uint8Array, options: Partial<RangeRequest> = {}): RangeRequest {
  return {
    key,
    rangeEnd: NO_RANGE_END,
    limit: 0,
    revision: 0,
    sortOrder: 'NONE',
    sortTarget: 'KEY',
    serializable: false,
    keysOnly: false,
    countOnly: false,
    minModRevision: 0,
    maxModRevision: 0,
    minCreateRevision: 0,
    maxCreateRevision: 0,
    ...options,
  };
}

const NO_RANGE_END = new Uint8Array(0);

export interface RangeResponse {
  readonly kvs: readonly KeyValue[];
  /** More keys matched than `limit` returned. */
  readonly more: boolean;
  /** Keys in the range (before limit). */
  readonly count: number;
}

export interface PutRequest {
  readonly key: Uint8Array;
  readonly value: Uint8Array;
  readonly lease: bigint;
  readonly prevKv: boolean;
  readonly ignoreValue: boolean;
  readonly ignoreLease: boolean;
}

export interface PutResponse {
  readonly prevKv: KeyValue | undefined;
}

export interface DeleteRangeRequest {
  readonly key: Uint8Array;
  readonly rangeEnd: Uint8Array;
  readonly prevKv: boolean;
}

export interface DeleteRangeResponse {
  readonly deleted: number;
  readonly prevKvs: readonly KeyValue[];
}

export type CompareResult = 'EQUAL' | 'GREATER' | 'LESS' | 'NOT_EQUAL';
export type CompareTarget = 'VERSION' | 'CREATE' | 'MOD' | 'VALUE' | 'LEASE';

/** One condition of a Txn. The operand matching `target` is the one compared. */
export interface Compare {
  readonly result: CompareResult;
  readonly target: CompareTarget;
  readonly key: Uint8Array;
  /** When non-empty, every key in [key, rangeEnd) must satisfy the comparison. */
  readonly rangeEnd: Uint8Array;
  readonly version: number;
  readonly createRevision: number;
  readonly modRevision: number;
  readonly value: Uint8Array;
  readonly lease: bigint;
}

export type RequestOp =
  | { readonly kind: 'range'; readonly request: RangeRequest }
  | { readonly kind: 'put'; readonly request: PutRequest }
  | { readonly kind: 'deleteRange'; readonly request: DeleteRangeRequest }
  | { readonly kind: 'txn'; readonly request: TxnRequest };

export type ResponseOp =
  | { readonly kind: 'range'; readonly response: RangeResponse }
  | { readonly kind: 'put'; readonly response: PutResponse }
  | { readonly kind: 'deleteRange'; readonly response: DeleteRangeResponse }
  | { readonly kind: 'txn'; readonly response: TxnResponse };

export interface TxnRequest {
  readonly compare: readonly Compare[];
  readonly success: readonly RequestOp[];
  readonly failure: readonly RequestOp[];
}

export interface TxnResponse {
  readonly succeeded: boolean;
  readonly responses: readonly ResponseOp[];
}

export interface CompactionRequest {
  readonly revision: number;
  readonly physical: boolean;
}

/** A write the replicated log carries: exactly what the KV service applies, in order. */
export type KvWriteRequest =
  | { readonly kind: 'put'; readonly request: PutRequest }
  | { readonly kind: 'deleteRange'; readonly request: DeleteRangeRequest }
  | { readonly kind: 'txn'; readonly request: TxnRequest }
  | { readonly kind: 'compact'; readonly request: CompactionRequest };

export type KvWriteResponse =
  | { readonly kind: 'put'; readonly response: PutResponse }
  | { readonly kind: 'deleteRange'; readonly response: DeleteRangeResponse }
  | { readonly kind: 'txn'; readonly response: TxnResponse }
  | { readonly kind: 'compact' };

export type EventType = 'PUT' | 'DELETE';

/** What a write did, for watchers: a Txn's events all carry its one revision. */
export interface KvEvent {
  readonly type: EventType;
  /** For DELETE: the key with modRevision = the deletion revision and empty value. */
  readonly kv: KeyValue;
  readonly prevKv: KeyValue | undefined;
}

/** gRPC status codes etcd answers with (the subset the KV API uses). */
export type EtcdErrorCode =
  | 'InvalidArgument'
  | 'OutOfRange'
  | 'ResourceExhausted'
  | 'NotFound'
  | 'FailedPrecondition'
  | 'PermissionDenied'
  | 'Unauthenticated'
  | 'Unavailable'
  | 'DataLoss'
  | 'Canceled';

/**
 * An error clients see, with etcd's exact message (clients match on the text, e.g. the etcd3 npm
 * client). Expected outcomes are returned as this value; it is never thrown inside the store.
 */
export interface EtcdError {
  readonly code: EtcdErrorCode;
  readonly message: string;
}

/** etcd's messages, verbatim: clients depend on them. */
export const ETCD_ERRORS = {
  emptyKey: { code: 'InvalidArgument', message: 'etcdserver: key is not provided' },
  keyNotFound: { code: 'InvalidArgument', message: 'etcdserver: key not found' },
  valueProvided: { code: 'InvalidArgument', message: 'etcdserver: value is provided' },
  leaseProvided: { code: 'InvalidArgument', message: 'etcdserver: lease is provided' },
  tooManyOps: { code: 'InvalidArgument', message: 'etcdserver: too many operations in txn request' },
  duplicateKey: { code: 'InvalidArgument', message: 'etcdserver: duplicate key given in txn request' },
  requestTooLarge: { code: 'InvalidArgument', message: 'etcdserver: request is too large' },
  invalidSortOption: { code: 'InvalidArgument', message: 'etcdserver: invalid sort option' },
  compacted: { code: 'OutOfRange', message: 'etcdserver: mvcc: required revision has been compacted' },
  futureRevision: { code: 'OutOfRange', message: 'etcdserver: mvcc: required revision is a future revision' },
  noSpace: { code: 'ResourceExhausted', message: 'etcdserver: mvcc: database space exceeded' },
  tooManyRequests: { code: 'ResourceExhausted', message: 'etcdserver: too many requests' },
  leaseNotFound: { code: 'NotFound', message: 'etcdserver: requested lease not found' },
  memberNotFound: { code: 'NotFound', message: 'etcdserver: member not found' },
  notLeader: { code: 'FailedPrecondition', message: 'etcdserver: not leader' },
  learnerNotSupported: { code: 'FailedPrecondition', message: 'etcdserver: rpc not supported for learner' },
  noLeader: { code: 'Unavailable', message: 'etcdserver: no leader' },
  leaderChanged: { code: 'Unavailable', message: 'etcdserver: leader changed' },
  timeout: { code: 'Unavailable', message: 'etcdserver: request timed out' },
  stopped: { code: 'Unavailable', message: 'etcdserver: server stopped' },
  corrupt: { code: 'DataLoss', message: 'etcdserver: corrupt cluster' },
  canceled: { code: 'Canceled', message: 'etcdserver: request canceled' },
} as const satisfies Record<string, EtcdError>;

/** etcd's defaults for request limits. */
export const ETCD_LIMITS = {
  /** --max-request-bytes */
  maxRequestBytes: 1_572_864,
  /** --max-txn-ops */
  maxTxnOps: 128,
} as const;
