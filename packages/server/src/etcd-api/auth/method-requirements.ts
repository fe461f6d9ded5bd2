// What each etcd v3 RPC needs of its caller once auth is enabled, by service and method, as
// etcd 3.6 checks it (server/etcdserver/apply/auth.go, api/v3rpc/maintenance.go, v3_server.go).
// The Auth service's own methods are checked by the auth service (AuthStore.apply).
import type { AuthRequirement, DeleteRangeRequest, PutRequest, RangeRequest, TxnRequest } from '@synod/state';

const NONE: AuthRequirement = { kind: 'none' };
const AUTHENTICATED: AuthRequirement = { kind: 'authenticated' };
const ADMIN: AuthRequirement = { kind: 'admin' };

/** Maintenance.Alarm actions (etcdserverpb.AlarmRequest.AlarmAction). */
export type AlarmAction = 'GET' | 'ACTIVATE' | 'DEACTIVATE';

/**
 * @example
 * const requirement = ETCD_AUTH_REQUIREMENTS.KV.Range(request);
 * const who = await authorizer.authorize(tokenFromMetadata(context.metadata), requirement);
 */
export const ETCD_AUTH_REQUIREMENTS = {
  KV: {
    Range: (request: Pick<RangeRequest, 'key' | 'rangeEnd'>): AuthRequirement => ({
      kind: 'range',
      key: request.key,
      rangeEnd: request.rangeEnd,
    }),
    Put: (request: Pick<PutRequest, 'key' | 'prevKv' | 'lease'>): AuthRequirement => ({
      kind: 'put',
      request,
    }),
    DeleteRange: (request: Pick<DeleteRangeRequest, 'key' | 'rangeEnd' | 'prevKv'>): AuthRequirement => ({
      kind: 'deleteRange',
      request,
    }),
    Txn: (request: TxnRequest): AuthRequirement => ({ kind: 'txn', request }),
    /** Root only since etcd 3.6 (3.4 let anyone compact); we take the stricter rule. */
    Compact: (): AuthRequirement => ADMIN,
  },
  Watch: {
    /** Checked when each watch is created; a refusal cancels that watch (created and canceled, watch_id -1). */
    Create: (request: { key: Uint8Array; rangeEnd: Uint8Array }): AuthRequirement => ({
      kind: 'range',
      key: request.key,
      rangeEnd: request.rangeEnd,
    }),
  },
  Lease: {
    LeaseGrant: (): AuthRequirement => AUTHENTICATED,
    LeaseRevoke: (request: { ID: bigint }): AuthRequirement => ({ kind: 'leaseWrite', leaseId: request.ID }),
    /** Checked for every keep-alive request on the stream. */
    LeaseKeepAlive: (request: { ID: bigint }): AuthRequirement => ({
      kind: 'leaseWrite',
      leaseId: request.ID,
    }),
    LeaseTimeToLive: (request: { ID: bigint }): AuthRequirement => ({
      kind: 'leaseRead',
      leaseId: request.ID,
    }),
    /** Pass every live lease's id: the caller must be able to read every attached key. */
    LeaseLeases: (leaseIds: readonly bigint[]): AuthRequirement => ({ kind: 'leaseReadAll', leaseIds }),
  },
  Cluster: {
    MemberList: (): AuthRequirement => NONE,
    MemberAdd: (): AuthRequirement => ADMIN,
    MemberRemove: (): AuthRequirement => ADMIN,
    MemberUpdate: (): AuthRequirement => ADMIN,
    MemberPromote: (): AuthRequirement => ADMIN,
  },
  Maintenance: {
    Status: (): AuthRequirement => AUTHENTICATED,
    Alarm: (request: { action: AlarmAction }): AuthRequirement =>
      request.action === 'GET' ? AUTHENTICATED : ADMIN,
    Defragment: (): AuthRequirement => ADMIN,
    Hash: (): AuthRequirement => ADMIN,
    HashKV: (): AuthRequirement => ADMIN,
    Snapshot: (): AuthRequirement => ADMIN,
    MoveLeader: (): AuthRequirement => ADMIN,
    Downgrade: (): AuthRequirement => ADMIN,
  },
} as const;
