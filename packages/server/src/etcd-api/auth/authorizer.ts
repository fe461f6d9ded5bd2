// Request authorization at the edge: the token from the call's metadata → the requester → etcd's
// answer for what the request needs. Call it for every etcd request before serving or proposing
// it; put the requester it returns into the proposal so the apply step checks again.
import {
  AUTH_ERRORS,
  type AuthRequester,
  type AuthRequirement,
  type AuthStore,
  type EtcdError,
  type LeaseKeysLookup,
} from '@synod/state';
import type { Metadata } from '../../grpc/metadata.js';
import { type SimpleTokenManager, simpleTokenIndex } from './simple-token-manager.js';

/** Where etcd clients put the token (etcd's rpctypes.TokenFieldNameGRPC); the gateway uses `authorization`. */
export const TOKEN_METADATA_KEY = 'token';
export const GATEWAY_TOKEN_METADATA_KEY = 'authorization';

/** Who the request runs as (undefined: auth is off, or no token was sent), or etcd's refusal. */
export type AuthorizeResult =
  | { readonly ok: true; readonly requester: AuthRequester | undefined }
  | { readonly ok: false; readonly error: EtcdError };

export interface EtcdAuthorizerOptions {
  readonly store: AuthStore | (() => AuthStore);
  readonly tokens: SimpleTokenManager;
  /** This member's applied log index; with `waitForApplied`, lets a token minted elsewhere be used here. */
  readonly appliedIndex?: () => number;
  /**
   * Resolves once this member applied `index` (rejects on abort or timeout). A token names the log
   * index of its authenticate entry; etcd waits for it before calling the token unknown.
   */
  readonly waitForApplied?: (index: number, signal: AbortSignal | undefined) => Promise<void>;
}

export interface AuthorizeOptions {
  /** Keys attached to a lease, for the lease and put-with-lease checks. */
  readonly leaseKeys?: LeaseKeysLookup;
  readonly signal?: AbortSignal;
}

const ANONYMOUS: AuthorizeResult = { ok: true, requester: undefined };
const INVALID_TOKEN: AuthorizeResult = { ok: false, error: AUTH_ERRORS.invalidAuthToken };

/** The token an etcd client sent, if any. */
export function tokenFromMetadata(metadata: Metadata): string | undefined {
  return metadata.get(TOKEN_METADATA_KEY) ?? metadata.get(GATEWAY_TOKEN_METADATA_KEY);
}

/**
 * @example
 * const authorizer = new EtcdAuthorizer({ store, tokens });
 * const who = await authorizer.authorize(tokenFromMetadata(context.metadata), { kind: 'range', key, rangeEnd });
 * if (!who.ok) throw toGrpcError(who.error);   // "etcdserver: permission denied", …
 * propose({ request, requester: who.requester });
 */
export class EtcdAuthorizer {
  private readonly storeOf: () => AuthStore;

  /** Read on every use: a snapshot install replaces the member's store. */
  private get store(): AuthStore {
    return this.storeOf();
  }
  private readonly tokens: SimpleTokenManager;
  private readonly appliedIndex: (() => number) | undefined;
  private readonly waitForApplied: EtcdAuthorizerOptions['waitForApplied'];

  constructor(options: EtcdAuthorizerOptions) {
    const store = options.store;
    this.storeOf = typeof store === 'function' ? store : () => store;
    this.tokens = options.tokens;
    this.appliedIndex = options.appliedIndex;
    this.waitForApplied = options.waitForApplied;
  }

  /**
   * Who sends `token` and whether it may do what `requirement` names. Auth off: anyone, anything.
   * A requirement of kind `none` ignores the token altogether (etcd never looks at it there).
   */
  async authorize(
    token: string | undefined,
    requirement: AuthRequirement,
    options: AuthorizeOptions = {},
  ): Promise<AuthorizeResult> {
    if (!this.store.enabled || requirement.kind === 'none') return ANONYMOUS;
    const identified = await this.identify(token, options.signal);
    if (!identified.ok) return identified;
    return this.check(identified.requester, requirement, options.leaseKeys);
  }

  /** As `authorize`, without waiting for a token minted at a log index not yet applied here. */
  authorizeNow(
    token: string | undefined,
    requirement: AuthRequirement,
    leaseKeys?: LeaseKeysLookup,
  ): AuthorizeResult {
    if (!this.store.enabled || requirement.kind === 'none') return ANONYMOUS;
    const identified = this.identifyNow(token);
    if (!identified.ok) return identified;
    return this.check(identified.requester, requirement, leaseKeys);
  }

  /** The requester a token stands for (etcd's AuthInfoFromCtx): undefined without a token or with auth off. */
  async identify(token: string | undefined, signal?: AbortSignal): Promise<AuthorizeResult> {
    const now = this.identifyNow(token);
    if (
      now.ok ||
      token === undefined ||
      this.waitForApplied === undefined ||
      this.appliedIndex === undefined
    ) {
      return now;
    }
    const index = simpleTokenIndex(token);
    if (index === undefined || index <= this.appliedIndex()) return now;
    try {
      await this.waitForApplied(index, signal);
    } catch {
      return INVALID_TOKEN;
    }
    return this.identifyNow(token);
  }

  identifyNow(token: string | undefined): AuthorizeResult {
    if (!this.store.enabled || token === undefined) return ANONYMOUS;
    const username = this.tokens.lookup(token);
    if (username === undefined) return INVALID_TOKEN;
    return { ok: true, requester: { username, authRevision: this.store.authRevision } };
  }

  private check(
    requester: AuthRequester | undefined,
    requirement: AuthRequirement,
    leaseKeys: LeaseKeysLookup | undefined,
  ): AuthorizeResult {
    const error = this.store.checkRequirement(requester, requirement, leaseKeys);
    return error === undefined ? { ok: true, requester } : { ok: false, error };
  }
}
