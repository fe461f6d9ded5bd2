// The Lock and Election services' backend on a real member: Txn and Range through the replicated
// state (linearizable), watches through the member's watch hub, leases through the lease manager.
import type { RangeRequest, TxnRequest } from '@synod/state';
import type { LeaseManager } from '../lease/lease-manager.js';
import type { StateService } from '../state-service.js';
import type { WatchHub } from '../watch/watch-hub.js';
import type { ConcurrencyBackend, WatchUpdate } from './concurrency-backend.js';

export interface ServerConcurrencyBackendOptions {
  readonly state: StateService;
  readonly watches: WatchHub;
  readonly leases: LeaseManager;
}

export function serverConcurrencyBackend(options: ServerConcurrencyBackendOptions): ConcurrencyBackend {
  const { state, watches, leases } = options;
  return {
    async txn(request: TxnRequest) {
      const result = await state.write({ kind: 'txn', request });
      if (!result.ok) return result;
      if (result.value.kind !== 'txn') throw new Error(`a txn answered ${result.value.kind}`);
      return { ok: true, value: result.value.response, revision: result.revision } as const;
    },
    range: (request: RangeRequest) => state.range(request),
    watch: (key, rangeEnd, startRevision, signal) =>
      watchUpdates(watches, key, rangeEnd, startRevision, signal),
    async grantLease(ttlSeconds) {
      const granted = await leases.grant(ttlSeconds, 0n);
      return granted.ok ? { ok: true, id: granted.value.id } : granted;
    },
  };
}

/** One hub watch as an async iterable of updates, until `signal` aborts or the watch is cancelled. */
async function* watchUpdates(
  watches: WatchHub,
  key: Uint8Array,
  rangeEnd: Uint8Array,
  startRevision: number,
  signal: AbortSignal,
): AsyncIterable<WatchUpdate> {
  const stream = watches.openStream();
  const aborted = new Promise<void>((resolve) =>
    signal.addEventListener('abort', () => resolve(), { once: true }),
  );
  try {
    stream.create({
      key,
      rangeEnd,
      startRevision,
      progressNotify: false,
      filters: [],
      prevKv: false,
      watchId: 0,
      fragment: false,
    });
    while (!signal.aborted) {
      const response = stream.takeResponse();
      if (response === undefined) {
        await Promise.race([stream.waitForWork(), aborted]);
        continue;
      }
      if (response.canceled) {
        yield {
          kind: 'canceled',
          error: { code: 'OutOfRange', message: response.cancelReason || 'etcdserver: watch canceled' },
        };
        return;
      }
      if (response.events.length > 0) yield { kind: 'events', events: response.events };
    }
  } finally {
    stream.close();
  }
}
