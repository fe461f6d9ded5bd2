// MvccStore.eventsSince against the events apply() reported: replaying random writes, then reading
// any range from any kept revision in batches, must give exactly the recorded events of that range,
// in order, cut only between revisions. fast-check prints the seed of a failure; rerun one with
// MVCC_PROPERTY_SEED=<seed>.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { compareBytes, rangeBound } from './bytes.js';
import { ETCD_ERRORS, type KvEvent } from './etcd-types.js';
import { eventBytes } from './history-events.js';
import { type Command, commandArb, REVISION_MAX } from './mvcc-arbitraries.fixture.js';
import { MvccStore } from './store.js';

const SEED = Number(process.env.MVCC_PROPERTY_SEED ?? 20_250_301);
const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);
const NO_END = new Uint8Array(0);

function put(store: MvccStore, key: string, value: string): void {
  const result = store.apply({
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
  assert.ok(!('error' in result));
}

function remove(store: MvccStore, key: string, rangeEnd: Uint8Array = NO_END): void {
  const result = store.apply({ kind: 'deleteRange', request: { key: utf8(key), rangeEnd, prevKv: false } });
  assert.ok(!('error' in result));
}

function inRange(key: Uint8Array, start: Uint8Array, rangeEnd: Uint8Array): boolean {
  const bound = rangeBound(rangeEnd);
  if (bound.kind === 'single') return compareBytes(key, start) === 0;
  if (compareBytes(key, start) < 0) return false;
  return bound.kind === 'fromKey' || compareBytes(key, bound.end) < 0;
}

const withoutPrevKv = (event: KvEvent): KvEvent => ({ ...event, prevKv: undefined });

/** Reads every batch from `fromRevision` on; checks each batch's shape on the way. */
function readAll(
  store: MvccStore,
  key: Uint8Array,
  rangeEnd: Uint8Array,
  fromRevision: number,
  options: { prevKv: boolean; maxEvents: number; maxBytes?: number },
): KvEvent[] {
  const all: KvEvent[] = [];
  let from = fromRevision;
  for (let reads = 0; ; reads++) {
    assert.ok(reads <= store.currentRevision + 1, 'reads do not progress');
    const read = store.eventsSince(key, rangeEnd, from, options);
    if ('error' in read) throw new Error(read.error.message);
    const revisions = new Set(read.events.map((event) => event.kv.modRevision));
    if (revisions.size > 1) {
      assert.ok(read.events.length <= options.maxEvents, 'a batch of several revisions exceeds maxEvents');
      const bytes = read.events.reduce((sum, event) => sum + eventBytes(event), 0);
      assert.ok(bytes <= (options.maxBytes ?? Number.POSITIVE_INFINITY), 'a batch exceeds maxBytes');
    }
    for (const event of read.events) {
      assert.ok(event.kv.modRevision >= from && event.kv.modRevision < read.nextRevision);
    }
    assert.ok(read.nextRevision > from || read.nextRevision > store.currentRevision);
    all.push(...read.events);
    if (read.nextRevision > store.currentRevision) return all;
    assert.ok(read.events.length > 0, 'a read that is not caught up returned nothing');
    from = read.nextRevision;
  }
}

describe('MvccStore.eventsSince', () => {
  test('a single key reads its puts and deletes from a revision on, with prevKv as apply() gives it', () => {
    const store = new MvccStore();
    put(store, 'a', '1'); // 2
    put(store, 'b', '1'); // 3
    put(store, 'a', '2'); // 4
    remove(store, 'a'); // 5
    put(store, 'a', '3'); // 6
    const read = store.eventsSince(utf8('a'), NO_END, 4, { prevKv: true, maxEvents: 10 });
    assert.ok(!('error' in read));
    assert.deepEqual(
      read.events.map((event) => [
        event.type,
        event.kv.modRevision,
        new TextDecoder().decode(event.prevKv?.value),
      ]),
      [
        ['PUT', 4, '1'],
        ['DELETE', 5, '2'],
        ['PUT', 6, ''], // a creation has no prevKv
      ],
    );
    assert.equal(read.events[2]!.prevKv, undefined);
    assert.equal(read.nextRevision, 7);
  });

  test('a key put then deleted in one txn: the delete’s prevKv is the key before the txn, as apply() says', () => {
    const store = new MvccStore();
    put(store, 'a', '0'); // 2
    const putAgain = {
      key: utf8('a'),
      value: utf8('1'),
      lease: 0n,
      prevKv: false,
      ignoreValue: false,
      ignoreLease: false,
    };
    // The duplicate-key check lets a "\0"-ended delete through after a put of the same key.
    const deleteFrom = { key: utf8('a'), rangeEnd: new Uint8Array([0]), prevKv: false };
    const txn = store.apply({
      kind: 'txn',
      request: {
        compare: [],
        success: [
          { kind: 'put', request: putAgain },
          { kind: 'deleteRange', request: deleteFrom },
        ],
        failure: [],
      },
    });
    assert.ok(!('error' in txn));
    const read = store.eventsSince(utf8('a'), NO_END, 3, { prevKv: true, maxEvents: 10 });
    assert.ok(!('error' in read));
    assert.deepStrictEqual(read.events, txn.events);
    assert.equal(new TextDecoder().decode(read.events[1]!.prevKv?.value), '0');
  });

  test('a read cut by maxEvents resumes at the next revision; a revision is never split', () => {
    const store = new MvccStore();
    put(store, 'a/1', 'x'); // 2
    put(store, 'a/2', 'x'); // 3
    remove(store, 'a/', utf8('a0')); // 4: two events
    put(store, 'a/1', 'y'); // 5
    const prefixEnd = utf8('a0');
    const first = store.eventsSince(utf8('a/'), prefixEnd, 2, { prevKv: false, maxEvents: 3 });
    assert.ok(!('error' in first));
    // Revisions 2 and 3, then revision 4 would make 4 events: it waits for the next read.
    assert.deepEqual(
      first.events.map((event) => event.kv.modRevision),
      [2, 3],
    );
    assert.equal(first.nextRevision, 4);
    const alone = store.eventsSince(utf8('a/'), prefixEnd, 4, { prevKv: false, maxEvents: 1 });
    assert.ok(!('error' in alone));
    // One revision bigger than maxEvents comes whole.
    assert.deepEqual(
      alone.events.map((event) => event.type),
      ['DELETE', 'DELETE'],
    );
    assert.equal(alone.nextRevision, 5);
  });

  test('a read from the compaction revision or below is refused as compacted; after it, complete', () => {
    const store = new MvccStore();
    put(store, 'k', '1'); // 2
    remove(store, 'k'); // 3
    put(store, 'k', '2'); // 4
    assert.ok(!('error' in store.apply({ kind: 'compact', request: { revision: 3, physical: false } })));
    const options = { prevKv: true, maxEvents: 10 };
    assert.deepEqual(store.eventsSince(utf8('k'), NO_END, 3, options), { error: ETCD_ERRORS.compacted });
    assert.deepEqual(store.eventsSince(utf8('k'), NO_END, 1, options), { error: ETCD_ERRORS.compacted });
    const read = store.eventsSince(utf8('k'), NO_END, 4, options);
    assert.ok(!('error' in read));
    assert.deepEqual(
      read.events.map((event) => [event.type, event.kv.modRevision]),
      [['PUT', 4]],
    );
  });

  test('a read from a future revision is empty and resumes there', () => {
    const store = new MvccStore();
    put(store, 'k', '1');
    assert.deepEqual(store.eventsSince(utf8('k'), NO_END, 10, { prevKv: false, maxEvents: 5 }), {
      events: [],
      nextRevision: 10,
    });
  });

  test('random writes: batched reads of any range from any kept revision replay apply()’s events', () => {
    const rangeArb = fc.record({
      key: fc.constantFrom(...[[0x61], [0x62], [0x61, 0x62], [0x00], [0xff]].map((b) => new Uint8Array(b))),
      rangeEnd: fc.constantFrom(
        ...[[], [0], [0x62], [0x63], [0x61, 0x63], [0xff, 0x00]].map((b) => new Uint8Array(b)),
      ),
      fromRevision: fc.integer({ min: 0, max: REVISION_MAX }),
      prevKv: fc.boolean(),
      maxEvents: fc.integer({ min: 1, max: 6 }),
      maxBytes: fc.option(fc.integer({ min: 1, max: 200 }), { nil: undefined }),
    });
    fc.assert(
      fc.property(fc.array(commandArb, { maxLength: 40, size: 'max' }), rangeArb, (commands, range) => {
        const { store, log } = replay(commands);
        const read = () =>
          readAll(store, range.key, range.rangeEnd, range.fromRevision, {
            prevKv: range.prevKv,
            maxEvents: range.maxEvents,
            ...(range.maxBytes === undefined ? {} : { maxBytes: range.maxBytes }),
          });
        if (range.fromRevision <= store.compactedRevision) {
          assert.throws(read, { message: ETCD_ERRORS.compacted.message });
          return;
        }
        const expected = log
          .filter(
            (event) =>
              event.kv.modRevision >= range.fromRevision && inRange(event.kv.key, range.key, range.rangeEnd),
          )
          .map((event) => (range.prevKv ? event : withoutPrevKv(event)));
        assert.deepStrictEqual(read(), expected);
      }),
      { seed: SEED, numRuns: 400 },
    );
  });
});

/** Applies the writes; returns the store and every event apply() reported, in order. */
function replay(commands: readonly Command[]): { store: MvccStore; log: KvEvent[] } {
  const store = new MvccStore();
  const log: KvEvent[] = [];
  for (const command of commands) {
    if (command.kind !== 'write') continue;
    const result = store.apply(command.request);
    if (!('error' in result)) log.push(...result.events);
  }
  return { store, log };
}
