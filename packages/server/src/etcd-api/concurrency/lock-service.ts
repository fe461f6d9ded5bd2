// etcd's Lock gRPC service (v3lockpb.Lock), thin (STYLE §4): the recipe in recipe.ts does the
// waiting, a ConcurrencyBackend the storing. As etcd's server does, a Lock is etcd's client-side
// mutex run on the server: the answer comes once the caller's key is the oldest under `name/`.
import type { ResponseHeader } from '@synod/state';
import { unary } from '../../grpc/methods.js';
import type { GrpcServer } from '../../grpc/server.js';
import type { ConcurrencyBackend } from './concurrency-backend.js';
import {
  CONCURRENCY_METHOD_CODECS,
  type LockRequest,
  type LockResponse,
  type UnlockRequest,
  type UnlockResponse,
} from './concurrency-messages.js';
import { RECIPE_ERRORS, recipeError, toGrpcError } from './errors.js';
import {
  contenderKey,
  contenderPrefix,
  createRevisionIs,
  deleteOp,
  firstCreated,
  getOp,
  putOp,
  rangeRequest,
  SESSION_TTL_SECONDS_DEFAULT,
  unconditional,
  waitForTurn,
} from './recipe.js';

/** The response header at a store revision (cluster and member ids, Raft term filled in). */
export type HeaderAt = (revision: number) => ResponseHeader;

const EMPTY_VALUE: Uint8Array = new Uint8Array(0);

/**
 * Registers `v3lockpb.Lock` (Lock, Unlock) on `grpc`.
 *
 * @example
 * registerLockService(grpc, backend, (revision) => ({ clusterId, memberId, revision, raftTerm }));
 */
export function registerLockService(grpc: GrpcServer, backend: ConcurrencyBackend, header: HeaderAt): void {
  const codecs = CONCURRENCY_METHOD_CODECS.Lock;
  grpc.addService('v3lockpb.Lock', {
    Lock: unary(codecs.Lock, (request, context) => lock(backend, header, request, context.signal)),
    Unlock: unary(codecs.Unlock, (request) => unlock(backend, header, request)),
  });
}

/**
 * A lease for a request that named none: etcd grants a session lease of 60 s and never renews it,
 * so the lock goes away by itself a minute later unless unlocked.
 */
export async function leaseFor(backend: ConcurrencyBackend, lease: bigint): Promise<bigint> {
  if (lease !== 0n) return lease;
  const granted = await backend.grantLease(SESSION_TTL_SECONDS_DEFAULT);
  if (!granted.ok) throw toGrpcError(granted.error);
  return granted.id;
}

/**
 * Puts `name/<lease>` unless present (a second Lock with the same lease reuses it), then waits
 * until no key under `name/` is older. The key's create revision is the fencing token.
 */
export async function lock(
  backend: ConcurrencyBackend,
  header: HeaderAt,
  request: LockRequest,
  signal: AbortSignal,
): Promise<LockResponse> {
  const lease = await leaseFor(backend, request.lease);
  const prefix = contenderPrefix(request.name);
  const key = contenderKey(prefix, lease);
  const answer = await backend.txn({
    compare: [createRevisionIs(key, 0)],
    success: [putOp(key, EMPTY_VALUE, lease), getOp(firstCreated(prefix))],
    failure: [getOp(rangeRequest(key)), getOp(firstCreated(prefix))],
  });
  if (!answer.ok) throw toGrpcError(answer.error);
  // Success: [put, first contender]; failure: [our key, first contender].
  const [ownOp, ownerOp] = answer.value.responses;
  if (ownerOp?.kind !== 'range') throw new Error('a lock txn answered without its range of contenders');
  const createRevision = answer.value.succeeded
    ? answer.revision
    : ownOp?.kind === 'range'
      ? ownOp.response.kvs[0]?.createRevision
      : undefined;
  // The txn took its failure branch only because the key exists, and read it in the same revision.
  if (createRevision === undefined) throw new Error('a lock txn found its key and then did not read it');
  if (signal.aborted) return abandon(backend, key, signal);
  const owner = ownerOp.response.kvs[0];
  if (owner === undefined || owner.createRevision === createRevision) {
    return { header: header(answer.revision), key };
  }
  const outcome = await waitForTurn(backend, prefix, key, createRevision, answer.revision, signal);
  switch (outcome.kind) {
    case 'first':
      return confirmOwnership(backend, header, key, createRevision, signal);
    case 'lost':
      throw recipeError(RECIPE_ERRORS.sessionExpired);
    case 'aborted':
      return abandon(backend, key, signal);
    case 'failed':
      await deleteQuietly(backend, key);
      throw toGrpcError(outcome.error);
  }
}

/** Our turn came; the key must still be ours (etcd 3.5+ checks the same after waiting). */
async function confirmOwnership(
  backend: ConcurrencyBackend,
  header: HeaderAt,
  key: Uint8Array,
  createRevision: number,
  signal: AbortSignal,
): Promise<LockResponse> {
  const answer = await backend.range(rangeRequest(key));
  if (!answer.ok) {
    await deleteQuietly(backend, key);
    throw toGrpcError(answer.error);
  }
  if (answer.value.kvs[0]?.createRevision !== createRevision) throw recipeError(RECIPE_ERRORS.sessionExpired);
  if (signal.aborted) return abandon(backend, key, signal);
  return { header: header(answer.revision), key };
}

/** The caller went away while waiting: take our key out of the queue so it blocks nobody. */
async function abandon(backend: ConcurrencyBackend, key: Uint8Array, signal: AbortSignal): Promise<never> {
  await deleteQuietly(backend, key);
  throw signal.reason;
}

/** Best effort: if this fails too, the key still goes when its lease expires. */
async function deleteQuietly(backend: ConcurrencyBackend, key: Uint8Array): Promise<void> {
  await backend.txn(unconditional(deleteOp(key))).catch(() => undefined);
}

/** Deletes the ownership key (etcd's Unlock is a plain Delete, whoever's key it is). */
export async function unlock(
  backend: ConcurrencyBackend,
  header: HeaderAt,
  request: UnlockRequest,
): Promise<UnlockResponse> {
  const answer = await backend.txn(unconditional(deleteOp(request.key)));
  if (!answer.ok) throw toGrpcError(answer.error);
  return { header: header(answer.revision) };
}
