// The Auth service's edge logic, the same on every member: identify the caller from its token,
// refuse early what applying would refuse, hash passwords, then hand a command to the proposer
// (the Raft log, or `localAuthProposer` for a single process) and answer with what it applied.
import {
  AUTH_ERRORS,
  type AuthApplyResult,
  type AuthCommand,
  type AuthCommandKind,
  type AuthRequester,
  type AuthStore,
  authCommandRequirement,
  ETCD_ERRORS,
  type EtcdError,
} from '@synod/state';
import type {
  AuthEmptyRequest,
  AuthenticateRequest,
  AuthRoleAddRequest,
  AuthRoleGrantPermissionRequest,
  AuthRoleNameRequest,
  AuthRoleRevokePermissionRequest,
  AuthUserAddRequest,
  AuthUserChangePasswordRequest,
  AuthUserGrantRoleRequest,
  AuthUserNameRequest,
  AuthUserRevokeRoleRequest,
} from './auth-messages.js';
import type { AuthBackend, AuthBackendResult, AuthCaller } from './auth-service.js';
import type { EtcdAuthorizer } from './authorizer.js';
import { type PasswordHasher, PasswordHasherBusyError } from './password.js';
import { newSimpleTokenPrefix, type SimpleTokenManager } from './simple-token-manager.js';

/** A command and who sent it: what the replicated log must carry for one auth request. */
export interface AuthProposal {
  readonly command: AuthCommand;
  readonly requester: AuthRequester | undefined;
}

/**
 * Replicates a proposal and resolves once this member applied it (with `applyAuthCommand`), with
 * what applying returned and the KV revision at that point (for the response header); or with the
 * error that kept it from being applied (no leader, timeout, …).
 */
export type AuthProposer = (
  proposal: AuthProposal,
  signal: AbortSignal,
) => Promise<
  | { readonly ok: true; readonly applied: AuthApplyResult; readonly revision: number }
  | { readonly ok: false; readonly error: EtcdError }
>;

/**
 * Applies one committed auth entry on a member: the store's change, then the token table's. Call
 * it for every auth entry, in log order, on every member, with the entry's log index.
 */
export function applyAuthCommand(
  store: AuthStore,
  tokens: SimpleTokenManager,
  proposal: AuthProposal,
  logIndex: number,
): AuthApplyResult {
  const applied = store.apply(proposal.command, proposal.requester, logIndex);
  if (applied.ok && applied.tokenEffect !== undefined) tokens.applyEffect(applied.tokenEffect);
  return applied;
}

/** A proposer that applies at once, for a single process and for tests: log indexes count from 1. */
export function localAuthProposer(
  store: AuthStore,
  tokens: SimpleTokenManager,
  kvRevision: () => number,
): AuthProposer {
  let logIndex = 0;
  return async (proposal) => ({
    ok: true,
    applied: applyAuthCommand(store, tokens, proposal, ++logIndex),
    revision: kvRevision(),
  });
}

/**
 * Authenticate retries when a user change lands between the password check and the apply. Each
 * retry follows a change that committed, so a few are plenty; etcd loops without bound.
 */
export const AUTHENTICATE_ATTEMPTS_MAX = 3;

export interface AuthEdgeOptions {
  readonly store: AuthStore | (() => AuthStore);
  readonly authorizer: EtcdAuthorizer;
  readonly hasher: PasswordHasher;
  readonly propose: AuthProposer;
  /** Random token prefixes (injectable for tests). */
  readonly newTokenPrefix?: () => string;
}

type Result<K extends AuthCommandKind> = AuthBackendResult<
  Extract<AuthApplyResult<K>, { ok: true }>['value']
>;

const tooManyRequests = { ok: false, error: ETCD_ERRORS.tooManyRequests } as const;

/**
 * The AuthBackend every member runs: `registerAuthService(grpc, new AuthEdge({ … }), header)`.
 *
 * @example
 * const edge = new AuthEdge({ store, authorizer, hasher: new PasswordHasher(), propose });
 */
export class AuthEdge implements AuthBackend {
  private readonly storeOf: () => AuthStore;

