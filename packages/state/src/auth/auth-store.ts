// AuthStore: etcd v3's users, roles and key-range permissions as a replicated state machine.
// Commands are applied in log order on every member; the store is pure (no clock, no randomness,
// no hashing: password hashes arrive already computed), so every member holds the same bytes.
// Semantics and error precedence follow etcd's server/auth/store.go; README.md lists them.
import { bytesEqual, compareBytes, isFromKeyRangeEnd } from '../mvcc/bytes.js';
import type { EtcdError } from '../mvcc/etcd-types.js';
import { decodeAuthSnapshot, encodeAuthSnapshot } from './auth-snapshot.js';
import {
  type AccessType,
  AUTH_ERRORS,
  type AuthApplyResult,
  type AuthCommand,
  type AuthCommandKind,
  type AuthEmptyValue,
  type AuthOutcome,
  type AuthRequester,
  type AuthRole,
  type AuthStatus,
  type AuthUser,
  type Permission,
  ROOT_ROLE,
  ROOT_USER,
  type TokenEffect,
} from './auth-types.js';
import { compareNames } from './names.js';
import { PermissionCache } from './permission-cache.js';
import { type AuthRequirement, checkRequirement, type LeaseKeysLookup } from './requirements.js';

/** etcd starts the auth revision at 1 (NewAuthStore commits once); 0 marks "no user" in a request. */
const INITIAL_AUTH_REVISION = 1;
const EMPTY: AuthEmptyValue = Object.freeze({});
const EMPTY_BYTES = new Uint8Array(0);
/** What RoleGet shows for the root role: everything (etcd's rootPerm). */
const ROOT_PERMISSION: Permission = {
  permType: 'READWRITE',
  key: EMPTY_BYTES,
  rangeEnd: new Uint8Array([0]),
};

/** The store's whole state, as snapshots carry it. */
export interface AuthState {
  readonly enabled: boolean;
  readonly authRevision: number;
  /** Ascending by name. */
  readonly users: readonly AuthUser[];
  /** Ascending by name. */
  readonly roles: readonly AuthRole[];
}

function ok<T>(value: T): AuthOutcome<T> {
  return { ok: true, value };
}

function fail(error: EtcdError): { readonly ok: false; readonly error: EtcdError } {
  return { ok: false, error };
}

/** Inserts into a sorted array of names, keeping it sorted; the caller checked it is absent. */
function insertSorted(names: readonly string[], name: string): string[] {
  const result = [...names, name];
  result.sort(compareNames);
  return result;
}

/**
 * etcd's isValidPermissionRange: a permission needs a key; its range end is empty (one key),
 * `"\0"` (open-ended) or above the key.
 */
function isValidPermissionRange(key: Uint8Array, rangeEnd: Uint8Array): boolean {
  if (key.length === 0) return false;
  if (rangeEnd.length === 0 || isFromKeyRangeEnd(rangeEnd)) return true;
  return compareBytes(key, rangeEnd) < 0;
}

/** Permissions are kept ascending by key, then range end (etcd sorts by key alone, unstably). */
function comparePermissions(a: Permission, b: Permission): number {
  return compareBytes(a.key, b.key) || compareBytes(a.rangeEnd, b.rangeEnd);
}

/**
 * Users, roles and permissions with etcd's semantics.
 *
 * @example
 * const store = new AuthStore();
 * store.apply({ kind: 'userAdd', name: 'root', passwordHash: hash, noPassword: false }, undefined, 1);
 * store.apply({ kind: 'userGrantRole', user: 'root', role: 'root' }, undefined, 2);
 * store.apply({ kind: 'authEnable' }, undefined, 3); // allowed: auth was off
 * store.checkPermission('root', utf8('any'), new Uint8Array(0), 'write'); // true
 */
export class AuthStore {
  private isEnabled = false;
  private revision = INITIAL_AUTH_REVISION;
  private readonly users = new Map<string, AuthUser>();
  private readonly roles = new Map<string, AuthRole>();
  private readonly permissionCache = new PermissionCache(
    (name) => this.users.get(name),
    (name) => this.roles.get(name),
  );

