// MvccStore: the replicated state machine behind etcd's KV API. Committed writes are applied in
// log order; every replica that applies the same writes holds the same history, byte for byte.
// Pure: no I/O, no clock. History is kept for reads at past revisions until compacted.
import { type RangeBound, rangeBound } from './bytes.js';
import {
  type CompactionRequest,
  type DeleteRangeRequest,
  type DeleteRangeResponse,
  ETCD_ERRORS,
  ETCD_LIMITS,
  type EtcdError,
  type KeyValue,
  type KvEvent,
  type KvWriteRequest,
  type KvWriteResponse,
  type PutRequest,
  type PutResponse,
  type RangeRequest,
  type RangeResponse,
  type RequestOp,
  type ResponseOp,
  type TxnRequest,
  type TxnResponse,
} from './etcd-types.js';
import { computeHashKv, type HashKvResult } from './hash.js';
import { type HistoryEvents, type HistoryEventsOptions, readHistoryEvents } from './history-events.js';
import type { KeyHistory } from './key-history.js';
import { KeyIndex } from './key-index.js';
import { executeRange, type ReadView } from './range.js';
import { concatChunks, decodeSnapshot, MvccSnapshotEncoder } from './snapshot.js';
import { compareToPath, findOnPath, TxnPathCursor } from './txn.js';
import { checkRangeRequest, checkWriteRequest } from './validate.js';

export interface MvccStoreOptions {
  /** etcd's --max-txn-ops: most compares, or ops of one branch, in one txn level. Default 128. */
  readonly maxTxnOps?: number;
}

/** Whether a lease exists (puts naming a missing lease are refused); without it leases are not checked. */
export type LeaseLookup = (id: bigint) => boolean;

/** What applying a write did: the response, its events (for watchers) and the store revision after it. */
export interface AppliedWrite {
  readonly response: KvWriteResponse;
  readonly events: KvEvent[];
  readonly revision: number;
}

/** Sizes for metrics and for deciding when to compact. */
export interface MvccStoreStats {
  /** Keys with history (deleted keys count until compaction removes them). */
  readonly keys: number;
  /** Puts and tombstones kept for reads at past revisions. */
  readonly keyRevisions: number;
  /** Approximate bytes of every kept revision: key, value and a fixed per-revision overhead. */
  readonly bytes: number;
}

/** etcd starts a store at revision 1 and with no compaction (-1). */
const INITIAL_REVISION = 1;
const NEVER_COMPACTED = -1;
const EMPTY_VALUE = new Uint8Array(0);

/**
 * A txn op that cannot run once the txn's earlier ops have run: a put with ignoreValue or
 * ignoreLease of a key an earlier delete in the same txn removed (etcd's duplicate-key check
 * misses it when the delete's range end is "\0"). etcd panics applying such an entry, on every
 * member and at every restart; we undo the txn and refuse it. Never escapes commit().
 */
class WriteAborted extends Error {
  readonly error: EtcdError;

  constructor(error: EtcdError) {
    super(error.message);
    this.error = error;
  }
}

/** The changes one write request makes: all at `revision`, in sub-revision order. */
class PendingWrite {
  readonly revision: number;
  readonly events: KvEvent[] = [];
  /** The history each event changed, to undo an aborted write. */
  readonly changed: KeyHistory[] = [];

  constructor(revision: number) {
    this.revision = revision;
  }

  /** Sub-revision of the next change. */
  get changes(): number {
    return this.events.length;
  }
}

/**
 * An MVCC key-value store with etcd v3 semantics: revisions, create/mod revision and version per
 * key, Range at past revisions, Txn with compares and nested txns, and compaction.
 *
 * @example
 * const store = new MvccStore();
 * const key = new TextEncoder().encode('k');
 * const value = new TextEncoder().encode('v');
 * store.apply({ kind: 'put', request: { key, value, lease: 0n, prevKv: false, ignoreValue: false, ignoreLease: false } });
 * store.currentRevision; // 2: a new store is at revision 1, each change adds one
 */
export class MvccStore {
  private readonly index = new KeyIndex();
  private readonly maxTxnOps: number;
  /** Set by the owner of the lease store (ClusterState). */
  leaseExists: LeaseLookup | undefined;
  private revision = INITIAL_REVISION;
  private compacted = NEVER_COMPACTED;
  private keyRevisionCount = 0;
  /** Compactions applied: an encoder started before one cannot finish (it dropped history). */
  private compactions = 0;
  /** Approximate bytes held (see revisionBytes): what etcd's backend quota is checked against. */
  private heldBytes = 0;
  private readonly view: ReadView = {
    visit: (key, bound, revision, visitor) => this.visitAt(key, bound, revision, visitor),
  };

