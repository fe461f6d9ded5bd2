// A deliberately naive MvccStore for property tests: one flat list of every change ever made,
// scanned in full for every question. Compaction only moves a watermark, so reads the real store
// serves from its pruned history are checked against the full one. Static request checks are
// shared with the store (validate.ts has its own tests); everything that depends on state is not.
import { bytesEqual, compareBytes } from './bytes.js';
import {
  type Compare,
  ETCD_ERRORS,
  ETCD_LIMITS,
  type EtcdError,
  type KeyValue,
  type KvEvent,
  type KvWriteRequest,
  type KvWriteResponse,
  type PutRequest,
  type RangeRequest,
  type RangeResponse,
  type RequestOp,
  type ResponseOp,
  type TxnRequest,
  type TxnResponse,
} from './etcd-types.js';
import { checkRangeRequest, checkWriteRequest } from './validate.js';

interface Change {
  readonly main: number;
  readonly sub: number;
  readonly key: Uint8Array;
  readonly kv: KeyValue | undefined;
}

type ModelResult = { response: KvWriteResponse; events: KvEvent[]; revision: number } | { error: EtcdError };

export class ReferenceModel {
  readonly changes: Change[] = [];
  revision = 1;
  compacted = -1;
  private pending: KvEvent[] = [];

  apply(request: KvWriteRequest): ModelResult {
    const invalid = checkWriteRequest(request, ETCD_LIMITS.maxTxnOps);
    if (invalid !== undefined) return { error: invalid };
    if (request.kind === 'compact') {
      const target = request.request.revision;
      if (target <= this.compacted) return { error: ETCD_ERRORS.compacted };
      if (target > this.revision) return { error: ETCD_ERRORS.futureRevision };
      this.compacted = target;
      return { response: { kind: 'compact' }, events: [], revision: this.revision };
    }
    const refused = this.refusal(request);
    if (refused !== undefined) return { error: refused };
    this.pending = [];
    const changesBefore = this.changes.length;
    let response: KvWriteResponse;
    try {
      if (request.kind === 'put') response = { kind: 'put', response: this.put(request.request) };
      else if (request.kind === 'deleteRange')
        response = { kind: 'deleteRange', response: this.delete(request.request) };
      else response = { kind: 'txn', response: this.txn(request.request) };
    } catch (error) {
      // A put that needs a key an earlier op of the same txn deleted: refused whole.
      if (error !== ETCD_ERRORS.keyNotFound) throw error;
      this.changes.length = changesBefore;
      return { error: ETCD_ERRORS.keyNotFound };
    }
    if (this.pending.length > 0) this.revision++;
    return { response, events: this.pending, revision: this.revision };
  }

  range(request: RangeRequest): RangeResponse | { error: EtcdError } {
    const invalid = checkRangeRequest(request);
    if (invalid !== undefined) return { error: invalid };
    if (request.revision > this.revision) return { error: ETCD_ERRORS.futureRevision };
    const at = request.revision > 0 ? request.revision : this.revision;
    if (at < this.compacted) return { error: ETCD_ERRORS.compacted };
    return this.read(request, at);
  }

  /** The key's value at `revision`: the last change to it at or before. */
  valueAt(key: Uint8Array, revision: number): KeyValue | undefined {
    let found: KeyValue | undefined;
    for (const change of this.changes)
      if (change.main <= revision && bytesEqual(change.key, key)) found = change.kv;
    return found;
  }

  /** Every key present at `revision` in the request's range, sorted by key. */
  presentAt(key: Uint8Array, rangeEnd: Uint8Array, revision: number): KeyValue[] {
    const keys: Uint8Array[] = [];
    for (const change of this.changes) {
      if (inRange(change.key, key, rangeEnd) && !keys.some((k) => bytesEqual(k, change.key)))
        keys.push(change.key);
    }
    keys.sort(compareBytes);
    return keys.map((k) => this.valueAt(k, revision)).filter((kv): kv is KeyValue => kv !== undefined);
  }

  /** State-dependent refusals, found by walking the branches the txn will take (decided up front). */
  private refusal(request: KvWriteRequest): EtcdError | undefined {
    if (request.kind === 'put') return this.putRefusal(request.request);
    if (request.kind === 'txn') return this.txnRefusal(request.request);
    return undefined;
  }

  private putRefusal(request: PutRequest): EtcdError | undefined {
    const missing = this.valueAt(request.key, this.revision) === undefined;
    return (request.ignoreValue || request.ignoreLease) && missing ? ETCD_ERRORS.keyNotFound : undefined;
  }

  /** Puts on the branches taken are checked before ranges, whatever their order (as etcd). */
  private txnRefusal(txn: TxnRequest): EtcdError | undefined {
    const ops = this.opsOnPath(txn);
    for (const op of ops) {
      const error = op.kind === 'put' ? this.putRefusal(op.request) : undefined;
      if (error !== undefined) return error;
    }
    for (const op of ops) {
      if (op.kind !== 'range' || op.request.revision === 0) continue;
      if (op.request.revision > this.revision) return ETCD_ERRORS.futureRevision;
      if (op.request.revision < this.compacted) return ETCD_ERRORS.compacted;
    }
    return undefined;
  }

  private opsOnPath(txn: TxnRequest): RequestOp[] {
    const ops = this.holds(txn.compare) ? txn.success : txn.failure;
    return ops.flatMap((op) => (op.kind === 'txn' ? this.opsOnPath(op.request) : [op]));
  }