  /** Rebuilds a store from `snapshot()` bytes. @throws AuthSnapshotError when they are damaged. */
  static restore(bytes: Uint8Array): AuthStore {
    const state = decodeAuthSnapshot(bytes);
    const store = new AuthStore();
    store.isEnabled = state.enabled;
    store.revision = state.authRevision;
    for (const user of state.users) store.users.set(user.name, user);
    for (const role of state.roles) store.roles.set(role.name, role);
    return store;
  }

  /** The whole state as bytes (versioned, checksummed); equal states give equal bytes. */
  snapshot(): Uint8Array {
    return encodeAuthSnapshot(this.state());
  }

  state(): AuthState {
    const byName = <T extends { name: string }>(a: T, b: T) => compareNames(a.name, b.name);
    return {
      enabled: this.isEnabled,
      authRevision: this.revision,
      users: [...this.users.values()].sort(byName),
      roles: [...this.roles.values()].sort(byName),
    };
  }

  get enabled(): boolean {
    return this.isEnabled;
  }

  get authRevision(): number {
    return this.revision;
  }

  status(): AuthStatus {
    return { enabled: this.isEnabled, authRevision: this.revision };
  }

  /**
   * Applies one committed command on behalf of `requester` (as the proposal recorded it). Checks
   * what etcd's apply checks first: management commands need the root role once auth is enabled;
   * a user may read itself and the roles it holds. `logIndex` makes the simple token unique.
   */
  apply<K extends AuthCommandKind>(
    command: Extract<AuthCommand, { kind: K }>,
    requester: AuthRequester | undefined,
    logIndex: number,
  ): AuthApplyResult<K> {
    const refused = this.checkRequirement(requester, authCommandRequirement(command));
    if (refused !== undefined) return fail(refused);
    const outcome = this.execute(command, logIndex);
    if (!outcome.ok) return outcome;
    return {
      ok: true,
      value: outcome.value,
      tokenEffect: this.tokenEffectOf(command, outcome.value),
    } as AuthApplyResult<K>;
  }

  private execute(command: AuthCommand, logIndex: number): AuthOutcome<unknown> {
    switch (command.kind) {
      case 'authEnable':
        return this.enable();
      case 'authDisable':
        return this.disable();
      case 'authStatus':
        return ok(this.status());
      case 'authenticate':
        return this.authenticate(
          command.name,
          command.simpleTokenPrefix,
          command.checkedAuthRevision,
          logIndex,
        );
      case 'userAdd':
        return this.addUser(command.name, command);
      case 'userGet':
        return this.userRoles(command.name);
      case 'userList':
        return ok({ users: this.listUsers() });
      case 'userDelete':
        return this.deleteUser(command.name);
      case 'userChangePassword':
        return this.changePassword(command.name, command.passwordHash);
      case 'userGrantRole':
        return this.grantRole(command.user, command.role);
      case 'userRevokeRole':
        return this.revokeRole(command.name, command.role);
      case 'roleAdd':
        return this.addRole(command.name);
      case 'roleGet':
        return this.rolePermissions(command.role);
      case 'roleList':
        return ok({ roles: this.listRoles() });
      case 'roleDelete':
        return this.deleteRole(command.role);
      case 'roleGrantPermission':
        return this.grantPermission(command.name, command.perm);
      case 'roleRevokePermission':
        return this.revokePermission(command.role, command.key, command.rangeEnd);
    }
  }

  private tokenEffectOf(command: AuthCommand, value: unknown): TokenEffect | undefined {
    switch (command.kind) {
      case 'authenticate':
        return { kind: 'assign', token: (value as { token: string }).token, username: command.name };
      case 'userDelete':
      case 'userChangePassword':
        return { kind: 'invalidateUser', username: command.name };
      case 'authDisable':
        return { kind: 'invalidateAll' };
      default:
        return undefined;
    }
  }

  // ---- enabling ----

