// etcd's mutex recipe (client/v3/concurrency) as pure request builders and answer readers, for
// simulated clients that run it through Raft: put `name/<lease hex>` with the lease unless it
// exists, then hold the lock once no key under `name/` has an older create revision. The key's
// create revision is the holder's fencing token. Written against @synod/state's request shapes
// (the server's copy lives in @synod/server, which the simulator may not import).
import {
  type Compare,
  type RangeRequest,
  type RangeResponse,
  type RequestOp,
  rangeRequest,
  type TxnRequest,
  type TxnResponse,
} from '@synod/state';

const encoder = new TextEncoder();
const NO_BYTES = new Uint8Array(0);

export function bytesOf(text: string): Uint8Array {
  return encoder.encode(text);
}

/** The key a contender with `lease` puts under lock `name` (Go's `%s/%x`). */
export function contenderKey(name: string, lease: bigint): string {
  return `${name}/${lease.toString(16)}`;
}

/** `[name/, name0)`: every contender of lock `name` ('0' follows '/'). */
export function contenderRange(name: string): { key: Uint8Array; rangeEnd: Uint8Array } {
  return { key: bytesOf(`${name}/`), rangeEnd: bytesOf(`${name}0`) };
}

/** The oldest contender (clientv3's WithFirstCreate): the holder. */
export function oldestContender(name: string, revision = 0): RangeRequest {
  const { key, rangeEnd } = contenderRange(name);
  return rangeRequest(key, {
    rangeEnd,
    sortTarget: 'CREATE',
    sortOrder: 'ASCEND',
    limit: 1,
    revision,
  });
}

/** The newest contender created before `createRevision`: the one to wait for (etcd's waitDeletes). */
export function newestOlderContender(name: string, createRevision: number): RangeRequest {
  const { key, rangeEnd } = contenderRange(name);
  return rangeRequest(key, {
    rangeEnd,
    sortTarget: 'CREATE',
    sortOrder: 'DESCEND',
    limit: 1,
    maxCreateRevision: createRevision - 1,
  });
}

function keyIsAbsent(key: Uint8Array): Compare {
  return {
    result: 'EQUAL',
    target: 'CREATE',
    key,
    rangeEnd: NO_BYTES,
    version: 0,
    createRevision: 0,
    modRevision: 0,
    value: NO_BYTES,
    lease: 0n,
  };
}

function get(request: RangeRequest): RequestOp {
  return { kind: 'range', request };
}

/**
 * The entering txn: `If(create_revision(key) == 0) Then(Put(key, lease), Get(oldest))
 * Else(Get(key), Get(oldest))`. Retrying it after a lost answer is safe: the Else branch reads the
 * key the first attempt created.
 */
export function enterTxn(name: string, lease: bigint): TxnRequest {
  const key = bytesOf(contenderKey(name, lease));
  return {
    compare: [keyIsAbsent(key)],
    success: [
      {
        kind: 'put',
        request: { key, value: NO_BYTES, lease, prevKv: false, ignoreValue: false, ignoreLease: false },
      },
      get(oldestContender(name)),
    ],
    failure: [get(rangeRequest(key)), get(oldestContender(name))],
  };
}

/** What the entering txn told the contender. */
export type EnterOutcome =
  /** Our key exists with this create revision; `holds` when it is the oldest. */
  | { readonly kind: 'entered'; readonly createRevision: number; readonly holds: boolean }
  /** The Else branch found no key: it was deleted between attempts (the lease went). */
  | { readonly kind: 'lost' };

export function readEnterAnswer(response: TxnResponse, revision: number): EnterOutcome {
  const [own, oldest] = response.responses;
  if (oldest?.kind !== 'range') throw new Error('the entering txn answered without the oldest contender');
  let createRevision: number | undefined;
  if (response.succeeded) createRevision = revision;
  else if (own?.kind === 'range') createRevision = own.response.kvs[0]?.createRevision;
  if (createRevision === undefined) return { kind: 'lost' };
  const first = oldest.response.kvs[0];
  return { kind: 'entered', createRevision, holds: first?.createRevision === createRevision };
}

/** One linearizable read while waiting: the predecessor to wait for, and our own key. */
export function waitReads(name: string, lease: bigint, createRevision: number): RangeRequest[] {
  return [newestOlderContender(name, createRevision), rangeRequest(bytesOf(contenderKey(name, lease)))];
}

export type WaitOutcome = 'holds' | 'wait' | 'lost';

/**
 * Our key gone: lost (etcd 3.5+ checks this after waiting). No older contender left: we hold the
 * lock, as of the read's revision. Otherwise wait (a watch in etcd; the simulated client polls).
 */
export function readWaitAnswer(responses: readonly RangeResponse[], createRevision: number): WaitOutcome {
  const [older, own] = responses;
  if (older === undefined || own === undefined) throw new Error('a wait read answered without both ranges');
  if (own.kvs[0]?.createRevision !== createRevision) return 'lost';
  return older.kvs.length === 0 ? 'holds' : 'wait';
}

/** Release: delete our key (etcd's Unlock). */
export function releaseTxn(name: string, lease: bigint): TxnRequest {
  const key = bytesOf(contenderKey(name, lease));
  return {
    compare: [],
    success: [{ kind: 'deleteRange', request: { key, rangeEnd: NO_BYTES, prevKv: false } }],
    failure: [],
  };
}
