// The queue both Lock and Election are made of (etcd's client/v3/concurrency recipe): every
// contender puts a key `name/<lease id in hex>` attached to its lease; the contender whose key has
// the smallest create revision holds the lock (leads). The others each wait for the deletion of
// the key created last before their own, so one deletion wakes one waiter, not all of them.
import {
  type Compare,
  type EtcdError,
  type RangeRequest,
  type RequestOp,
  rangeRequest,
  type TxnRequest,
} from '@synod/state';
import type { ConcurrencyBackend } from './concurrency-backend.js';

/** etcd's session TTL (client/v3/concurrency/session.go), used when a request carries lease 0. */
export const SESSION_TTL_SECONDS_DEFAULT = 60;

const EMPTY_BYTES: Uint8Array = new Uint8Array(0);
const SLASH = 0x2f;
const BYTE_MAX = 0xff;

/** A watch ended although nobody stopped it: the server is going away (etcd's own wording). */
const LOST_WATCHER: EtcdError = { code: 'Unavailable', message: 'lost watcher waiting for delete' };

/** `name/`: where the contenders' keys of one lock or election live. */
export function contenderPrefix(name: Uint8Array): Uint8Array {
  const prefix = new Uint8Array(name.length + 1);
  prefix.set(name);
  prefix[name.length] = SLASH;
  return prefix;
}

/** `name/<lease id in lowercase hex>`, as Go's `fmt.Sprintf("%s%x", prefix, leaseID)`. */
export function contenderKey(prefix: Uint8Array, lease: bigint): Uint8Array {
  const suffix = new TextEncoder().encode(lease.toString(16));
  const key = new Uint8Array(prefix.length + suffix.length);
  key.set(prefix);
  key.set(suffix, prefix.length);
  return key;
}

/** The end of the range of keys starting with `prefix` (clientv3's GetPrefixRangeEnd). */
export function prefixRangeEnd(prefix: Uint8Array): Uint8Array {
  for (let i = prefix.length - 1; i >= 0; i--) {
    if (prefix[i]! < BYTE_MAX) {
      const end = prefix.slice(0, i + 1);
      end[i]! += 1;
      return end;
    }
  }
  // Only 0xff bytes: every key from `prefix` on.
  return Uint8Array.of(0);
}

// The recipes' tests build their reads with the same builder.
export { rangeRequest };

/** The oldest contender under `prefix` (clientv3's WithFirstCreate): the holder or leader. */
export function firstCreated(prefix: Uint8Array): RangeRequest {
  return rangeRequest(prefix, {
    rangeEnd: prefixRangeEnd(prefix),
    sortTarget: 'CREATE',
    sortOrder: 'ASCEND',
    limit: 1,
  });
}

/** The newest contender under `prefix` created at or before `maxCreateRevision`. */
function lastCreatedUpTo(prefix: Uint8Array, maxCreateRevision: number): RangeRequest {
  return rangeRequest(prefix, {
    rangeEnd: prefixRangeEnd(prefix),
    sortTarget: 'CREATE',
    sortOrder: 'DESCEND',
    limit: 1,
    maxCreateRevision,
  });
}

/** `create_revision(key) == createRevision` (0: the key does not exist). */
export function createRevisionIs(key: Uint8Array, createRevision: number): Compare {
  return {
    result: 'EQUAL',
    target: 'CREATE',
    key,
    rangeEnd: EMPTY_BYTES,
    version: 0,
    createRevision,
    modRevision: 0,
    value: EMPTY_BYTES,
    lease: 0n,
  };
}

export function putOp(key: Uint8Array, value: Uint8Array, lease: bigint): RequestOp {
  return {
    kind: 'put',
    request: { key, value, lease, prevKv: false, ignoreValue: false, ignoreLease: false },
  };
}

export function getOp(request: RangeRequest): RequestOp {
  return { kind: 'range', request };
}

export function deleteOp(key: Uint8Array): RequestOp {
  return { kind: 'deleteRange', request: { key, rangeEnd: EMPTY_BYTES, prevKv: false } };
}

/** A txn of plain operations, no compares (a write as KV.Put or KV.DeleteRange would make it). */
export function unconditional(...ops: RequestOp[]): TxnRequest {
  return { compare: [], success: ops, failure: [] };
}

/** How waiting for one's turn ended. */
export type WaitOutcome =
  /** Every contender created before us is gone: we hold the lock (lead) unless our key went too. */
  | { readonly kind: 'first' }
  /** Our own key was deleted while we waited (its lease expired, or someone deleted it). */
  | { readonly kind: 'lost' }
  /** The caller went away (signal aborted). */
  | { readonly kind: 'aborted' }
  | { readonly kind: 'failed'; readonly error: EtcdError };

const FIRST: WaitOutcome = { kind: 'first' };
const LOST: WaitOutcome = { kind: 'lost' };
const ABORTED: WaitOutcome = { kind: 'aborted' };

/**
 * Waits until `key`, present at `observedRevision`, is deleted after it. One watch from the next
 * revision on sees the deletion even when it happened before the watch was set up.
 */
export async function waitForDeletion(
  backend: ConcurrencyBackend,
  key: Uint8Array,
  observedRevision: number,
  signal: AbortSignal,
): Promise<'deleted' | WaitOutcome> {
  for await (const update of backend.watch(key, EMPTY_BYTES, observedRevision + 1, signal)) {
    if (update.kind === 'canceled') return { kind: 'failed', error: update.error };
    if (update.events.some((event) => event.type === 'DELETE')) return 'deleted';
  }
  return signal.aborted ? ABORTED : { kind: 'failed', error: LOST_WATCHER };
}

/**
 * etcd's waitDeletes: until no key under `prefix` was created before `createRevision`, find the
 * newest such key and wait for its deletion. Terminates: a key created before us can only go
 * away, never come back with an older create revision, so each round removes one for good.
 */
export async function waitForPredecessors(
  backend: ConcurrencyBackend,
  prefix: Uint8Array,
  createRevision: number,
  signal: AbortSignal,
): Promise<WaitOutcome> {
  for (;;) {
    if (signal.aborted) return ABORTED;
    const answer = await backend.range(lastCreatedUpTo(prefix, createRevision - 1));
    if (!answer.ok) return { kind: 'failed', error: answer.error };
    const predecessor = answer.value.kvs[0];
    if (predecessor === undefined) return FIRST;
    const outcome = await waitForDeletion(backend, predecessor.key, answer.revision, signal);
    if (outcome !== 'deleted') return outcome;
  }
}

/**
 * Waits for our turn while also watching our own key: if its lease expires (the key is deleted)
 * while we wait, the wait fails at once rather than when our turn comes.
 */
export async function waitForTurn(
  backend: ConcurrencyBackend,
  prefix: Uint8Array,
  ownKey: Uint8Array,
  ownCreateRevision: number,
  observedRevision: number,
  signal: AbortSignal,
): Promise<WaitOutcome> {
  const controller = new AbortController();
  const stop = (): void => controller.abort();
  signal.addEventListener('abort', stop, { once: true });
  try {
    const lost = waitForDeletion(backend, ownKey, observedRevision, controller.signal).then((outcome) =>
      outcome === 'deleted' ? LOST : outcome,
    );
    const first = waitForPredecessors(backend, prefix, ownCreateRevision, controller.signal);
    // The loser is stopped below and settles later; its outcome no longer matters.
    lost.catch(ignore);
    first.catch(ignore);
    return await Promise.race([lost, first]);
  } finally {
    signal.removeEventListener('abort', stop);
    controller.abort();
  }
}

function ignore(): void {}
