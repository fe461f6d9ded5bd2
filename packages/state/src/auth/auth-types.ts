// etcd v3 authentication as plain values: users, roles, key-range permissions (etcd's authpb), the
// commands the replicated log carries to change them, and etcd's exact error messages. Names and
// semantics follow etcd's server/auth/store.go; see README.md beside this file.
import type { EtcdError } from '../mvcc/etcd-types.js';

/** The user that `auth enable` requires, and the role that may do anything. */
export const ROOT_USER = 'root';
export const ROOT_ROLE = 'root';

/** authpb.Permission.Type, by name (READ = 0, WRITE = 1, READWRITE = 2 on the wire). */
export type PermissionType = 'READ' | 'WRITE' | 'READWRITE';

/** The kind of access a request needs on a key range. */
export type AccessType = 'read' | 'write';

/**
 * Access to a key range, as etcd's authpb.Permission. `rangeEnd` follows etcd's range rules: empty
 * for the single key `key`, `"\0"` for every key from `key` on, otherwise the half-open [key, rangeEnd).
 */
export interface Permission {
  readonly permType: PermissionType;
  readonly key: Uint8Array;
  readonly rangeEnd: Uint8Array;
}

/** A user as the store keeps it. */
export interface AuthUser {
  readonly name: string;
  /**
   * The password hash the edge computed before proposing (opaque here: the store never hashes, so
   * every member keeps the same bytes). Empty for a user created with `noPassword`.
   */
  readonly passwordHash: string;
  /** Created with etcd's `--no-password`: may not log in with a password (TLS common name only). */
  readonly noPassword: boolean;
  /** Granted roles, ascending, without duplicates. */
  readonly roles: readonly string[];
}

/** A role as the store keeps it: its permissions ascending by key (etcd's order). */
export interface AuthRole {
  readonly name: string;
  readonly keyPermissions: readonly Permission[];
}

export interface AuthStatus {
  readonly enabled: boolean;
  /** Starts at 1; every change of users, roles or permissions, and `disable`, adds one. */
  readonly authRevision: number;
}

/**
 * Who sent a request, as the member that received it saw it: the user its token names and the
 * auth revision of that member's store at that moment. A proposal carries it (etcd's
 * RequestHeader.username / auth_revision) so every member checks permissions alike when applying,
 * and refuses the request if users or roles changed in between ("revision of auth store is old").
 * `undefined` means the request carried no token.
 */
export interface AuthRequester {
  readonly username: string;
  readonly authRevision: number;
}

/** A change or query of the auth state, as the replicated log carries it (etcd's InternalRaftRequest auth fields). */
export type AuthCommand =
  | { readonly kind: 'authEnable' }
  | { readonly kind: 'authDisable' }
  | { readonly kind: 'authStatus' }
  | {
      readonly kind: 'authenticate';
      readonly name: string;
      /** Random letters chosen by the receiving member; the token is `<prefix>.<log index>`. */
      readonly simpleTokenPrefix: string;
      /**
       * The auth revision at which the receiving member checked the password. Applying refuses the
       * command if it moved (a password changed meanwhile), and the member checks again.
       */
      readonly checkedAuthRevision: number;
    }
  | {
      readonly kind: 'userAdd';
      readonly name: string;
      /** Hash computed at the edge; ignored (stored empty) when `noPassword`. */
      readonly passwordHash: string;
      readonly noPassword: boolean;
    }
  | { readonly kind: 'userGet'; readonly name: string }
  | { readonly kind: 'userList' }
  | { readonly kind: 'userDelete'; readonly name: string }
  | { readonly kind: 'userChangePassword'; readonly name: string; readonly passwordHash: string }
  | { readonly kind: 'userGrantRole'; readonly user: string; readonly role: string }
  | { readonly kind: 'userRevokeRole'; readonly name: string; readonly role: string }
  | { readonly kind: 'roleAdd'; readonly name: string }
  | { readonly kind: 'roleGet'; readonly role: string }
  | { readonly kind: 'roleList' }
  | { readonly kind: 'roleDelete'; readonly role: string }
  | {
      readonly kind: 'roleGrantPermission';
      readonly name: string;
      /** Absent when the request carried none (etcd: "permission not given"). */
      readonly perm: Permission | undefined;
    }
  | {
      readonly kind: 'roleRevokePermission';
      readonly role: string;
      readonly key: Uint8Array;
      readonly rangeEnd: Uint8Array;
    };

