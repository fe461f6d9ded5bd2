// The hub against a model: random writes, compactions and watches (prefix, single-key, from-key;
// from now, the past or the future; filters; prevKv) on a few streams whose clients read at random
// moments through tiny buffers, so watchers keep falling behind and catching up. Each watch must
// see exactly the events of its range from its start revision, in order, once — or a prefix of
// them when cancelled — and progress responses must never precede an event they vouch for.
// fast-check prints the seed of a failure; rerun one with WATCH_PROPERTY_SEED=<seed>.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { KvEvent, KvWriteRequest, PutRequest } from '@synod/state';
import fc from 'fast-check';
import { keyString } from './key-range-index.js';
import { text, utf8, WatchedStore, watchRequest } from './watch.fixture.js';
import {
  INVALID_WATCH_ID,
  WatchHub,
  type WatchHubLimits,
  type WatchHubResponse,
  type WatchStream,
} from './watch-hub.js';

const SEED = Number(process.env.WATCH_PROPERTY_SEED ?? 20_250_303);
const KEYS = ['a', 'a/1', 'a/2', 'a/3', 'b', 'b/1', '\u00ff'];
const RANGES: readonly { key: string; rangeEnd: Uint8Array }[] = [
  { key: 'a', rangeEnd: new Uint8Array(0) },
  { key: 'a/1', rangeEnd: new Uint8Array(0) },
  { key: 'a/', rangeEnd: utf8('a0') },
  { key: 'b', rangeEnd: new Uint8Array([0]) },
  { key: '', rangeEnd: new Uint8Array([0]) },
  { key: 'a/2', rangeEnd: utf8('b/1') },
];
const STREAMS = 3;

type Op =
  | { kind: 'put'; key: number; value: number }
  | { kind: 'txn'; keys: number[] }
  | { kind: 'delete'; range: number }
  | { kind: 'compact'; back: number }
  | {
      kind: 'create';
      stream: number;
      range: number;
      start: number;
      filter: number;
      prevKv: boolean;
      progress: boolean;
    }
  | { kind: 'cancel'; stream: number; pick: number }
  | { kind: 'take'; stream: number; count: number }
  | { kind: 'progressRequest'; stream: number }
  | { kind: 'progressTick'; stream: number };

const streamArb = fc.nat(STREAMS - 1);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('put' as const),
      key: fc.nat(KEYS.length - 1),
      value: fc.nat(9),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('txn' as const),
      keys: fc.uniqueArray(fc.nat(KEYS.length - 1), { minLength: 1, maxLength: 4 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant('delete' as const), range: fc.nat(RANGES.length - 1) }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('compact' as const), back: fc.nat(6) }) },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('create' as const),
      stream: streamArb,
      range: fc.nat(RANGES.length - 1),
      start: fc.integer({ min: -2, max: 30 }),
      filter: fc.nat(3),
      prevKv: fc.boolean(),
      progress: fc.boolean(),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('cancel' as const), stream: streamArb, pick: fc.nat() }),
  },
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('take' as const),
      stream: streamArb,
      count: fc.integer({ min: 1, max: 4 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('progressRequest' as const), stream: streamArb }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('progressTick' as const), stream: streamArb }) },
);
const limitsArb = fc.record({
  watcherBufferEventsMax: fc.integer({ min: 1, max: 4 }),
  watcherBufferBytesMax: fc.integer({ min: 1, max: 400 }),
  bufferedBytesMax: fc.integer({ min: 1, max: 2_000 }),
  responseEventsMax: fc.integer({ min: 1, max: 4 }),
  responseBytesMax: fc.integer({ min: 1, max: 400 }),
  historyReadsPerTakeMax: fc.integer({ min: 1, max: 3 }),
});

/** What the model knows of one watch, from its create request and the responses so far. */
interface WatchModel {
  readonly range: { key: string; rangeEnd: Uint8Array };
  readonly from: number;
  readonly filters: readonly ('NOPUT' | 'NODELETE')[];
  readonly prevKv: boolean;
  readonly received: KvEvent[];
  /** No event at or below this revision may arrive any more (start, last response, progress). */
  floor: number;
  /** The highest revision of an event sent: no later response may claim less. */
  lastEvent: number;
  ended: boolean;
}

