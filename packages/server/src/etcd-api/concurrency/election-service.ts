// etcd's Election gRPC service (v3electionpb.Election), thin (STYLE §4): the same queue as the
// lock (recipe.ts), with the candidate's value stored in its key. The leader is the candidate
// whose key is oldest; its key's create revision (LeaderKey.rev) is the fencing token, and
// Proclaim and Resign act only while that exact key still exists.
import type { KeyValue } from '@synod/state';
import { type ServerStreamCall, serverStreaming, unary } from '../../grpc/methods.js';
import type { GrpcServer } from '../../grpc/server.js';
import type { ConcurrencyBackend } from './concurrency-backend.js';
import {
  type CampaignRequest,
  type CampaignResponse,
  CONCURRENCY_METHOD_CODECS,
  type LeaderKey,
  type LeaderRequest,
  type LeaderResponse,
  type ProclaimRequest,
  type ProclaimResponse,
  type ResignRequest,
  type ResignResponse,
} from './concurrency-messages.js';
import { RECIPE_ERRORS, recipeError, toGrpcError } from './errors.js';
import { type HeaderAt, leaseFor } from './lock-service.js';
import {
  contenderKey,
  contenderPrefix,
  createRevisionIs,
  deleteOp,
  firstCreated,
  getOp,
  prefixRangeEnd,
  putOp,
  rangeRequest,
  waitForTurn,
} from './recipe.js';

const EMPTY_BYTES: Uint8Array = new Uint8Array(0);

/**
 * Registers `v3electionpb.Election` (Campaign, Proclaim, Leader, Observe, Resign) on `grpc`.
 *
 * @example
 * registerElectionService(grpc, backend, (revision) => ({ clusterId, memberId, revision, raftTerm }));
 */
export function registerElectionService(
  grpc: GrpcServer,
  backend: ConcurrencyBackend,
  header: HeaderAt,
): void {
  const codecs = CONCURRENCY_METHOD_CODECS.Election;
  grpc.addService('v3electionpb.Election', {
    Campaign: unary(codecs.Campaign, (request, context) =>
      campaign(backend, header, request, context.signal),
    ),
    Proclaim: unary(codecs.Proclaim, (request) => proclaim(backend, header, request)),
    Leader: unary(codecs.Leader, (request) => leader(backend, header, request)),
    Observe: serverStreaming(codecs.Observe, (request, call) => observe(backend, header, request, call)),
    Resign: unary(codecs.Resign, (request) => resign(backend, header, request)),
  });
}

/**
 * Enters the candidate `name/<lease>` with `value` (or takes over the existing one, proclaiming
 * the new value), then waits until it is the oldest. Answers with the header of the entering txn
 * (as etcd does) and the leader key.
 */
export async function campaign(
  backend: ConcurrencyBackend,
  header: HeaderAt,
  request: CampaignRequest,
  signal: AbortSignal,
): Promise<CampaignResponse> {
  const lease = await leaseFor(backend, request.lease);
  const prefix = contenderPrefix(request.name);
  const key = contenderKey(prefix, lease);
  const answer = await backend.txn({
    compare: [createRevisionIs(key, 0)],
    success: [putOp(key, request.value, lease)],
    failure: [getOp(rangeRequest(key))],
  });
  if (!answer.ok) throw toGrpcError(answer.error);
  const leaderKey = await enter(backend, header, request, lease, key, answer);
  if (signal.aborted) return withdraw(backend, leaderKey, signal);
  const outcome = await waitForTurn(backend, prefix, key, leaderKey.rev, answer.revision, signal);
  switch (outcome.kind) {
    case 'first':
      if (!(await stillHolds(backend, leaderKey))) throw recipeError(RECIPE_ERRORS.notLeader);
      return { header: header(answer.revision), leader: leaderKey };
    case 'lost':
      throw recipeError(RECIPE_ERRORS.notLeader);
    case 'aborted':
      return withdraw(backend, leaderKey, signal);
    case 'failed':
      // As etcd: only a cancelled campaign resigns; after a failure the key stays for a retry.
      throw toGrpcError(outcome.error);
  }
}

/** The candidate's leader key; a re-campaign with a new value proclaims it first. */
async function enter(
  backend: ConcurrencyBackend,
  header: HeaderAt,
  request: CampaignRequest,
  lease: bigint,
  key: Uint8Array,
  answer: Awaited<ReturnType<ConcurrencyBackend['txn']>> & { ok: true },
): Promise<LeaderKey> {
  if (answer.value.succeeded) return { name: request.name, key, rev: answer.revision, lease };
  const existing = answer.value.responses[0];
  const kv = existing?.kind === 'range' ? existing.response.kvs[0] : undefined;
  // The txn took its failure branch only because the key exists, and read it in the same revision.
  if (kv === undefined) throw new Error('a campaign txn found its key and then did not read it');
  const leaderKey: LeaderKey = { name: request.name, key, rev: kv.createRevision, lease };
  if (!sameBytes(kv.value, request.value)) {
    try {
      await proclaim(backend, header, { leader: leaderKey, value: request.value });
    } catch (error) {
      await resign(backend, header, { leader: leaderKey }).catch(() => undefined);
      throw error;
    }
  }
  return leaderKey;
}

