// Helpers for the watch tests: requests with defaults, and writes that go through the store and
// then the hub, as the server's apply loop does.
import type { KvEvent, KvWriteRequest } from '@synod/state';
import { MvccStore } from '@synod/state';
import type { WatchCreateRequest, WatchHub } from './watch-hub.js';

export const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);
export const text = (bytes: Uint8Array | undefined): string => new TextDecoder().decode(bytes);

/** A create request for `key` (a single key) with etcd's defaults, overridden by `fields`. */
export function watchRequest(key: string, fields: Partial<WatchCreateRequest> = {}): WatchCreateRequest {
  return {
    key: utf8(key),
    rangeEnd: new Uint8Array(0),
    startRevision: 0,
    progressNotify: false,
    filters: [],
    prevKv: false,
    watchId: 0,
    fragment: false,
    ...fields,
  };
}

/** The range end that makes [prefix, end) the keys starting with `prefix` (non-empty, no 0xff tail). */
export function prefixEnd(prefix: string): Uint8Array {
  const end = utf8(prefix);
  end[end.length - 1]!++;
  return end;
}

/** A store and the hub fed by it: `write` applies and publishes, as the server does. */
export class WatchedStore {
  readonly store: MvccStore;
  hub: WatchHub | undefined;

  constructor(store = new MvccStore()) {
    this.store = store;
  }

  write(request: KvWriteRequest): KvEvent[] {
    const applied = this.store.apply(request);
    if ('error' in applied) throw new Error(applied.error.message);
    this.hub?.publish(applied.events, applied.revision);
    return applied.events;
  }

  put(key: string, value: string): KvEvent[] {
    return this.write({
      kind: 'put',
      request: {
        key: utf8(key),
        value: utf8(value),
        lease: 0n,
        prevKv: false,
        ignoreValue: false,
        ignoreLease: false,
      },
    });
  }

  delete(key: string, rangeEnd: Uint8Array = new Uint8Array(0)): KvEvent[] {
    return this.write({ kind: 'deleteRange', request: { key: utf8(key), rangeEnd, prevKv: false } });
  }

  compact(revision: number): void {
    this.write({ kind: 'compact', request: { revision, physical: false } });
  }
}