  /** Turns auth on; needs a `root` user holding the `root` role. Enabling twice is a no-op, as in etcd. */
  enable(): AuthOutcome<AuthEmptyValue> {
    if (this.isEnabled) return ok(EMPTY);
    const root = this.users.get(ROOT_USER);
    if (root === undefined) return fail(AUTH_ERRORS.rootUserNotExist);
    if (!root.roles.includes(ROOT_ROLE)) return fail(AUTH_ERRORS.rootRoleNotExist);
    // etcd does not move the auth revision here: tokens only exist while enabled anyway.
    this.isEnabled = true;
    this.permissionCache.clear();
    return ok(EMPTY);
  }

  /** Turns auth off (every token stops working). Disabling twice is a no-op. */
  disable(): AuthOutcome<AuthEmptyValue> {
    if (!this.isEnabled) return ok(EMPTY);
    this.isEnabled = false;
    this.commitRevision();
    return ok(EMPTY);
  }

  /**
   * The last step of etcd's Authenticate, after the edge checked the password at
   * `checkedAuthRevision`: the token is `<prefix>.<logIndex>`.
   */
  authenticate(
    name: string,
    simpleTokenPrefix: string,
    checkedAuthRevision: number,
    logIndex: number,
  ): AuthOutcome<{ token: string }> {
    assertTokenPart(simpleTokenPrefix, logIndex);
    if (!this.isEnabled) return fail(AUTH_ERRORS.authNotEnabled);
    const user = this.users.get(name);
    if (user === undefined || user.noPassword) return fail(AUTH_ERRORS.authFailed);
    if (checkedAuthRevision !== this.revision) return fail(AUTH_ERRORS.authOldRevision);
    return ok({ token: `${simpleTokenPrefix}.${logIndex}` });
  }

  // ---- users ----

  addUser(name: string, options: { passwordHash: string; noPassword: boolean }): AuthOutcome<AuthEmptyValue> {
    if (name.length === 0) return fail(AUTH_ERRORS.userEmpty);
    if (this.users.has(name)) return fail(AUTH_ERRORS.userAlreadyExist);
    const passwordHash = options.noPassword ? '' : options.passwordHash;
    this.users.set(name, { name, passwordHash, noPassword: options.noPassword, roles: [] });
    this.permissionCache.forgetUser(name);
    this.commitRevision();
    return ok(EMPTY);
  }

  deleteUser(name: string): AuthOutcome<AuthEmptyValue> {
    if (this.isEnabled && name === ROOT_USER) return fail(AUTH_ERRORS.invalidAuthMgmt);
    if (!this.users.delete(name)) return fail(AUTH_ERRORS.userNotFound);
    this.permissionCache.forgetUser(name);
    this.commitRevision();
    return ok(EMPTY);
  }

  /** A user created with noPassword keeps having none, as in etcd. */
  changePassword(name: string, passwordHash: string): AuthOutcome<AuthEmptyValue> {
    const user = this.users.get(name);
    if (user === undefined) return fail(AUTH_ERRORS.userNotFound);
    this.users.set(name, { ...user, passwordHash: user.noPassword ? '' : passwordHash });
    this.commitRevision();
    return ok(EMPTY);
  }

  /** The root role may be granted before a role named root exists (etcd's `auth enable` relies on it). */
  grantRole(userName: string, role: string): AuthOutcome<AuthEmptyValue> {
    const user = this.users.get(userName);
    if (user === undefined) return fail(AUTH_ERRORS.userNotFound);
    if (role !== ROOT_ROLE && !this.roles.has(role)) return fail(AUTH_ERRORS.roleNotFound);
    // Granting a role twice succeeds without a change, as in etcd.
    if (user.roles.includes(role)) return ok(EMPTY);
    this.users.set(userName, { ...user, roles: insertSorted(user.roles, role) });
    this.permissionCache.forgetUser(userName);
    this.commitRevision();
    return ok(EMPTY);
  }