export type AuthCommandKind = AuthCommand['kind'];

/** What each command answers with when it succeeds: the body of etcd's response, without its header. */
export interface AuthCommandValues {
  readonly authEnable: AuthEmptyValue;
  readonly authDisable: AuthEmptyValue;
  readonly authStatus: AuthStatus;
  readonly authenticate: { readonly token: string };
  readonly userAdd: AuthEmptyValue;
  readonly userGet: { readonly roles: readonly string[] };
  readonly userList: { readonly users: readonly string[] };
  readonly userDelete: AuthEmptyValue;
  readonly userChangePassword: AuthEmptyValue;
  readonly userGrantRole: AuthEmptyValue;
  readonly userRevokeRole: AuthEmptyValue;
  readonly roleAdd: AuthEmptyValue;
  readonly roleGet: { readonly perm: readonly Permission[] };
  readonly roleList: { readonly roles: readonly string[] };
  readonly roleDelete: AuthEmptyValue;
  readonly roleGrantPermission: AuthEmptyValue;
  readonly roleRevokePermission: AuthEmptyValue;
}

export type AuthEmptyValue = Readonly<Record<string, never>>;

/** What the simple-token table of every member must do after a command applied (etcd's tokenProvider calls). */
export type TokenEffect =
  | { readonly kind: 'assign'; readonly token: string; readonly username: string }
  /** The user was deleted or changed password: its tokens stop working. */
  | { readonly kind: 'invalidateUser'; readonly username: string }
  /** Auth was disabled: every token stops working. */
  | { readonly kind: 'invalidateAll' };

export type AuthOutcome<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: EtcdError };

/** The result of applying one command. */
export type AuthApplyResult<K extends AuthCommandKind = AuthCommandKind> =
  | { readonly ok: true; readonly value: AuthCommandValues[K]; readonly tokenEffect: TokenEffect | undefined }
  | { readonly ok: false; readonly error: EtcdError };

/** etcd's auth errors, verbatim (api/v3rpc/rpctypes/error.go): clients match on the text. */
export const AUTH_ERRORS = {
  rootUserNotExist: { code: 'FailedPrecondition', message: 'etcdserver: root user does not exist' },
  rootRoleNotExist: { code: 'FailedPrecondition', message: 'etcdserver: root user does not have root role' },
  userAlreadyExist: { code: 'FailedPrecondition', message: 'etcdserver: user name already exists' },
  userEmpty: { code: 'InvalidArgument', message: 'etcdserver: user name is empty' },
  userNotFound: { code: 'FailedPrecondition', message: 'etcdserver: user name not found' },
  roleAlreadyExist: { code: 'FailedPrecondition', message: 'etcdserver: role name already exists' },
  roleNotFound: { code: 'FailedPrecondition', message: 'etcdserver: role name not found' },
  roleEmpty: { code: 'InvalidArgument', message: 'etcdserver: role name is empty' },
  authFailed: {
    code: 'InvalidArgument',
    message: 'etcdserver: authentication failed, invalid user ID or password',
  },
  permissionNotGiven: { code: 'InvalidArgument', message: 'etcdserver: permission not given' },
  permissionDenied: { code: 'PermissionDenied', message: 'etcdserver: permission denied' },
  roleNotGranted: { code: 'FailedPrecondition', message: 'etcdserver: role is not granted to the user' },
  permissionNotGranted: {
    code: 'FailedPrecondition',
    message: 'etcdserver: permission is not granted to the role',
  },
  authNotEnabled: { code: 'FailedPrecondition', message: 'etcdserver: authentication is not enabled' },
  invalidAuthToken: { code: 'Unauthenticated', message: 'etcdserver: invalid auth token' },
  invalidAuthMgmt: { code: 'InvalidArgument', message: 'etcdserver: invalid auth management' },
  authOldRevision: { code: 'InvalidArgument', message: 'etcdserver: revision of auth store is old' },
} as const satisfies Record<string, EtcdError>;