interface StreamModel {
  readonly stream: WatchStream;
  /** Creates whose answer has not come yet, in order. */
  readonly pendingCreates: Omit<WatchModel, 'received' | 'floor' | 'lastEvent' | 'ended'>[];
  readonly open: Map<number, WatchModel>;
}

function inRange(key: Uint8Array, range: { key: string; rangeEnd: Uint8Array }): boolean {
  const start = range.key === '' ? '\u0000' : range.key;
  const k = keyString(key);
  if (range.rangeEnd.length === 0) return k === start;
  if (k < start) return false;
  return (range.rangeEnd.length === 1 && range.rangeEnd[0] === 0) || k < keyString(range.rangeEnd);
}

function expectedEvents(log: readonly KvEvent[], watch: WatchModel): KvEvent[] {
  return log
    .filter((event) => event.kv.modRevision >= watch.from && inRange(event.kv.key, watch.range))
    .filter((event) => !watch.filters.includes(event.type === 'PUT' ? 'NOPUT' : 'NODELETE'))
    .map((event) => (watch.prevKv ? event : { ...event, prevKv: undefined }));
}

const FILTERS: readonly (readonly ('NOPUT' | 'NODELETE')[])[] = [[], [], ['NOPUT'], ['NODELETE']];

function putRequest(key: string, value: string): PutRequest {
  return {
    key: utf8(key),
    value: utf8(value),
    lease: 0n,
    prevKv: false,
    ignoreValue: false,
    ignoreLease: false,
  };
}

/** Checks one response against the model and records what it delivered. */
function observe(model: StreamModel, response: WatchHubResponse): void {
  if (response.created) {
    const spec = model.pendingCreates.shift();
    assert.ok(spec !== undefined, 'an answer to a create nobody sent');
    if (response.canceled) {
      assert.equal(response.watchId, INVALID_WATCH_ID);
      return;
    }
    assert.ok(!model.open.has(response.watchId), 'a watch id given twice');
    model.open.set(response.watchId, {
      ...spec,
      received: [],
      floor: spec.from - 1,
      lastEvent: 0,
      ended: false,
    });
    return;
  }
  if (response.watchId === INVALID_WATCH_ID) {
    assert.equal(response.events.length, 0);
    for (const watch of model.open.values()) {
      assert.ok(response.revision >= watch.lastEvent, 'stream progress behind an event already sent');
      watch.floor = Math.max(watch.floor, response.revision);
    }
    return;
  }
  const watch = model.open.get(response.watchId);
  assert.ok(
    watch !== undefined && !watch.ended,
    `a response for watch ${response.watchId}, which is not open`,
  );
  if (response.canceled) {
    watch.ended = true;
    model.open.delete(response.watchId);
    if (response.compactRevision !== 0)
      assert.ok(response.compactRevision > watch.floor, 'cancelled as compacted below what it had');
    return;
  }
  assert.ok(response.revision >= watch.lastEvent, 'a response revision went back');
  for (const event of response.events) {
    assert.ok(
      event.kv.modRevision > watch.floor,
      `event at ${event.kv.modRevision} after the watch passed ${watch.floor}`,
    );
    watch.received.push(event);
    watch.lastEvent = event.kv.modRevision;
  }
  assert.ok(response.revision >= watch.lastEvent, 'header revision below the last event');
  watch.floor = Math.max(watch.floor, response.revision);
}

