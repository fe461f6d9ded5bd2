// etcd's "simple" auth tokens: opaque `<16 random letters>.<log index>` strings, one table per
// member. A token is created on every member when its authenticate command applies (so a client
// may use it against any member), lives SIMPLE_TOKEN_TTL_MS_DEFAULT after its last use, and dies
// with its user, with a password change, or when auth is disabled (server/auth/simple_token.go).
import { randomBytes } from 'node:crypto';
import type { TokenEffect } from '@synod/state';

/** etcd's default --auth-token-ttl: 300 s, renewed on every use. */
export const SIMPLE_TOKEN_TTL_MS_DEFAULT = 300_000;
/**
 * Live tokens one member keeps; past this the least recently used is dropped (its client gets
 * "invalid auth token" and logs in again). etcd keeps any number and warns every 10,000.
 */
export const SIMPLE_TOKENS_MAX_DEFAULT = 100_000;
/** Random letters before the "." (etcd's defaultSimpleTokenLength). */
export const SIMPLE_TOKEN_PREFIX_LETTERS = 16;
const LETTERS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';
/** Bytes at or above this would bias the letter choice (256 is not a multiple of 52). */
const UNBIASED_BYTE_LIMIT = 256 - (256 % LETTERS.length);
const INDEX_PATTERN = /^[1-9][0-9]{0,15}$/;
/**
 * A lookup moves its token to the back of the use order only when that extends its life by more
 * than this (etcd's TTL resolution is 1 s too): busy tokens skip the reordering on most calls.
 */
const RENEWAL_RESOLUTION_MS = 1_000;

/**
 * A fresh token prefix: SIMPLE_TOKEN_PREFIX_LETTERS letters from a cryptographic source.
 * `random` is injectable for tests.
 */
export function newSimpleTokenPrefix(random: (bytes: number) => Uint8Array = randomBytes): string {
  let prefix = '';
  while (prefix.length < SIMPLE_TOKEN_PREFIX_LETTERS) {
    for (const byte of random(SIMPLE_TOKEN_PREFIX_LETTERS * 2)) {
      if (byte >= UNBIASED_BYTE_LIMIT) continue;
      prefix += LETTERS[byte % LETTERS.length];
      if (prefix.length === SIMPLE_TOKEN_PREFIX_LETTERS) break;
    }
  }
  return prefix;
}

/** The log index of a well-formed simple token, or undefined (etcd's isValidSimpleToken). */
export function simpleTokenIndex(token: string): number | undefined {
  const dot = token.indexOf('.');
  if (dot <= 0 || token.indexOf('.', dot + 1) !== -1) return undefined;
  const index = token.slice(dot + 1);
  if (!INDEX_PATTERN.test(index)) return undefined;
  const value = Number(index);
  return Number.isSafeInteger(value) ? value : undefined;
}

export interface SimpleTokenManagerOptions {
  /** Idle lifetime of a token. Default SIMPLE_TOKEN_TTL_MS_DEFAULT. */
  readonly ttlMs?: number;
  /** Most live tokens. Default SIMPLE_TOKENS_MAX_DEFAULT. */
  readonly tokensMax?: number;
  /** A monotonic clock in milliseconds. Default `performance.now`. */
  readonly now?: () => number;
}

interface TokenEntry {
  readonly username: string;
  expiresAtMs: number;
}

/**
 * The member's table of live tokens.
 *
 * @example
 * const tokens = new SimpleTokenManager();
 * // when an entry applies: const result = store.apply(command, requester, index);
 * if (result.ok && result.tokenEffect) tokens.applyEffect(result.tokenEffect);
 * tokens.lookup(tokenFromMetadata); // the user, or undefined when unknown or expired
 */
export class SimpleTokenManager {
  readonly ttlMs: number;
  readonly tokensMax: number;
  private readonly now: () => number;
  /** Ordered by last use, oldest first: expired tokens gather at the front. */
  private readonly entries = new Map<string, TokenEntry>();
  private readonly tokensByUser = new Map<string, Set<string>>();

  constructor(options: SimpleTokenManagerOptions = {}) {
    this.ttlMs = options.ttlMs ?? SIMPLE_TOKEN_TTL_MS_DEFAULT;
    this.tokensMax = options.tokensMax ?? SIMPLE_TOKENS_MAX_DEFAULT;
    this.now = options.now ?? (() => performance.now());
    if (!(this.ttlMs > 0)) throw new RangeError(`ttlMs must be positive (got ${this.ttlMs})`);
    if (!(Number.isInteger(this.tokensMax) && this.tokensMax >= 1)) {
      throw new RangeError(`tokensMax must be an integer ≥ 1 (got ${this.tokensMax})`);
    }
  }

  /** Live tokens (expired ones may linger until the next assign or lookup finds them). */
  get size(): number {
    return this.entries.size;
  }

  /** Does what an applied auth command asks of the token table. */
  applyEffect(effect: TokenEffect): void {
    switch (effect.kind) {
      case 'assign':
        this.assign(effect.token, effect.username);
        return;
      case 'invalidateUser':
        this.invalidateUser(effect.username);
        return;
      case 'invalidateAll':
        this.clear();
        return;
    }
  }

  /** Registers a token for a user; a replayed entry registering the same token again renews it. */
  assign(token: string, username: string): void {
    this.remove(token);
    this.dropExpired();
    while (this.entries.size >= this.tokensMax) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.remove(oldest);
    }
    this.entries.set(token, { username, expiresAtMs: this.now() + this.ttlMs });
    let tokens = this.tokensByUser.get(username);
    if (tokens === undefined) {
      tokens = new Set();
      this.tokensByUser.set(username, tokens);
    }
    tokens.add(token);
  }

  /** The user a live token belongs to, renewing its lifetime; undefined when unknown or expired. */
  lookup(token: string): string | undefined {
    const entry = this.entries.get(token);
    if (entry === undefined) return undefined;
    const now = this.now();
    if (entry.expiresAtMs <= now) {
      this.remove(token);
      return undefined;
    }
    const renewedExpiryMs = now + this.ttlMs;
    if (renewedExpiryMs - entry.expiresAtMs > RENEWAL_RESOLUTION_MS) {
      entry.expiresAtMs = renewedExpiryMs;
      // Move to the back: the map stays ordered by last use (to within the resolution).
      this.entries.delete(token);
      this.entries.set(token, entry);
    }
    return entry.username;
  }

  invalidateUser(username: string): void {
    for (const token of this.tokensByUser.get(username) ?? []) this.entries.delete(token);
    this.tokensByUser.delete(username);
  }

  clear(): void {
    this.entries.clear();
    this.tokensByUser.clear();
  }

  private remove(token: string): void {
    const entry = this.entries.get(token);
    if (entry === undefined) return;
    this.entries.delete(token);
    const tokens = this.tokensByUser.get(entry.username);
    tokens?.delete(token);
    if (tokens?.size === 0) this.tokensByUser.delete(entry.username);
  }

  /**
   * Expired tokens sit at the front (ordered by last use, one TTL for all): stop at the first live
   * one. A token renewed within the resolution may hide an expired one behind it for that long;
   * lookups refuse expired tokens anyway.
   */
  private dropExpired(): void {
    const now = this.now();
    for (const [token, entry] of this.entries) {
      if (entry.expiresAtMs > now) return;
      this.remove(token);
    }
  }
}