  /** Read on every use: a snapshot install replaces the member's store. */
  private get store(): AuthStore {
    return this.storeOf();
  }
  private readonly authorizer: EtcdAuthorizer;
  private readonly hasher: PasswordHasher;
  private readonly propose: AuthProposer;
  private readonly newTokenPrefix: () => string;

  constructor(options: AuthEdgeOptions) {
    const store = options.store;
    this.storeOf = typeof store === 'function' ? store : () => store;
    this.authorizer = options.authorizer;
    this.hasher = options.hasher;
    this.propose = options.propose;
    this.newTokenPrefix = options.newTokenPrefix ?? (() => newSimpleTokenPrefix());
  }

  authEnable(_request: AuthEmptyRequest, caller: AuthCaller): Promise<Result<'authEnable'>> {
    return this.submit({ kind: 'authEnable' }, caller);
  }

  authDisable(_request: AuthEmptyRequest, caller: AuthCaller): Promise<Result<'authDisable'>> {
    return this.submit({ kind: 'authDisable' }, caller);
  }

  authStatus(_request: AuthEmptyRequest, caller: AuthCaller): Promise<Result<'authStatus'>> {
    return this.submit({ kind: 'authStatus' }, caller);
  }

  /**
   * etcd's flow: check the password here (hashing is too slow for the apply loop), against this
   * member's store at a known auth revision; then propose the authenticate command carrying a
   * random token prefix and that revision. Applying issues `<prefix>.<log index>` on every member,
   * or refuses if the revision moved (the password may have changed): then check again.
   */
  async authenticate(request: AuthenticateRequest, caller: AuthCaller): Promise<Result<'authenticate'>> {
    for (let attempt = 1; attempt <= AUTHENTICATE_ATTEMPTS_MAX; attempt++) {
      const checked = await this.checkPassword(request.name, request.password);
      if (!checked.ok) return checked;
      const command = {
        kind: 'authenticate' as const,
        name: request.name,
        simpleTokenPrefix: this.newTokenPrefix(),
        checkedAuthRevision: checked.authRevision,
      };
      const result = await this.proposeChecked(command, undefined, caller.signal);
      if (result.ok || result.error.message !== AUTH_ERRORS.authOldRevision.message) return result;
    }
    return { ok: false, error: AUTH_ERRORS.authOldRevision };
  }

  async userAdd(request: AuthUserAddRequest, caller: AuthCaller): Promise<Result<'userAdd'>> {
    const noPassword = request.options?.noPassword ?? false;
    return this.submit(
      { kind: 'userAdd', name: request.name, passwordHash: '', noPassword },
      caller,
      async (command) =>
        noPassword ? command : { ...command, passwordHash: await this.hasher.hash(request.password) },
    );
  }

  userGet(request: AuthUserNameRequest, caller: AuthCaller): Promise<Result<'userGet'>> {
    return this.submit({ kind: 'userGet', name: request.name }, caller);
  }

  userList(_request: AuthEmptyRequest, caller: AuthCaller): Promise<Result<'userList'>> {
    return this.submit({ kind: 'userList' }, caller);
  }

  userDelete(request: AuthUserNameRequest, caller: AuthCaller): Promise<Result<'userDelete'>> {
    return this.submit({ kind: 'userDelete', name: request.name }, caller);
  }

  /** An empty password stores an empty hash, which never matches (as etcd). */
  userChangePassword(
    request: AuthUserChangePasswordRequest,
    caller: AuthCaller,
  ): Promise<Result<'userChangePassword'>> {
    const command = { kind: 'userChangePassword' as const, name: request.name, passwordHash: '' };
    return this.submit(command, caller, async (unhashed) =>
      request.password === ''
        ? unhashed
        : { ...unhashed, passwordHash: await this.hasher.hash(request.password) },
    );
  }

  userGrantRole(request: AuthUserGrantRoleRequest, caller: AuthCaller): Promise<Result<'userGrantRole'>> {
    return this.submit({ kind: 'userGrantRole', user: request.user, role: request.role }, caller);
  }

