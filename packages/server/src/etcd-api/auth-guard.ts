// Authorization of every etcd RPC once auth is enabled, in one place: the gRPC server runs each
// handler through this guard, which checks the caller's token against what the method needs and
// runs the handler knowing who called (so writes carry the requester into the log, where the
// check is repeated at apply time against the auth state of that moment).
import { AsyncLocalStorage } from 'node:async_hooks';
import type { AuthRequester, AuthRequirement, ClusterCommand, LeaseKeysLookup } from '@synod/state';
import type { CallGuard } from '../grpc/call.js';
import { etcdErrorToGrpc } from './auth/auth-service.js';
import { type EtcdAuthorizer, tokenFromMetadata } from './auth/authorizer.js';
import { type AlarmAction, ETCD_AUTH_REQUIREMENTS } from './auth/method-requirements.js';

const caller = new AsyncLocalStorage<{
  readonly requester: AuthRequester | undefined;
  readonly token: string | undefined;
}>();

/** Who the current request runs as (undefined: auth off, or a request the server makes itself). */
export function currentRequester(): AuthRequester | undefined {
  return caller.getStore()?.requester;
}

/** The current request's auth token, to relay it with the request to the leader. */
export function currentToken(): string | undefined {
  return caller.getStore()?.token;
}

const NONE: AuthRequirement = { kind: 'none' };
const AUTHENTICATED: AuthRequirement = { kind: 'authenticated' };
const R = ETCD_AUTH_REQUIREMENTS;

type Requirements = Record<string, (request: never) => AuthRequirement>;

/** By gRPC path. Streams are checked once per call (request undefined): being logged in. */
const REQUIREMENTS: Requirements = {
  '/etcdserverpb.KV/Range': R.KV.Range,
  '/etcdserverpb.KV/Put': R.KV.Put,
  '/etcdserverpb.KV/DeleteRange': R.KV.DeleteRange,
  '/etcdserverpb.KV/Txn': R.KV.Txn,
  '/etcdserverpb.KV/Compact': R.KV.Compact,
  '/etcdserverpb.Watch/Watch': () => AUTHENTICATED,
  '/etcdserverpb.Lease/LeaseGrant': R.Lease.LeaseGrant,
  '/etcdserverpb.Lease/LeaseRevoke': (request: { id: bigint }) => R.Lease.LeaseRevoke({ ID: request.id }),
  '/etcdserverpb.Lease/LeaseKeepAlive': () => AUTHENTICATED,
  '/etcdserverpb.Lease/LeaseTimeToLive': (request: { id: bigint }) =>
    R.Lease.LeaseTimeToLive({ ID: request.id }),
  '/etcdserverpb.Lease/LeaseLeases': () => AUTHENTICATED,
  '/etcdserverpb.Cluster/MemberList': R.Cluster.MemberList,
  '/etcdserverpb.Cluster/MemberAdd': R.Cluster.MemberAdd,
  '/etcdserverpb.Cluster/MemberRemove': R.Cluster.MemberRemove,
  '/etcdserverpb.Cluster/MemberUpdate': R.Cluster.MemberUpdate,
  '/etcdserverpb.Cluster/MemberPromote': R.Cluster.MemberPromote,
  // etcd 3.4 serves Status to anyone (endpoint status and health work before logging in).
  '/etcdserverpb.Maintenance/Status': () => NONE,
  '/etcdserverpb.Maintenance/Alarm': (request: { action: AlarmAction }) => R.Maintenance.Alarm(request),
  '/etcdserverpb.Maintenance/Defragment': R.Maintenance.Defragment,
  '/etcdserverpb.Maintenance/Hash': R.Maintenance.Hash,
  '/etcdserverpb.Maintenance/HashKV': R.Maintenance.HashKV,
  '/etcdserverpb.Maintenance/Snapshot': R.Maintenance.Snapshot,
  '/etcdserverpb.Maintenance/MoveLeader': R.Maintenance.MoveLeader,
  '/v3lockpb.Lock/Lock': () => AUTHENTICATED,
  '/v3lockpb.Lock/Unlock': () => AUTHENTICATED,
};

export interface AuthGuardOptions {
  readonly authorizer: EtcdAuthorizer;
  /** Whether auth is on now (read per call; off, calls run as they are, at no cost). */
  readonly enabled: () => boolean;
  readonly leaseKeys: LeaseKeysLookup;
}

/**
 * The guard for the member's gRPC server. The Auth service checks its own methods (AuthStore.apply
 * knows who may do what); methods not listed here need a logged-in caller while auth is on.
 */
export function createAuthGuard(options: AuthGuardOptions): CallGuard {
  return async (method, request, context, run) => {
    // Off: no async context (it slows every promise on Node 20) and no per-call abort signal.
    if (!options.enabled() || method.startsWith('/etcdserverpb.Auth/')) return run();
    const requirementOf = REQUIREMENTS[method];
    const requirement =
      requirementOf === undefined
        ? AUTHENTICATED
        : request === undefined
          ? AUTHENTICATED
          : requirementOf(request as never);
    const token = tokenFromMetadata(context.metadata);
    const who = await options.authorizer.authorize(token, requirement, {
      leaseKeys: options.leaseKeys,
      signal: context.signal,
    });
    if (!who.ok) throw etcdErrorToGrpc(who.error);
    return caller.run({ requester: who.requester, token }, run);
  };
}

/** What a replicated command needs of its requester, checked again when it is applied. */
export function commandRequirement(command: ClusterCommand): AuthRequirement | undefined {
  switch (command.kind) {
    case 'put':
      return R.KV.Put(command.request);
    case 'deleteRange':
      return R.KV.DeleteRange(command.request);
    case 'txn':
      return R.KV.Txn(command.request);
    case 'compact':
      return R.KV.Compact();
    case 'leaseRevoke':
      return R.Lease.LeaseRevoke({ ID: command.id });
    case 'leaseGrant':
      return R.Lease.LeaseGrant();
    default:
      // Member attributes, alarms, checkpoints: proposed by the server itself or checked at the edge.
      return undefined;
  }
}
