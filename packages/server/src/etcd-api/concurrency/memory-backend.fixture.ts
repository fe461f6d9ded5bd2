// A ConcurrencyBackend for tests: one member, no Raft, a real MvccStore from @synod/state applied
// synchronously, a set of live lease ids, and a small event fan-out for watches. Leases never
// expire by themselves here: `expireLease` does what the leader's expiry does (revoke: delete the
// lease's keys at one revision), so a test decides exactly when a holder "pauses too long".
import {
  ETCD_ERRORS,
  type EtcdError,
  type KvEvent,
  MvccStore,
  type RangeRequest,
  type RangeResponse,
  type RequestOp,
  type TxnRequest,
  type TxnResponse,
} from '@synod/state';
import type { ConcurrencyBackend, KvAnswer, WatchUpdate } from './concurrency-backend.js';
import { deleteOp, rangeRequest, unconditional } from './recipe.js';

/** Events one watch may have queued before the fixture cancels it (tests read promptly). */
const WATCH_QUEUE_EVENTS_MAX = 10_000;
/** Events per history read when a watch catches up. */
const CATCH_UP_EVENTS_MAX = 1_000;
const WATCH_OVERFLOW: EtcdError = { code: 'ResourceExhausted', message: 'watch queue is full' };
const ALL_KEYS = Uint8Array.of(0);

interface Watcher {
  readonly key: Uint8Array;
  readonly rangeEnd: Uint8Array;
  /** Live events at or after this revision are queued; earlier ones come from history. */
  readonly fromRevision: number;
  readonly queue: KvEvent[];
  overflowed: boolean;
  wake: (() => void) | undefined;
}

export class MemoryConcurrencyBackend implements ConcurrencyBackend {
  readonly store = new MvccStore();
  readonly leases = new Set<bigint>();
  /** How many times each method was called (to check that waiters do not poll). */
  readonly calls = { txn: 0, range: 0, watch: 0, grantLease: 0 };
  private readonly watchers = new Set<Watcher>();
  private nextLeaseId = 0x7e57_0000_0000_0001n;

  get activeWatches(): number {
    return this.watchers.size;
  }

  get revision(): number {
    return this.store.currentRevision;
  }

  async txn(request: TxnRequest): Promise<KvAnswer<TxnResponse>> {
    this.calls.txn++;
    if (!leasesExist(request, this.leases)) return { ok: false, error: ETCD_ERRORS.leaseNotFound };
    const applied = this.store.apply({ kind: 'txn', request });
    if ('error' in applied) return { ok: false, error: applied.error };
    if (applied.response.kind !== 'txn') throw new Error('a txn applied as something else');
    this.publish(applied.events);
    return { ok: true, value: applied.response.response, revision: applied.revision };
  }

  async range(request: RangeRequest): Promise<KvAnswer<RangeResponse>> {
    this.calls.range++;
    const answer = this.store.range(request);
    if ('error' in answer) return { ok: false, error: answer.error };
    return { ok: true, value: answer, revision: this.store.currentRevision };
  }

  async grantLease(_ttlSeconds: number) {
    this.calls.grantLease++;
    const id = this.nextLeaseId++;
    this.leases.add(id);
    return { ok: true as const, id };
  }

  /** A lease the test controls (as a client's LeaseGrant would make). */
  grant(id?: bigint): bigint {
    const chosen = id ?? this.nextLeaseId++;
    this.leases.add(chosen);
    return chosen;
  }

  /** The lease expires (or is revoked): its keys are deleted, all at one revision. */
  async expireLease(id: bigint): Promise<void> {
    this.leases.delete(id);
    const all = this.store.range(rangeRequest(ALL_KEYS, { rangeEnd: ALL_KEYS }));
    if ('error' in all) throw new Error(all.error.message);
    const attached = all.kvs.filter((kv) => kv.lease === id);
    if (attached.length === 0) return;
    const answer = await this.txn(unconditional(...attached.map((kv) => deleteOp(kv.key))));
    if (!answer.ok) throw new Error(answer.error.message);
  }

  async *watch(
    key: Uint8Array,
    rangeEnd: Uint8Array,
    startRevision: number,
    signal: AbortSignal,
  ): AsyncGenerator<WatchUpdate> {
    this.calls.watch++;
    if (signal.aborted) return;
    // Subscribe and read history in one synchronous step: nothing applies in between.
    const fromRevision = Math.max(startRevision, this.store.currentRevision + 1);
    const watcher: Watcher = { key, rangeEnd, fromRevision, queue: [], overflowed: false, wake: undefined };
    const history = this.history(key, rangeEnd, startRevision, fromRevision);
    this.watchers.add(watcher);
    const onAbort = (): void => watcher.wake?.();
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      if ('error' in history) {
        yield { kind: 'canceled', error: history.error };
        return;
      }
      if (history.length > 0) yield { kind: 'events', events: history };
      yield* this.live(watcher, signal);
    } finally {
      signal.removeEventListener('abort', onAbort);
      this.watchers.delete(watcher);
    }
  }

  private async *live(watcher: Watcher, signal: AbortSignal): AsyncGenerator<WatchUpdate> {
    while (!signal.aborted) {
      if (watcher.overflowed) {
        yield { kind: 'canceled', error: WATCH_OVERFLOW };
        return;
      }
      if (watcher.queue.length > 0) {
        yield { kind: 'events', events: watcher.queue.splice(0) };
        continue;
      }
      await new Promise<void>((resolve) => {
        watcher.wake = resolve;
      });
      watcher.wake = undefined;
    }
  }

  private history(
    key: Uint8Array,
    rangeEnd: Uint8Array,
    startRevision: number,
    untilRevision: number,
  ): KvEvent[] | { error: EtcdError } {
    const events: KvEvent[] = [];
    let from = startRevision;
    while (from < untilRevision) {
      const read = this.store.eventsSince(key, rangeEnd, from, {
        prevKv: false,
        maxEvents: CATCH_UP_EVENTS_MAX,
      });
      if ('error' in read) return read;
      events.push(...read.events);
      if (read.nextRevision <= from) throw new Error('a history read made no progress');
      from = read.nextRevision;
    }
    return events;
  }

  private publish(events: readonly KvEvent[]): void {
    for (const watcher of this.watchers) {
      const matching = events.filter(
        (event) =>
          event.kv.modRevision >= watcher.fromRevision &&
          inRange(event.kv.key, watcher.key, watcher.rangeEnd),
      );
      if (matching.length === 0) continue;
      if (watcher.queue.length + matching.length > WATCH_QUEUE_EVENTS_MAX) watcher.overflowed = true;
      else watcher.queue.push(...matching);
      watcher.wake?.();
    }
  }
}

function leasesExist(request: TxnRequest, leases: ReadonlySet<bigint>): boolean {
  const ok = (op: RequestOp): boolean => {
    if (op.kind === 'put') return op.request.lease === 0n || leases.has(op.request.lease);
    if (op.kind === 'txn') return leasesExist(op.request, leases);
    return true;
  };
  return request.success.every(ok) && request.failure.every(ok);
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const difference = a[i]! - b[i]!;
    if (difference !== 0) return difference;
  }
  return a.length - b.length;
}

function inRange(candidate: Uint8Array, key: Uint8Array, rangeEnd: Uint8Array): boolean {
  if (rangeEnd.length === 0) return compareBytes(candidate, key) === 0;
  if (compareBytes(candidate, key) < 0) return false;
  if (rangeEnd.length === 1 && rangeEnd[0] === 0) return true;
  return compareBytes(candidate, rangeEnd) < 0;
}
