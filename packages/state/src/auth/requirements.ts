// What each etcd request needs of its requester, and the check, with etcd's error precedence:
// KV ops as authStore.isOpPermitted, management as IsAdminPermitted, "any user" as
// requireAuthInfo, leases as checkLeasePuts / checkLeaseRenew / checkLeaseTimeToLive
// (server/auth/store.go, server/etcdserver/apply/auth.go, server/etcdserver/v3_server.go).
import type { DeleteRangeRequest, EtcdError, PutRequest, RequestOp, TxnRequest } from '../mvcc/etcd-types.js';
import { type AccessType, AUTH_ERRORS, type AuthRequester } from './auth-types.js';

const EMPTY_BYTES = new Uint8Array(0);

/**
 * What a request needs. Build one per request (see the server's method table) and check it at the
 * edge and again when applying.
 */
export type AuthRequirement =
  /** Nothing: Authenticate, AuthStatus, MemberList. A token, even a bad one, is ignored. */
  | { readonly kind: 'none' }
  /** Any user (etcd's requireAuthInfo): Maintenance.Status, Alarm GET, LeaseGrant. */
  | { readonly kind: 'authenticated' }
  /** The root role: auth management, Compact, member changes, Alarm changes, Defragment, Snapshot, Hash, HashKV, MoveLeader, Downgrade. */
  | { readonly kind: 'admin' }
  /** UserGet: the root role, or the user asking about itself. */
  | { readonly kind: 'userGet'; readonly name: string }
  /** RoleGet: the root role, or a user holding that role. */
  | { readonly kind: 'roleGet'; readonly role: string }
  /** Read of a key range: Range, Watch (checked when the watch is created). */
  | { readonly kind: 'range'; readonly key: Uint8Array; readonly rangeEnd: Uint8Array }
  | { readonly kind: 'put'; readonly request: Pick<PutRequest, 'key' | 'prevKv' | 'lease'> }
  | {
      readonly kind: 'deleteRange';
      readonly request: Pick<DeleteRangeRequest, 'key' | 'rangeEnd' | 'prevKv'>;
    }
  /** Read of every compared range, and each op of both branches by its kind, nested txns included. */
  | { readonly kind: 'txn'; readonly request: TxnRequest }
  /** LeaseRevoke, LeaseKeepAlive: write access to every key attached to the lease. */
  | { readonly kind: 'leaseWrite'; readonly leaseId: bigint }
  /** LeaseTimeToLive: read access to every key attached to the lease. */
  | { readonly kind: 'leaseRead'; readonly leaseId: bigint }
  /** LeaseLeases: read access to every key attached to any of these leases. */
  | { readonly kind: 'leaseReadAll'; readonly leaseIds: readonly bigint[] };

/** The keys attached to a lease (none for an unknown lease). */
export type LeaseKeysLookup = (leaseId: bigint) => Iterable<Uint8Array>;

/** What the checks read from the store. */
export interface AuthChecks {
  readonly enabled: boolean;
  readonly authRevision: number;
  isAdmin(username: string): boolean;
  hasRole(username: string, role: string): boolean;
  getUser(username: string): { readonly ok: boolean };
  checkPermission(username: string, key: Uint8Array, rangeEnd: Uint8Array, access: AccessType): boolean;
}

const NO_LEASE_KEYS: LeaseKeysLookup = () => [];

/** Undefined when allowed; otherwise etcd's error for the first check that fails. */
export function checkRequirement(
  store: AuthChecks,
  requester: AuthRequester | undefined,
  requirement: AuthRequirement,
  leaseKeys: LeaseKeysLookup = NO_LEASE_KEYS,
): EtcdError | undefined {
  if (!store.enabled || requirement.kind === 'none') return undefined;
  switch (requirement.kind) {
    case 'authenticated':
      return requester === undefined ? AUTH_ERRORS.userEmpty : undefined;
    case 'admin':
      return checkAdmin(store, requester);
    case 'userGet': {
      const refused = checkAdmin(store, requester);
      return refused !== undefined && requirement.name !== (requester?.username ?? '') ? refused : undefined;
    }
    case 'roleGet': {
      const refused = checkAdmin(store, requester);
      const holdsRole = requester !== undefined && store.hasRole(requester.username, requirement.role);
      return refused !== undefined && !holdsRole ? refused : undefined;
    }
    case 'range':
      return checkAccess(store, requester, requirement.key, requirement.rangeEnd, 'read');
    case 'put':
      return checkPut(store, requester, requirement.request, leaseKeys);
    case 'deleteRange':
      return checkDeleteRange(store, requester, requirement.request);
    case 'txn':
      return checkTxn(store, requester, requirement.request, leaseKeys);
    case 'leaseWrite':
      return checkLeaseKeys(store, requester, leaseKeys(requirement.leaseId), 'write');
    case 'leaseRead':
      return checkLeaseKeys(store, requester, leaseKeys(requirement.leaseId), 'read');
    case 'leaseReadAll':
      return checkLeaseKeys(
        store,
        requester,
        requirement.leaseIds.flatMap((id) => [...leaseKeys(id)]),
        'read',
      );
  }
}