  revokeRole(userName: string, role: string): AuthOutcome<AuthEmptyValue> {
    if (this.isEnabled && userName === ROOT_USER && role === ROOT_ROLE) {
      return fail(AUTH_ERRORS.invalidAuthMgmt);
    }
    const user = this.users.get(userName);
    if (user === undefined) return fail(AUTH_ERRORS.userNotFound);
    if (!user.roles.includes(role)) return fail(AUTH_ERRORS.roleNotGranted);
    this.users.set(userName, { ...user, roles: user.roles.filter((granted) => granted !== role) });
    this.permissionCache.forgetUser(userName);
    this.commitRevision();
    return ok(EMPTY);
  }

  getUser(name: string): AuthOutcome<AuthUser> {
    const user = this.users.get(name);
    return user === undefined ? fail(AUTH_ERRORS.userNotFound) : ok(user);
  }

  /** The user's roles (what etcd's UserGet answers). */
  userRoles(name: string): AuthOutcome<{ roles: readonly string[] }> {
    const user = this.users.get(name);
    return user === undefined ? fail(AUTH_ERRORS.userNotFound) : ok({ roles: user.roles });
  }

  /** User names, ascending (byte order of their UTF-8, as etcd's bucket). */
  listUsers(): string[] {
    return [...this.users.keys()].sort(compareNames);
  }

  // ---- roles ----

  addRole(name: string): AuthOutcome<AuthEmptyValue> {
    if (name.length === 0) return fail(AUTH_ERRORS.roleEmpty);
    if (this.roles.has(name)) return fail(AUTH_ERRORS.roleAlreadyExist);
    this.roles.set(name, { name, keyPermissions: [] });
    // A user may hold "root" before the role exists; its merged permissions change now.
    this.permissionCache.clear();
    this.commitRevision();
    return ok(EMPTY);
  }

  /** Deletes the role and takes it from every user holding it. */
  deleteRole(name: string): AuthOutcome<AuthEmptyValue> {
    if (this.isEnabled && name === ROOT_ROLE) return fail(AUTH_ERRORS.invalidAuthMgmt);
    if (!this.roles.delete(name)) return fail(AUTH_ERRORS.roleNotFound);
    for (const user of this.users.values()) {
      if (user.roles.includes(name)) {
        this.users.set(user.name, { ...user, roles: user.roles.filter((role) => role !== name) });
      }
    }
    this.permissionCache.clear();
    this.commitRevision();
    return ok(EMPTY);
  }

  /** Adds a permission, or changes the type of the one with the same key and range end. */
  grantPermission(roleName: string, permission: Permission | undefined): AuthOutcome<AuthEmptyValue> {
    if (permission === undefined) return fail(AUTH_ERRORS.permissionNotGiven);
    if (!isValidPermissionRange(permission.key, permission.rangeEnd))
      return fail(AUTH_ERRORS.invalidAuthMgmt);
    const role = this.roles.get(roleName);
    if (role === undefined) return fail(AUTH_ERRORS.roleNotFound);
    const granted: Permission = {
      permType: permission.permType,
      key: permission.key.slice(),
      rangeEnd: permission.rangeEnd.slice(),
    };
    const others = role.keyPermissions.filter((existing) => !sameRange(existing, granted));
    const keyPermissions = [...others, granted].sort(comparePermissions);
    this.roles.set(roleName, { name: roleName, keyPermissions });
    this.permissionCache.clear();
    this.commitRevision();
    return ok(EMPTY);
  }

  revokePermission(roleName: string, key: Uint8Array, rangeEnd: Uint8Array): AuthOutcome<AuthEmptyValue> {
    const role = this.roles.get(roleName);
    if (role === undefined) return fail(AUTH_ERRORS.roleNotFound);
    const revoked = { key, rangeEnd };
    const keyPermissions = role.keyPermissions.filter((existing) => !sameRange(existing, revoked));
    if (keyPermissions.length === role.keyPermissions.length) return fail(AUTH_ERRORS.permissionNotGranted);
    this.roles.set(roleName, { name: roleName, keyPermissions });
    this.permissionCache.clear();
    this.commitRevision();
    return ok(EMPTY);
  }