async function stillHolds(backend: ConcurrencyBackend, leaderKey: LeaderKey): Promise<boolean> {
  const answer = await backend.range(rangeRequest(leaderKey.key));
  if (!answer.ok) throw toGrpcError(answer.error);
  return answer.value.kvs[0]?.createRevision === leaderKey.rev;
}

/** The caller went away while waiting: resign so the candidacy blocks nobody. */
async function withdraw(
  backend: ConcurrencyBackend,
  leaderKey: LeaderKey,
  signal: AbortSignal,
): Promise<never> {
  await backend
    .txn({
      compare: [createRevisionIs(leaderKey.key, leaderKey.rev)],
      success: [deleteOp(leaderKey.key)],
      failure: [],
    })
    .catch(() => undefined);
  throw signal.reason;
}

/** Replaces the leader's value, if `leader` still names the current key (same create revision). */
export async function proclaim(
  backend: ConcurrencyBackend,
  header: HeaderAt,
  request: ProclaimRequest,
): Promise<ProclaimResponse> {
  const leaderKey = request.leader;
  if (leaderKey === undefined) throw recipeError(RECIPE_ERRORS.missingLeaderKey);
  const answer = await backend.txn({
    compare: [createRevisionIs(leaderKey.key, leaderKey.rev)],
    success: [putOp(leaderKey.key, request.value, leaderKey.lease)],
    failure: [],
  });
  if (!answer.ok) throw toGrpcError(answer.error);
  if (!answer.value.succeeded) throw recipeError(RECIPE_ERRORS.notLeader);
  return { header: header(answer.revision) };
}

/** Deletes the leader key if it is still this term's; succeeds either way, as etcd's Resign. */
export async function resign(
  backend: ConcurrencyBackend,
  header: HeaderAt,
  request: ResignRequest,
): Promise<ResignResponse> {
  const leaderKey = request.leader;
  if (leaderKey === undefined) throw recipeError(RECIPE_ERRORS.missingLeaderKey);
  const answer = await backend.txn({
    compare: [createRevisionIs(leaderKey.key, leaderKey.rev)],
    success: [deleteOp(leaderKey.key)],
    failure: [],
  });
  if (!answer.ok) throw toGrpcError(answer.error);
  return { header: header(answer.revision) };
}

/** The oldest candidate's key and value. */
export async function leader(
  backend: ConcurrencyBackend,
  header: HeaderAt,
  request: LeaderRequest,
): Promise<LeaderResponse> {
  const answer = await backend.range(firstCreated(contenderPrefix(request.name)));
  if (!answer.ok) throw toGrpcError(answer.error);
  const kv = answer.value.kvs[0];
  if (kv === undefined) throw recipeError(RECIPE_ERRORS.noLeader);
  return { header: header(answer.revision), kv };
}

/**
 * Streams the leader's key and value: the current one (or, with none, the first to come), then
 * every new value it proclaims; when it goes, the next leader. Like etcd's, it may skip leaders
 * that come and go in between, but always ends up showing the latest.
 */
export async function observe(
  backend: ConcurrencyBackend,
  header: HeaderAt,
  request: LeaderRequest,
  call: ServerStreamCall<LeaderResponse>,
): Promise<void> {
  const prefix = contenderPrefix(request.name);
  while (!call.signal.aborted) {
    const answer = await backend.range(firstCreated(prefix));
    if (!answer.ok) throw toGrpcError(answer.error);
    const current =
      answer.value.kvs[0] ?? (await firstCandidate(backend, prefix, answer.revision, call.signal));
    if (current === undefined) return;
    const revision = Math.max(answer.revision, current.modRevision);
    await call.send({ header: header(revision), kv: current });
    await followUntilDeleted(backend, header, current.key, revision, call);
  }
}

/** Waits for the first candidate after `revision` when there was none; undefined if the call ends. */
async function firstCandidate(
  backend: ConcurrencyBackend,
  prefix: Uint8Array,
  revision: number,
  signal: AbortSignal,
): Promise<KeyValue | undefined> {
  for await (const update of backend.watch(prefix, prefixRangeEnd(prefix), revision + 1, signal)) {
    if (update.kind === 'canceled') throw toGrpcError(update.error);
    const put = update.events.find((event) => event.type === 'PUT');
    if (put !== undefined) return put.kv;
  }
  return undefined;
}

/** Sends every new value of the leader key after `revision` until the key is deleted. */
async function followUntilDeleted(
  backend: ConcurrencyBackend,
  header: HeaderAt,
  key: Uint8Array,
  revision: number,
  call: ServerStreamCall<LeaderResponse>,
): Promise<void> {
  for await (const update of backend.watch(key, EMPTY_BYTES, revision + 1, call.signal)) {
    if (update.kind === 'canceled') throw toGrpcError(update.error);
    for (const event of update.events) {
      if (event.type === 'DELETE') return;
      await call.send({ header: header(event.kv.modRevision), kv: event.kv });
    }
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}