  userRevokeRole(request: AuthUserRevokeRoleRequest, caller: AuthCaller): Promise<Result<'userRevokeRole'>> {
    return this.submit({ kind: 'userRevokeRole', name: request.name, role: request.role }, caller);
  }

  roleAdd(request: AuthRoleAddRequest, caller: AuthCaller): Promise<Result<'roleAdd'>> {
    return this.submit({ kind: 'roleAdd', name: request.name }, caller);
  }

  roleGet(request: AuthRoleNameRequest, caller: AuthCaller): Promise<Result<'roleGet'>> {
    return this.submit({ kind: 'roleGet', role: request.role }, caller);
  }

  roleList(_request: AuthEmptyRequest, caller: AuthCaller): Promise<Result<'roleList'>> {
    return this.submit({ kind: 'roleList' }, caller);
  }

  roleDelete(request: AuthRoleNameRequest, caller: AuthCaller): Promise<Result<'roleDelete'>> {
    return this.submit({ kind: 'roleDelete', role: request.role }, caller);
  }

  roleGrantPermission(
    request: AuthRoleGrantPermissionRequest,
    caller: AuthCaller,
  ): Promise<Result<'roleGrantPermission'>> {
    return this.submit({ kind: 'roleGrantPermission', name: request.name, perm: request.perm }, caller);
  }

  roleRevokePermission(
    request: AuthRoleRevokePermissionRequest,
    caller: AuthCaller,
  ): Promise<Result<'roleRevokePermission'>> {
    const { role, key, rangeEnd } = request;
    return this.submit({ kind: 'roleRevokePermission', role, key, rangeEnd }, caller);
  }

  /**
   * Identifies the caller (a bad token is refused here, as etcd's AuthInfoFromCtx does), refuses
   * what applying would refuse for this caller — before any password is hashed — then completes
   * the command and proposes it. Applying checks again: the store may change in between.
   */
  private async submit<K extends AuthCommandKind>(
    command: Extract<AuthCommand, { kind: K }>,
    caller: AuthCaller,
    complete?: (command: Extract<AuthCommand, { kind: K }>) => Promise<Extract<AuthCommand, { kind: K }>>,
  ): Promise<Result<K>> {
    const identified = await this.authorizer.identify(caller.token, caller.signal);
    if (!identified.ok) return identified;
    const refused = this.store.checkRequirement(identified.requester, authCommandRequirement(command));
    if (refused !== undefined) return { ok: false, error: refused };
    let completed = command;
    if (complete !== undefined) {
      try {
        completed = await complete(command);
      } catch (error) {
        if (error instanceof PasswordHasherBusyError) return tooManyRequests;
        throw error;
      }
    }
    return this.proposeChecked(completed, identified.requester, caller.signal);
  }

  private async proposeChecked<K extends AuthCommandKind>(
    command: Extract<AuthCommand, { kind: K }>,
    requester: AuthRequester | undefined,
    signal: AbortSignal,
  ): Promise<Result<K>> {
    const proposed = await this.propose({ command, requester }, signal);
    if (!proposed.ok) return proposed;
    const applied = proposed.applied as AuthApplyResult<K>;
    if (!applied.ok) return applied;
    return { ok: true, value: applied.value, revision: proposed.revision };
  }

  /** etcd's CheckPassword: the auth revision the check was made at, or the refusal. */
  private async checkPassword(
    name: string,
    password: string,
  ): Promise<{ ok: true; authRevision: number } | { ok: false; error: EtcdError }> {
    if (!this.store.enabled) return { ok: false, error: AUTH_ERRORS.authNotEnabled };
    const authRevision = this.store.authRevision;
    const user = this.store.getUser(name);
    try {
      const matches =
        user.ok && !user.value.noPassword
          ? await this.hasher.verify(password, user.value.passwordHash)
          : await this.hasher.verifyDecoy(password);
      return matches ? { ok: true, authRevision } : { ok: false, error: AUTH_ERRORS.authFailed };
    } catch (error) {
      if (error instanceof PasswordHasherBusyError) return tooManyRequests;
      throw error;
    }
  }
}