  getRole(name: string): AuthOutcome<AuthRole> {
    const role = this.roles.get(name);
    return role === undefined ? fail(AUTH_ERRORS.roleNotFound) : ok(role);
  }

  /** What etcd's RoleGet answers: the root role shows as read-write on every key. */
  rolePermissions(name: string): AuthOutcome<{ perm: readonly Permission[] }> {
    const role = this.roles.get(name);
    if (role === undefined) return fail(AUTH_ERRORS.roleNotFound);
    return ok({ perm: name === ROOT_ROLE ? [ROOT_PERMISSION] : role.keyPermissions });
  }

  listRoles(): string[] {
    return [...this.roles.keys()].sort(compareNames);
  }

  // ---- checks ----

  /** Whether the user exists and holds the root role (which may do anything). */
  isAdmin(username: string): boolean {
    return this.users.get(username)?.roles.includes(ROOT_ROLE) ?? false;
  }

  /** Whether the user holds `role`. */
  hasRole(username: string, role: string): boolean {
    return this.users.get(username)?.roles.includes(role) ?? false;
  }

  /**
   * Whether the union of the user's roles' permissions of that access type covers every key of
   * (key, rangeEnd) (etcd's range rules; READWRITE counts for both). Unknown users may do nothing;
   * the root role may do anything. Ignores whether auth is enabled: see `checkRequirement`.
   */
  checkPermission(username: string, key: Uint8Array, rangeEnd: Uint8Array, access: AccessType): boolean {
    const user = this.users.get(username);
    if (user === undefined) return false;
    if (user.roles.includes(ROOT_ROLE)) return true;
    return this.permissionCache.covers(username, key, rangeEnd, access);
  }

  /**
   * Whether `requester` may do what `requirement` names, by etcd's rules (the same answer at the
   * edge and when applying, given the same store): undefined when allowed, else etcd's error.
   * `leaseKeys` finds the keys attached to a lease, for the lease checks (omit it to skip them).
   */
  checkRequirement(
    requester: AuthRequester | undefined,
    requirement: AuthRequirement,
    leaseKeys?: LeaseKeysLookup,
  ): EtcdError | undefined {
    return checkRequirement(this, requester, requirement, leaseKeys);
  }

  /**
   * For reads served without the log: etcd refuses the answer when the auth store changed while
   * the read ran (doSerialize). Call after reading with the requester `authorize` returned.
   */
  checkNotStale(requester: AuthRequester | undefined): EtcdError | undefined {
    if (requester === undefined || requester.authRevision === this.revision) return undefined;
    return AUTH_ERRORS.authOldRevision;
  }

  private commitRevision(): void {
    this.revision++;
  }
}

function sameRange(
  a: { key: Uint8Array; rangeEnd: Uint8Array },
  b: { key: Uint8Array; rangeEnd: Uint8Array },
) {
  return bytesEqual(a.key, b.key) && bytesEqual(a.rangeEnd, b.rangeEnd);
}

/** Simple tokens are `<prefix>.<index>`: the prefix may not contain the separator. */
function assertTokenPart(prefix: string, logIndex: number): void {
  if (prefix.length === 0 || prefix.includes('.')) {
    throw new Error(`invariant: simple token prefix ${JSON.stringify(prefix)} must be non-empty without "."`);
  }
  if (!Number.isSafeInteger(logIndex) || logIndex < 1) {
    throw new Error(`invariant: log index ${logIndex} must be a positive integer`);
  }
}

/**
 * What applying a command requires of its requester (etcd's needAdminPermission, UserGet, RoleGet).
 * The edge may check it before proposing, to refuse early (and before hashing a password).
 */
export function authCommandRequirement(command: AuthCommand): AuthRequirement {
  switch (command.kind) {
    case 'authenticate':
    case 'authStatus':
      return { kind: 'none' };
    case 'userGet':
      return { kind: 'userGet', name: command.name };
    case 'roleGet':
      return { kind: 'roleGet', role: command.role };
    default:
      return { kind: 'admin' };
  }
}