  constructor(options: MvccStoreOptions = {}) {
    this.maxTxnOps = options.maxTxnOps ?? ETCD_LIMITS.maxTxnOps;
    if (!Number.isSafeInteger(this.maxTxnOps) || this.maxTxnOps < 1) {
      throw new Error(`maxTxnOps must be a positive integer, got ${this.maxTxnOps}`);
    }
  }

  /**
   * Rebuilds a store from {@link MvccStore.snapshot} bytes: same revision, compaction and history.
   * @throws MvccSnapshotError when the bytes are not a whole, intact snapshot of a known format.
   */
  static restore(bytes: Uint8Array, options: MvccStoreOptions = {}): MvccStore {
    const decoded = decodeSnapshot(bytes);
    const store = new MvccStore(options);
    store.revision = decoded.revision;
    store.compacted = decoded.compactedRevision;
    store.index.appendSorted(decoded.histories);
    for (const history of decoded.histories) {
      store.keyRevisionCount += history.revisions.length;
      for (const change of history.revisions) store.heldBytes += revisionBytes(history.key, change.kv);
    }
    return store;
  }

  /** The revision of the last change (1 for an empty store). */
  get currentRevision(): number {
    return this.revision;
  }

  /** The last compaction's revision; -1 when never compacted (as etcd, which then still accepts Compact(0)). */
  get compactedRevision(): number {
    return this.compacted;
  }

  get stats(): MvccStoreStats {
    return { keys: this.index.size, keyRevisions: this.keyRevisionCount, bytes: this.heldBytes };
  }

  /**
   * Applies one committed write: Put, DeleteRange, Txn or Compact. A request that fails changes
   * nothing. A request that changes no key (a delete of nothing, a txn that only reads) does not
   * advance the revision; any other advances it by exactly one.
   */
  apply(request: KvWriteRequest): AppliedWrite | { error: EtcdError } {
    const invalid = checkWriteRequest(request, this.maxTxnOps);
    if (invalid !== undefined) return { error: invalid };
    switch (request.kind) {
      case 'put':
        return this.applyPut(request.request);
      case 'deleteRange':
        return this.commit((write) => ({
          kind: 'deleteRange',
          response: this.deleteRange(write, request.request),
        }));
      case 'txn':
        return this.applyTxn(request.request);
      case 'compact':
        return this.applyCompact(request.request);
      default:
        throw new Error(`unknown write kind ${(request as { kind: unknown }).kind}`);
    }
  }

  /** Range at the current revision (`revision` ≤ 0) or a past one not yet compacted. */
  range(request: RangeRequest): RangeResponse | { error: EtcdError } {
    const invalid = checkRangeRequest(request);
    if (invalid !== undefined) return { error: invalid };
    if (request.revision > this.revision) return { error: ETCD_ERRORS.futureRevision };
    const revision = request.revision <= 0 ? this.revision : request.revision;
    if (revision < this.compacted) return { error: ETCD_ERRORS.compacted };
    return executeRange(this.view, request, revision);
  }

  /**
   * A CRC-32C of every kept key revision up to `revision` (0: the current one), equal on replicas
   * that applied the same writes and compacted at the same revision. As etcd's HashKV: a revision
   * at or below the compaction is `compacted`, one above the current revision `futureRevision`.
   */
  hashKv(revision: number): HashKvResult | { error: EtcdError } {
    if (revision > 0 && revision <= this.compacted) return { error: ETCD_ERRORS.compacted };
    if (revision > this.revision) return { error: ETCD_ERRORS.futureRevision };
    const hashRevision = revision > 0 ? revision : this.revision;
    return computeHashKv(this.index, hashRevision, this.compacted);
  }

  /**
   * The events of keys in [key, rangeEnd) (rangeEnd as in Range: empty = one key, "\0" = every key
   * ≥ key) from `fromRevision` on, as apply() reported them (prevKv only when asked), for watchers
   * catching up. At most `maxEvents` events, cut between revisions; read on from `nextRevision`.
   * A `fromRevision` at or below the compaction is `compacted`: the compaction revision itself
   * may have lost its deletions, so only later revisions are complete.
   *
   * @example
   * const read = store.eventsSince(key, new Uint8Array(0), 2, { prevKv: false, maxEvents: 1000 });
   * if (!('error' in read)) for (const event of read.events) console.log(event.type, event.kv.modRevision);
   */
  eventsSince(
    key: Uint8Array,
    rangeEnd: Uint8Array,
    fromRevision: number,
    options: HistoryEventsOptions,
  ): HistoryEvents | { error: EtcdError } {
    if (fromRevision <= this.compacted) return { error: ETCD_ERRORS.compacted };
    return readHistoryEvents(this.index, key, rangeBound(rangeEnd), fromRevision, this.revision, options);
  }