  /** Compares read the store before the request: pending changes sit at revision + 1. */
  private holds(compares: readonly Compare[]): boolean {
    return compares.every((c) => {
      const kvs = this.presentAt(c.key, c.rangeEnd, this.revision);
      if (kvs.length === 0) {
        if (c.target === 'VALUE') return false;
        return compareOne(c, {
          key: c.key,
          createRevision: 0,
          modRevision: 0,
          version: 0,
          value: new Uint8Array(0),
          lease: 0n,
        });
      }
      return kvs.every((kv) => compareOne(c, kv));
    });
  }

  private record(key: Uint8Array, kv: KeyValue | undefined): void {
    const main = this.revision + 1;
    const event: KvEvent =
      kv === undefined
        ? {
            type: 'DELETE',
            kv: {
              key,
              createRevision: 0,
              modRevision: main,
              version: 0,
              value: new Uint8Array(0),
              lease: 0n,
            },
            prevKv: this.valueAt(key, this.revision),
          }
        : {
            type: 'PUT',
            kv,
            prevKv: kv.createRevision === kv.modRevision ? undefined : this.valueAt(key, this.revision),
          };
    this.changes.push({ main, sub: this.pending.length, key, kv });
    this.pending.push(event);
  }

  private put(request: PutRequest) {
    const key = new Uint8Array(request.key);
    const before = this.valueAt(key, this.revision + 1);
    if ((request.ignoreValue || request.ignoreLease) && before === undefined) throw ETCD_ERRORS.keyNotFound;
    this.record(key, {
      key,
      createRevision: before === undefined ? this.revision + 1 : before.createRevision,
      modRevision: this.revision + 1,
      version: before === undefined ? 1 : before.version + 1,
      value: request.ignoreValue && before ? before.value : new Uint8Array(request.value),
      lease: request.ignoreLease && before ? before.lease : request.lease,
    });
    return { prevKv: request.prevKv ? before : undefined };
  }

  private delete(request: { key: Uint8Array; rangeEnd: Uint8Array; prevKv: boolean }) {
    const present = this.presentAt(request.key, request.rangeEnd, this.revision + 1);
    for (const kv of present) this.record(kv.key, undefined);
    return { deleted: present.length, prevKvs: request.prevKv ? present : [] };
  }

  private txn(txn: TxnRequest): TxnResponse {
    const succeeded = this.holds(txn.compare);
    const responses = (succeeded ? txn.success : txn.failure).map((op) => this.txnOp(op));
    return { succeeded, responses };
  }

  private txnOp(op: RequestOp): ResponseOp {
    switch (op.kind) {
      case 'put':
        return { kind: 'put', response: this.put(op.request) };
      case 'deleteRange':
        return { kind: 'deleteRange', response: this.delete(op.request) };
      case 'txn':
        return { kind: 'txn', response: this.txn(op.request) };
      case 'range':
        return {
          kind: 'range',
          response: this.read(op.request, op.request.revision > 0 ? op.request.revision : this.revision + 1),
        };
    }
  }

  private read(request: RangeRequest, revision: number): RangeResponse {
    const present = this.presentAt(request.key, request.rangeEnd, revision);
    if (request.countOnly) return { kvs: [], more: false, count: present.length };
    const unbounded =
      request.sortOrder !== 'NONE' ||
      [
        request.minModRevision,
        request.maxModRevision,
        request.minCreateRevision,
        request.maxCreateRevision,
      ].some((b) => b !== 0);
    let kvs = unbounded || request.limit <= 0 ? present : present.slice(0, request.limit + 1);
    kvs = kvs.filter(
      (kv) =>
        (request.minModRevision === 0 || kv.modRevision >= request.minModRevision) &&
        (request.maxModRevision === 0 || kv.modRevision <= request.maxModRevision) &&
        (request.minCreateRevision === 0 || kv.createRevision >= request.minCreateRevision) &&
        (request.maxCreateRevision === 0 || kv.createRevision <= request.maxCreateRevision),
    );
    const order = request.sortOrder === 'NONE' && request.sortTarget !== 'KEY' ? 'ASCEND' : request.sortOrder;
    if (order !== 'NONE') {
      const field = (kv: KeyValue): number | Uint8Array =>
        ({
          KEY: kv.key,
          VERSION: kv.version,
          CREATE: kv.createRevision,
          MOD: kv.modRevision,
          VALUE: kv.value,
        })[request.sortTarget];
      kvs = [...kvs].sort((a, b) => {
        const x = field(a);
        const y = field(b);
        const order1 = typeof x === 'number' ? x - (y as number) : compareBytes(x, y as Uint8Array);
        return order === 'DESCEND' ? -order1 : order1;
      });
    }
    const more = request.limit > 0 && kvs.length > request.limit;
    if (more) kvs = kvs.slice(0, request.limit);
    if (request.keysOnly) kvs = kvs.map((kv) => ({ ...kv, value: new Uint8Array(0) }));
    return { kvs, more, count: present.length };
  }
}

function inRange(candidate: Uint8Array, key: Uint8Array, rangeEnd: Uint8Array): boolean {
  if (rangeEnd.length === 0) return bytesEqual(candidate, key);
  if (rangeEnd.length === 1 && rangeEnd[0] === 0) return compareBytes(candidate, key) >= 0;
  return compareBytes(candidate, key) >= 0 && compareBytes(candidate, rangeEnd) < 0;
}

function compareOne(c: Compare, kv: KeyValue): boolean {
  const fields = {
    VERSION: [kv.version, c.version],
    CREATE: [kv.createRevision, c.createRevision],
    MOD: [kv.modRevision, c.modRevision],
    LEASE: [kv.lease, c.lease],
    VALUE: [compareBytes(kv.value, c.value), 0],
  } as const;
  const [stored, operand] = fields[c.target];
  if (c.result === 'EQUAL') return stored === operand;
  if (c.result === 'NOT_EQUAL') return stored !== operand;
  if (c.result === 'GREATER') return stored > operand;
  return stored < operand;
}
