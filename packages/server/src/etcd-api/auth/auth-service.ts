// The etcdserverpb.Auth gRPC service, thin (STYLE §4): the codecs decode, an AuthBackend does the
// work, the handler adds etcd's response header and turns EtcdErrors into gRPC statuses with
// etcd's exact messages.
import type { AuthCommandValues, EtcdError, ResponseHeader } from '@synod/state';
import { unary } from '../../grpc/methods.js';
import type { GrpcServer } from '../../grpc/server.js';
import { etcdErrorToGrpc } from '../etcd-grpc-error.js';
import {
  type AuthEmptyRequest,
  type AuthenticateRequest,
  type AuthMethodName,
  type AuthRequestOf,
  type AuthRoleAddRequest,
  type AuthRoleGrantPermissionRequest,
  type AuthRoleNameRequest,
  type AuthRoleRevokePermissionRequest,
  type AuthUserAddRequest,
  type AuthUserChangePasswordRequest,
  type AuthUserGrantRoleRequest,
  type AuthUserNameRequest,
  type AuthUserRevokeRoleRequest,
  authMethodCodec,
} from './auth-messages.js';
import { tokenFromMetadata } from './authorizer.js';

/** Who is calling, as the handler hands it to the backend. */
export interface AuthCaller {
  /** The token from the call's metadata (`token`), undefined when none was sent. */
  readonly token: string | undefined;
  /** Aborted when the client cancels, the deadline passes or the server stops. */
  readonly signal: AbortSignal;
}

/**
 * A backend's answer: the response body and the KV store revision to put in the header, or the
 * etcd error to answer with.
 */
export type AuthBackendResult<T> =
  | { readonly ok: true; readonly value: T; readonly revision: number }
  | { readonly ok: false; readonly error: EtcdError };

type Answer<K extends keyof AuthCommandValues> = Promise<AuthBackendResult<AuthCommandValues[K]>>;

/**
 * What the Auth service needs: one method per RPC, taking the decoded request and the caller.
 * `AuthEdge` implements it over a proposer (the member's Raft log); any other implementation must
 * give etcd's answers: the checks of `AuthStore.apply`, hashing before proposing, and the
 * authenticate flow described on `AuthEdge.authenticate`.
 */
export interface AuthBackend {
  authEnable(request: AuthEmptyRequest, caller: AuthCaller): Answer<'authEnable'>;
  authDisable(request: AuthEmptyRequest, caller: AuthCaller): Answer<'authDisable'>;
  authStatus(request: AuthEmptyRequest, caller: AuthCaller): Answer<'authStatus'>;
  authenticate(request: AuthenticateRequest, caller: AuthCaller): Answer<'authenticate'>;
  userAdd(request: AuthUserAddRequest, caller: AuthCaller): Answer<'userAdd'>;
  userGet(request: AuthUserNameRequest, caller: AuthCaller): Answer<'userGet'>;
  userList(request: AuthEmptyRequest, caller: AuthCaller): Answer<'userList'>;
  userDelete(request: AuthUserNameRequest, caller: AuthCaller): Answer<'userDelete'>;
  userChangePassword(
    request: AuthUserChangePasswordRequest,
    caller: AuthCaller,
  ): Answer<'userChangePassword'>;
  userGrantRole(request: AuthUserGrantRoleRequest, caller: AuthCaller): Answer<'userGrantRole'>;
  userRevokeRole(request: AuthUserRevokeRoleRequest, caller: AuthCaller): Answer<'userRevokeRole'>;
  roleAdd(request: AuthRoleAddRequest, caller: AuthCaller): Answer<'roleAdd'>;
  roleGet(request: AuthRoleNameRequest, caller: AuthCaller): Answer<'roleGet'>;
  roleList(request: AuthEmptyRequest, caller: AuthCaller): Answer<'roleList'>;
  roleDelete(request: AuthRoleNameRequest, caller: AuthCaller): Answer<'roleDelete'>;
  roleGrantPermission(
    request: AuthRoleGrantPermissionRequest,
    caller: AuthCaller,
  ): Answer<'roleGrantPermission'>;
  roleRevokePermission(
    request: AuthRoleRevokePermissionRequest,
    caller: AuthCaller,
  ): Answer<'roleRevokePermission'>;
}

export { etcdErrorToGrpc };

/** Backend method names by RPC name. */
const BACKEND_METHOD: { readonly [M in AuthMethodName]: keyof AuthBackend } = {
  AuthEnable: 'authEnable',
  AuthDisable: 'authDisable',
  AuthStatus: 'authStatus',
  Authenticate: 'authenticate',
  UserAdd: 'userAdd',
  UserGet: 'userGet',
  UserList: 'userList',
  UserDelete: 'userDelete',
  UserChangePassword: 'userChangePassword',
  UserGrantRole: 'userGrantRole',
  UserRevokeRole: 'userRevokeRole',
  RoleAdd: 'roleAdd',
  RoleGet: 'roleGet',
  RoleList: 'roleList',
  RoleDelete: 'roleDelete',
  RoleGrantPermission: 'roleGrantPermission',
  RoleRevokePermission: 'roleRevokePermission',
};

/**
 * Registers `etcdserverpb.Auth` on `grpc`.
 *
 * @example
 * registerAuthService(grpc, new AuthEdge({ store, authorizer, hasher, propose }), (revision) => ({
 *   clusterId, memberId, revision, raftTerm: raft.term,
 * }));
 */
export function registerAuthService(
  grpc: GrpcServer,
  backend: AuthBackend,
  header: (revision: number) => ResponseHeader,
): void {
  const methods = Object.fromEntries(
    (Object.keys(BACKEND_METHOD) as AuthMethodName[]).map((name) => [
      name,
      authHandler(name, backend, header),
    ]),
  );
  grpc.addService('etcdserverpb.Auth', methods);
}

function authHandler<M extends AuthMethodName>(
  name: M,
  backend: AuthBackend,
  header: (revision: number) => ResponseHeader,
) {
  // The backend method for this RPC, with its request type tied to the codec's (BACKEND_METHOD pairs them).
  const call = backend[BACKEND_METHOD[name]].bind(backend) as unknown as (
    request: AuthRequestOf<M>,
    caller: AuthCaller,
  ) => Promise<AuthBackendResult<object>>;
  const codec = authMethodCodec(name);
  return unary(codec, async (request, context) => {
    const result = await call(request, {
      token: tokenFromMetadata(context.metadata),
      signal: context.signal,
    });
    if (!result.ok) throw etcdErrorToGrpc(result.error);
    return { ...result.value, header: header(result.revision) } as Parameters<typeof codec.encode>[0];
  });
}