function run(ops: readonly Op[], limits: Partial<WatchHubLimits>): void {
  const db = new WatchedStore();
  const hub = new WatchHub(db.store, { ...limits, controlQueueResponsesMax: 4 });
  db.hub = hub;
  const log: KvEvent[] = [];
  const streams: StreamModel[] = Array.from({ length: STREAMS }, () => ({
    stream: hub.openStream(),
    pendingCreates: [],
    open: new Map(),
  }));
  const ended: WatchModel[] = [];
  const take = (model: StreamModel): boolean => {
    const response = model.stream.takeResponse();
    if (response === undefined) return false;
    const watch = response.canceled && !response.created ? model.open.get(response.watchId) : undefined;
    observe(model, response);
    if (watch !== undefined) ended.push(watch);
    return true;
  };
  const makeRoom = (model: StreamModel): void => {
    while (!model.stream.hasControlRoom) assert.ok(take(model));
  };
  for (const op of ops) {
    const write = (request: KvWriteRequest): void => void log.push(...db.write(request));
    switch (op.kind) {
      case 'put':
        write({ kind: 'put', request: putRequest(KEYS[op.key]!, String(op.value)) });
        break;
      case 'txn':
        write({
          kind: 'txn',
          request: {
            compare: [],
            success: op.keys.map((key) => ({ kind: 'put', request: putRequest(KEYS[key]!, 't') })),
            failure: [],
          },
        });
        break;
      case 'delete': {
        const range = RANGES[op.range]!;
        write({
          kind: 'deleteRange',
          request: {
            key: utf8(range.key === '' ? '\u0000' : range.key),
            rangeEnd: range.rangeEnd,
            prevKv: false,
          },
        });
        break;
      }
      case 'compact': {
        const revision = db.store.currentRevision - op.back;
        if (revision > db.store.compactedRevision) db.compact(revision);
        break;
      }
      case 'create': {
        const model = streams[op.stream]!;
        makeRoom(model);
        const range = RANGES[op.range]!;
        const filters = FILTERS[op.filter]!;
        const from = op.start === 0 ? db.store.currentRevision + 1 : op.start;
        model.pendingCreates.push({ range, from, filters, prevKv: op.prevKv });
        model.stream.create(
          watchRequest(range.key, {
            rangeEnd: range.rangeEnd,
            startRevision: op.start,
            filters: [...filters],
            prevKv: op.prevKv,
            progressNotify: op.progress,
          }),
        );
        break;
      }
      case 'cancel': {
        const model = streams[op.stream]!;
        const ids = [...model.open.keys()];
        if (ids.length === 0) break;
        makeRoom(model);
        model.stream.cancel(ids[op.pick % ids.length]!);
        break;
      }
      case 'take':
        for (let i = 0; i < op.count; i++) take(streams[op.stream]!);
        break;
      case 'progressRequest':
        streams[op.stream]!.stream.requestProgress();
        break;
      case 'progressTick':
        streams[op.stream]!.stream.progressTick();
        break;
    }
  }
  for (const model of streams) {
    for (let turns = 0; model.stream.hasWork; turns++) {
      assert.ok(turns < 100_000, 'a stream never runs dry');
      take(model);
    }
    assert.equal(model.pendingCreates.length, 0);
    for (const watch of model.open.values()) {
      assert.deepStrictEqual(
        watch.received.map(describeEvent),
        expectedEvents(log, watch).map(describeEvent),
      );
    }
  }
  for (const watch of ended) {
    const expected = expectedEvents(log, watch).slice(0, watch.received.length);
    assert.deepStrictEqual(
      watch.received.map(describeEvent),
      expected.map(describeEvent),
      'a cancelled watch saw more than a prefix',
    );
  }
  assert.equal(hub.stats.unsyncedWatchers, 0);
  assert.equal(hub.stats.bufferedEvents, 0);
  assert.equal(hub.stats.bufferedBytes, 0);
}

/** Events as comparable text (the objects may be copies without prevKv). */
function describeEvent(event: KvEvent): string {
  const previous =
    event.prevKv === undefined ? '-' : `${event.prevKv.modRevision}:${text(event.prevKv.value)}`;
  return `${event.type} ${keyString(event.kv.key)}@${event.kv.modRevision}.v${event.kv.version}=${text(event.kv.value)} prev ${previous}`;
}

describe('WatchHub against a model', () => {
  test('random writes, compactions, watches and slow readers: each watch sees its range’s events from its start, in order, once', () => {
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 20, maxLength: 150, size: 'max' }), limitsArb, (ops, limits) =>
        run(ops, limits),
      ),
      { seed: SEED, numRuns: 300, includeErrorInReport: true },
    );
  });
});