  /** The whole store (revision, compaction, kept history) as versioned, checksummed bytes. */
  snapshot(): Uint8Array {
    const encoder = this.beginSnapshot();
    while (!encoder.step()) {
      // bounded pieces keep the peak memory near the snapshot's size
    }
    const { chunks, byteLength } = encoder.finish();
    return concatChunks(chunks, byteLength);
  }

  /**
   * Starts encoding the store as it is now, to be done a bounded piece at a time while writes are
   * applied in between (a large store encoded at once would stall its member for seconds).
   */
  beginSnapshot(): MvccSnapshotEncoder {
    const compactions = this.compactions;
    return new MvccSnapshotEncoder({
      index: this.index,
      revision: this.revision,
      compactedRevision: this.compacted,
      keyCount: this.index.size,
      keyRevisionCount: this.keyRevisionCount,
      unchanged: () => this.compactions === compactions,
    });
  }

  private applyPut(request: PutRequest): AppliedWrite | { error: EtcdError } {
    const missing = this.checkTxnPut(request);
    if (missing !== undefined) return { error: missing };
    return this.commit((write) => ({ kind: 'put', response: this.put(write, request) }));
  }

  private applyTxn(request: TxnRequest): AppliedWrite | { error: EtcdError } {
    const path = compareToPath(this.view, request, this.revision);
    // etcd checks every put on the path first, then every range (txn.go checkRequests, twice).
    const failed =
      findOnPath(request, new TxnPathCursor(path), (op) =>
        op.kind === 'put' ? this.checkTxnPut(op.request) : undefined,
      ) ??
      findOnPath(request, new TxnPathCursor(path), (op) =>
        op.kind === 'range' ? this.checkTxnRange(op.request) : undefined,
      );
    if (failed !== undefined) return { error: failed };
    return this.commit((write) => {
      const cursor = new TxnPathCursor(path);
      const response = this.txn(write, request, cursor);
      cursor.finish();
      return { kind: 'txn', response };
    });
  }

  /** A put that keeps the value or lease needs the key, as it was before the txn. */
  private checkTxnPut(request: PutRequest): EtcdError | undefined {
    const keeps = request.ignoreValue || request.ignoreLease;
    if (keeps && this.latest(request.key) === undefined) return ETCD_ERRORS.keyNotFound;
    // etcd: a put naming a lease needs the lease to exist (checked after the key, as etcd does).
    if (request.lease !== 0n && this.leaseExists && !this.leaseExists(request.lease))
      return ETCD_ERRORS.leaseNotFound;
    return undefined;
  }

  /** Unlike a plain Range, a negative revision below the compaction point is refused here, as etcd does. */
  private checkTxnRange(request: RangeRequest): EtcdError | undefined {
    if (request.revision === 0) return undefined;
    if (request.revision > this.revision) return ETCD_ERRORS.futureRevision;
    if (request.revision < this.compacted) return ETCD_ERRORS.compacted;
    return undefined;
  }

  private applyCompact(request: CompactionRequest): AppliedWrite | { error: EtcdError } {
    if (request.revision <= this.compacted) return { error: ETCD_ERRORS.compacted };
    if (request.revision > this.revision) return { error: ETCD_ERRORS.futureRevision };
    this.compacted = request.revision;
    this.compactions++;
    let kept = 0;
    let bytes = 0;
    this.index.retain((history) => {
      const keep = history.compact(request.revision);
      kept += history.revisions.length;
      for (const change of history.revisions) bytes += revisionBytes(history.key, change.kv);
      return keep;
    });
    this.keyRevisionCount = kept;
    this.heldBytes = bytes;
    return { response: { kind: 'compact' }, events: [], revision: this.revision };
  }

  /** Runs a write's changes at the next revision; the revision advances only if something changed. */
  private commit(run: (write: PendingWrite) => KvWriteResponse): AppliedWrite | { error: EtcdError } {
    const write = new PendingWrite(this.revision + 1);
    let response: KvWriteResponse;
    try {
      response = run(write);
    } catch (error) {
      if (!(error instanceof WriteAborted)) throw error;
      this.undo(write);
      return { error: error.error };
    }
    if (write.changes > 0) this.revision = write.revision;
    return { response, events: write.events, revision: this.revision };
  }

  /** Removes a write's changes, newest first, and the keys it created. */
  private undo(write: PendingWrite): void {
    for (let i = write.changed.length - 1; i >= 0; i--) {
      const history = write.changed[i]!;
      const removed = history.revisions.pop();
      if (removed?.main !== write.revision) throw new Error("undo: the change to remove is not this write's");
      this.keyRevisionCount--;
      this.heldBytes -= revisionBytes(history.key, removed.kv);
      if (history.revisions.length === 0) this.index.remove(history.key);
    }
  }

