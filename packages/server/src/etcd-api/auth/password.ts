// Password hashing at the edge, before a user change is proposed: the log carries the hash, never
// the password, and every member stores the same bytes. scrypt from node:crypto (memory-hard, in
// Node itself) instead of etcd's bcrypt: bcrypt would need a native or third-party package, and
// clients never see the hash, so the algorithm is ours to choose.
//
// Encoded as `$scrypt$ln=<log2 N>,r=<r>,p=<p>$<salt base64>$<hash base64>` (the PHC string style),
// so the parameters travel with the hash and can be raised later without breaking old users.
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { BulkheadRejectedError, bulkhead } from '@synod/core/resilience';

/** Work factors: N = 2^14, r = 8, p = 1 (16 MiB and tens of milliseconds per hash, like bcrypt cost 10). */
export const PASSWORD_SCRYPT_LOG2_COST = 14;
export const PASSWORD_SCRYPT_BLOCK_SIZE = 8;
export const PASSWORD_SCRYPT_PARALLELIZATION = 1;
export const PASSWORD_SALT_BYTES = 16;
export const PASSWORD_HASH_BYTES = 32;
/** Hashes run on libuv's thread pool; bound them so logins cannot starve file I/O. */
export const PASSWORD_HASHES_CONCURRENT_MAX = 2;
/** Hashes that may wait for a slot; one more is refused (etcd's "too many requests"). */
export const PASSWORD_HASH_QUEUE_MAX = 64;
/** Largest parameters a stored hash may ask for (2^16 · 128 · 16 = 128 MiB): bounds the work a bad entry causes. */
const LOG2_COST_MAX = 16;
const BLOCK_SIZE_MAX = 16;
const PARALLELIZATION_MAX = 4;
const SCRYPT_BYTES_PER_UNIT = 128;
const ENCODED_PATTERN =
  /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d)\$([A-Za-z0-9+/]+={0,2})\$([A-Za-z0-9+/]+={0,2})$/;

/** The hasher is saturated: answer the client with etcd's "too many requests". */
export class PasswordHasherBusyError extends Error {
  constructor() {
    super(
      `password hashing is saturated (${PASSWORD_HASHES_CONCURRENT_MAX} running, ${PASSWORD_HASH_QUEUE_MAX} waiting)`,
    );
    this.name = 'PasswordHasherBusyError';
  }
}

interface ScryptParameters {
  readonly log2Cost: number;
  readonly blockSize: number;
  readonly parallelization: number;
}

const DEFAULT_PARAMETERS: ScryptParameters = {
  log2Cost: PASSWORD_SCRYPT_LOG2_COST,
  blockSize: PASSWORD_SCRYPT_BLOCK_SIZE,
  parallelization: PASSWORD_SCRYPT_PARALLELIZATION,
};

function derive(
  password: string,
  salt: Uint8Array,
  parameters: ScryptParameters,
  keyBytes: number,
): Promise<Buffer> {
  const { log2Cost, blockSize, parallelization } = parameters;
  const N = 2 ** log2Cost;
  // scrypt needs 128·N·r·p bytes; Node refuses more than maxmem (32 MiB by default).
  const maxmem = 2 * SCRYPT_BYTES_PER_UNIT * N * blockSize * parallelization;
  return new Promise((resolve, reject) => {
    scrypt(password, salt, keyBytes, { N, r: blockSize, p: parallelization, maxmem }, (error, key) =>
      error ? reject(error) : resolve(key),
    );
  });
}

/**
 * Hashes and verifies passwords with scrypt, at most PASSWORD_HASHES_CONCURRENT_MAX at a time.
 *
 * @example
 * const hasher = new PasswordHasher();
 * const encoded = await hasher.hash('s3cret');      // goes into the userAdd command
 * await hasher.verify('s3cret', encoded);           // true
 */
export class PasswordHasher {
  private readonly slots = bulkhead({
    maxConcurrent: PASSWORD_HASHES_CONCURRENT_MAX,
    maxQueueLength: PASSWORD_HASH_QUEUE_MAX,
  });
  private readonly parameters: ScryptParameters;
  /** Verified against when the user does not exist, so a miss takes as long as a wrong password. */
  private decoyHash: Promise<string> | undefined;

  /** `log2Cost` below the default is for tests only (fast hashes). */
  constructor(options: { log2Cost?: number } = {}) {
    this.parameters = { ...DEFAULT_PARAMETERS, log2Cost: options.log2Cost ?? PASSWORD_SCRYPT_LOG2_COST };
  }

  /** A new encoded hash with a random salt. @throws PasswordHasherBusyError when saturated. */
  async hash(password: string): Promise<string> {
    const salt = randomBytes(PASSWORD_SALT_BYTES);
    const key = await this.run(() => derive(password, salt, this.parameters, PASSWORD_HASH_BYTES));
    const { log2Cost, blockSize, parallelization } = this.parameters;
    return `$scrypt$ln=${log2Cost},r=${blockSize},p=${parallelization}$${salt.toString('base64')}$${key.toString('base64')}`;
  }

  /**
   * Whether `password` matches `encoded`, compared in constant time. A malformed or out-of-bounds
   * `encoded` (an empty hash: a user without password) never matches.
   * @throws PasswordHasherBusyError when saturated.
   */
  async verify(password: string, encoded: string): Promise<boolean> {
    const parsed = parseEncoded(encoded);
    if (parsed === undefined) return false;
    const key = await this.run(() => derive(password, parsed.salt, parsed.parameters, parsed.hash.length));
    return key.length === parsed.hash.length && timingSafeEqual(key, parsed.hash);
  }

  /** Spends the time a real check would, for a user that does not exist; always false. */
  async verifyDecoy(password: string): Promise<false> {
    this.decoyHash ??= this.hash('decoy password');
    await this.verify(password, await this.decoyHash);
    return false;
  }

  private async run<T>(operation: () => Promise<T>): Promise<T> {
    try {
      return await this.slots.execute(operation);
    } catch (error) {
      if (error instanceof BulkheadRejectedError) throw new PasswordHasherBusyError();
      throw error;
    }
  }
}

function parseEncoded(
  encoded: string,
): { parameters: ScryptParameters; salt: Buffer; hash: Buffer } | undefined {
  const match = ENCODED_PATTERN.exec(encoded);
  if (match === null) return undefined;
  const parameters = {
    log2Cost: Number(match[1]),
    blockSize: Number(match[2]),
    parallelization: Number(match[3]),
  };
  if (
    parameters.log2Cost < 1 ||
    parameters.log2Cost > LOG2_COST_MAX ||
    parameters.blockSize < 1 ||
    parameters.blockSize > BLOCK_SIZE_MAX ||
    parameters.parallelization < 1 ||
    parameters.parallelization > PARALLELIZATION_MAX
  ) {
    return undefined;
  }
  const salt = Buffer.from(match[4]!, 'base64');
  const hash = Buffer.from(match[5]!, 'base64');
  if (salt.length === 0 || hash.length < PASSWORD_HASH_BYTES / 2) return undefined;
  return { parameters, salt, hash };
}