/** etcd's IsAdminPermitted (auth is enabled). */
function checkAdmin(store: AuthChecks, requester: AuthRequester | undefined): EtcdError | undefined {
  if (requester === undefined || requester.username === '') return AUTH_ERRORS.userEmpty;
  if (!store.getUser(requester.username).ok) return AUTH_ERRORS.userNotFound;
  return store.isAdmin(requester.username) ? undefined : AUTH_ERRORS.permissionDenied;
}

/** etcd's isOpPermitted (auth is enabled): who, how recent, then the key range. */
export function checkAccess(
  store: AuthChecks,
  requester: AuthRequester | undefined,
  key: Uint8Array,
  rangeEnd: Uint8Array,
  access: AccessType,
): EtcdError | undefined {
  if (requester === undefined || requester.authRevision === 0) return AUTH_ERRORS.userEmpty;
  if (requester.authRevision < store.authRevision) return AUTH_ERRORS.authOldRevision;
  return store.checkPermission(requester.username, key, rangeEnd, access)
    ? undefined
    : AUTH_ERRORS.permissionDenied;
}

function checkPut(
  store: AuthChecks,
  requester: AuthRequester | undefined,
  request: Pick<PutRequest, 'key' | 'prevKv' | 'lease'>,
  leaseKeys: LeaseKeysLookup,
): EtcdError | undefined {
  const refused = checkAccess(store, requester, request.key, EMPTY_BYTES, 'write');
  if (refused !== undefined) return refused;
  // Attaching a lease whose keys the user could not write would let it revoke them.
  if (request.lease !== 0n) {
    const leaseRefused = checkLeaseKeys(store, requester, leaseKeys(request.lease), 'write');
    if (leaseRefused !== undefined) return leaseRefused;
  }
  return request.prevKv ? checkAccess(store, requester, request.key, EMPTY_BYTES, 'read') : undefined;
}

function checkDeleteRange(
  store: AuthChecks,
  requester: AuthRequester | undefined,
  request: Pick<DeleteRangeRequest, 'key' | 'rangeEnd' | 'prevKv'>,
): EtcdError | undefined {
  const refused = checkAccess(store, requester, request.key, request.rangeEnd, 'write');
  if (refused !== undefined || !request.prevKv) return refused;
  return checkAccess(store, requester, request.key, request.rangeEnd, 'read');
}

function checkTxn(
  store: AuthChecks,
  requester: AuthRequester | undefined,
  request: TxnRequest,
  leaseKeys: LeaseKeysLookup,
): EtcdError | undefined {
  for (const compare of request.compare) {
    const refused = checkAccess(store, requester, compare.key, compare.rangeEnd, 'read');
    if (refused !== undefined) return refused;
  }
  for (const op of [...request.success, ...request.failure]) {
    const refused = checkOp(store, requester, op, leaseKeys);
    if (refused !== undefined) return refused;
  }
  return undefined;
}

function checkOp(
  store: AuthChecks,
  requester: AuthRequester | undefined,
  op: RequestOp,
  leaseKeys: LeaseKeysLookup,
): EtcdError | undefined {
  switch (op.kind) {
    case 'range':
      return checkAccess(store, requester, op.request.key, op.request.rangeEnd, 'read');
    case 'put':
      return checkPut(store, requester, op.request, leaseKeys);
    case 'deleteRange':
      return checkDeleteRange(store, requester, op.request);
    case 'txn':
      return checkTxn(store, requester, op.request, leaseKeys);
  }
}

/**
 * The lease checks: a user (stricter than etcd, which lets anyone revoke or renew a lease with
 * no keys attached), then the root role or access to every attached key.
 */
function checkLeaseKeys(
  store: AuthChecks,
  requester: AuthRequester | undefined,
  keys: Iterable<Uint8Array>,
  access: AccessType,
): EtcdError | undefined {
  if (requester === undefined) return AUTH_ERRORS.userEmpty;
  if (store.isAdmin(requester.username)) return undefined;
  for (const key of keys) {
    const refused = checkAccess(store, requester, key, EMPTY_BYTES, access);
    if (refused !== undefined) return refused;
  }
  return undefined;
}