  private put(write: PendingWrite, request: PutRequest): PutResponse {
    const existing = this.index.get(request.key);
    // Reads inside a write see its earlier changes: they sit at the write's revision.
    const previous = existing?.visibleAt(write.revision);
    if ((request.ignoreValue || request.ignoreLease) && previous === undefined) {
      if (write.changes === 0)
        throw new Error('put with ignoreValue/ignoreLease on a missing key passed the checks');
      throw new WriteAborted(ETCD_ERRORS.keyNotFound);
    }
    const history = existing ?? this.index.getOrCreate(request.key);
    const kv: KeyValue = {
      key: history.key,
      createRevision: previous?.createRevision ?? write.revision,
      modRevision: write.revision,
      version: (previous?.version ?? 0) + 1,
      value: request.ignoreValue ? previous!.value : new Uint8Array(request.value),
      lease: request.ignoreLease ? previous!.lease : request.lease,
    };
    this.record(write, history, kv);
    return { prevKv: request.prevKv ? previous : undefined };
  }

  private deleteRange(write: PendingWrite, request: DeleteRangeRequest): DeleteRangeResponse {
    const doomed: KeyHistory[] = [];
    const prevKvs: KeyValue[] = [];
    this.index.visit(request.key, rangeBound(request.rangeEnd), (history) => {
      const kv = history.visibleAt(write.revision);
      if (kv !== undefined) {
        doomed.push(history);
        prevKvs.push(kv);
      }
      return true;
    });
    for (const history of doomed) this.record(write, history, undefined);
    return { deleted: doomed.length, prevKvs: request.prevKv ? prevKvs : [] };
  }

  private txn(write: PendingWrite, request: TxnRequest, path: TxnPathCursor): TxnResponse {
    const succeeded = path.take();
    const responses: ResponseOp[] = [];
    for (const op of succeeded ? request.success : request.failure) {
      responses.push(this.txnOp(write, op, path));
    }
    return { succeeded, responses };
  }

  private txnOp(write: PendingWrite, op: RequestOp, path: TxnPathCursor): ResponseOp {
    switch (op.kind) {
      case 'range': {
        // Checked before the txn ran: a given revision is neither compacted nor in the future.
        const revision = op.request.revision > 0 ? op.request.revision : write.revision;
        return { kind: 'range', response: executeRange(this.view, op.request, revision) };
      }
      case 'put':
        return { kind: 'put', response: this.put(write, op.request) };
      case 'deleteRange':
        return { kind: 'deleteRange', response: this.deleteRange(write, op.request) };
      case 'txn':
        return { kind: 'txn', response: this.txn(write, op.request, path) };
    }
  }

  /** Appends one change (a put, or a delete when `kv` is undefined) and its event. */
  private record(write: PendingWrite, history: KeyHistory, kv: KeyValue | undefined): void {
    // As etcd's watch: prevKv is the key before this revision (not before this sub-revision),
    // and a creation has none, even when a delete earlier in the txn removed a previous key.
    const created = kv !== undefined && kv.version === 1;
    const prevKv = created ? undefined : history.visibleAt(write.revision - 1);
    history.append({ main: write.revision, sub: write.changes, kv });
    this.keyRevisionCount++;
    this.heldBytes += revisionBytes(history.key, kv);
    const event: KvEvent =
      kv === undefined
        ? { type: 'DELETE', kv: tombstoneKeyValue(history.key, write.revision), prevKv }
        : { type: 'PUT', kv, prevKv };
    write.events.push(event);
    write.changed.push(history);
  }

  private latest(key: Uint8Array): KeyValue | undefined {
    return this.index.get(key)?.latest();
  }

  private visitAt(
    key: Uint8Array,
    bound: RangeBound,
    revision: number,
    visitor: (kv: KeyValue) => boolean,
  ): void {
    this.index.visit(key, bound, (history) => {
      const kv = history.visibleAt(revision);
      return kv === undefined ? true : visitor(kv);
    });
  }
}

/** A DELETE event's kv: the key, the deletion revision, nothing else (as etcd's watch sends it). */
function tombstoneKeyValue(key: Uint8Array, revision: number): KeyValue {
  return { key, createRevision: 0, modRevision: revision, version: 0, value: EMPTY_VALUE, lease: 0n };
}

/** Per kept revision besides key and value: revision numbers, version, lease and index entries. */
const REVISION_OVERHEAD_BYTES = 64;

function revisionBytes(key: Uint8Array, kv: KeyValue | undefined): number {
  return key.byteLength + (kv?.value.byteLength ?? 0) + REVISION_OVERHEAD_BYTES;
}
