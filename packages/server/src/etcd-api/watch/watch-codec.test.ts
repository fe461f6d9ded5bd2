import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { KvEvent } from '@synod/state';
import fc from 'fast-check';
import { fieldTag, ProtoWriter, WireType } from '../proto/wire.js';
import { utf8, watchRequest } from './watch.fixture.js';
import {
  decodeWatchRequest,
  decodeWatchResponse,
  encodeWatchRequest,
  encodeWatchResponse,
  encodeWatchResponseFragments,
  plainEventsResponseParts,
  type WatchResponseMessage,
  watchResponsePartsLength,
  writeWatchResponseParts,
} from './watch-codec.js';
import { WATCH_METHOD_CODEC } from './watch-service.js';

const SEED = Number(process.env.WATCH_PROPERTY_SEED ?? 20_250_304);
const HEADER = { clusterId: 0xfedc_ba98_7654_3210n, memberId: 7n, revision: 42, raftTerm: 3 };

function event(key: string, valueBytes: number, revision: number): KvEvent {
  return {
    type: 'PUT',
    kv: {
      key: utf8(key),
      createRevision: 2,
      modRevision: revision,
      version: 1,
      value: new Uint8Array(valueBytes).fill(0x61),
      lease: 0n,
    },
    prevKv: undefined,
  };
}

function response(events: KvEvent[]): WatchResponseMessage {
  return {
    header: HEADER,
    watchId: 3,
    created: false,
    canceled: false,
    compactRevision: 0,
    cancelReason: '',
    fragment: false,
    events,
  };
}

describe('watch codecs', () => {
  test('a plain events response as shared body + watch id decodes to the same response, any id', () => {
    const events = [event('k/a', 10, 42), event('k/b', 300, 42)];
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 31 - 1 }), fc.integer({ min: 0, max: 7 }), (watchId, at) => {
        const message = { ...response(events), watchId };
        const parts = plainEventsResponseParts(message)!;
        const length = watchResponsePartsLength(parts);
        // Written in place (as a fan-out writes it) and through the codec's encode: the same bytes.
        const target = new Uint8Array(at + length + 3).fill(0xee);
        assert.equal(WATCH_METHOD_CODEC.encodeInto!(parts, target, at), at + length);
        assert.equal(WATCH_METHOD_CODEC.encodedLength!(parts), length);
        const written = target.subarray(at, at + length);
        assert.deepStrictEqual(written, WATCH_METHOD_CODEC.encode(parts));
        assert.ok(
          target.subarray(at + length).every((byte) => byte === 0xee),
          'nothing written past the end',
        );
        assert.deepStrictEqual(
          decodeWatchResponse(written),
          decodeWatchResponse(encodeWatchResponse(message)),
        );
        const alone = new Uint8Array(length);
        writeWatchResponseParts(parts, alone, 0);
        assert.deepStrictEqual(alone, written);
      }),
      { seed: SEED, numRuns: 300 },
    );
    assert.equal(plainEventsResponseParts({ ...response(events), created: true }), undefined);
    assert.equal(plainEventsResponseParts(response([])), undefined);
  });

  test('a create request round-trips with every field', () => {
    const request = watchRequest('a/', {
      rangeEnd: utf8('a0'),
      startRevision: 2 ** 40,
      progressNotify: true,
      filters: ['NODELETE', 'NOPUT'],
      prevKv: true,
      watchId: 9,
      fragment: true,
    });
    assert.deepStrictEqual(decodeWatchRequest(encodeWatchRequest({ kind: 'create', request })), {
      kind: 'create',
      request,
    });
  });

  test('cancel, progress and an empty request decode; the last oneof member on the wire wins', () => {
    assert.deepStrictEqual(decodeWatchRequest(encodeWatchRequest({ kind: 'cancel', watchId: 5 })), {
      kind: 'cancel',
      watchId: 5,
    });
    assert.deepStrictEqual(decodeWatchRequest(encodeWatchRequest({ kind: 'progress' })), {
      kind: 'progress',
    });
    assert.deepStrictEqual(decodeWatchRequest(new Uint8Array(0)), { kind: 'none' });
    const both = new Uint8Array([
      ...encodeWatchRequest({ kind: 'create', request: watchRequest('k') }),
      ...encodeWatchRequest({ kind: 'cancel', watchId: 1 }),
    ]);
    assert.deepStrictEqual(decodeWatchRequest(both), { kind: 'cancel', watchId: 1 });
  });

  test('filters are read packed or not; filter numbers etcd does not know are ignored, as etcd does', () => {
    const writer = new ProtoWriter();
    const start = writer.beginMessage(1);
    writer.bytesField(1, utf8('k'));
    writer.int64FieldAlways(5, 1); // unpacked: NODELETE
    writer.bytesFieldAlways(5, new Uint8Array([0, 7])); // packed: NOPUT and an unknown 7
    writer.endMessage(start);
    const decoded = decodeWatchRequest(writer.finish());
    assert.equal(decoded.kind, 'create');
    assert.deepEqual(decoded.kind === 'create' && decoded.request.filters, ['NODELETE', 'NOPUT']);
  });

  test('a response round-trips, watch id -1 included (a 10-byte varint)', () => {
    const message: WatchResponseMessage = {
      header: HEADER,
      watchId: -1,
      created: true,
      canceled: true,
      compactRevision: 17,
      cancelReason: 'etcdserver: mvcc: required revision has been compacted',
      fragment: true,
      events: [
        event('k', 3, 5),
        {
          type: 'DELETE',
          kv: { ...event('j', 0, 6).kv, version: 0, createRevision: 0 },
          prevKv: event('j', 2, 4).kv,
        },
      ],
    };
    assert.deepStrictEqual(decodeWatchResponse(encodeWatchResponse(message)), message);
    assert.equal(fieldTag(11, WireType.LENGTH_DELIMITED) < 0x80, true, 'events take a one-byte tag');
  });

  test('a response under the limit, or with one event, is not split', () => {
    const small = response([event('a', 10, 2), event('b', 10, 2)]);
    assert.equal(encodeWatchResponseFragments(small, 1_000).length, 1);
    const single = response([event('a', 5_000, 2)]);
    assert.equal(encodeWatchResponseFragments(single, 1_000).length, 1);
    assert.equal(
      encodeWatchResponseFragments(response([event('a', 500, 2), event('b', 500, 2)]), undefined).length,
      1,
    );
  });

  test('fragments: each under the limit unless a lone event, fragment on all but the last, events in order', () => {
    const eventArb = fc.tuple(fc.constantFrom('a', 'bb', 'ccc'), fc.integer({ min: 0, max: 300 }));
    fc.assert(
      fc.property(
        fc.array(eventArb, { minLength: 0, maxLength: 12 }),
        fc.integer({ min: 40, max: 1_000 }),
        (specs, limit) => {
          const message = response(specs.map(([key, size]) => event(key, size, 2)));
          const pieces = encodeWatchResponseFragments(message, limit);
          const decoded = pieces.map(decodeWatchResponse);
          assert.deepStrictEqual(
            decoded.flatMap((piece) => piece.events),
            message.events,
          );
          if (pieces.length === 1) {
            assert.equal(decoded[0]!.fragment, false);
            return;
          }
          assert.ok(encodeWatchResponse(message).length >= limit, 'split although under the limit');
          decoded.forEach((piece, index) => {
            assert.equal(piece.fragment, index < pieces.length - 1);
            assert.deepStrictEqual(piece.header, HEADER);
            assert.equal(piece.watchId, 3);
            assert.ok(piece.events.length >= 1);
            if (piece.events.length > 1) assert.ok(pieces[index]!.length < limit, 'a piece over the limit');
          });
        },
      ),
      { seed: SEED, numRuns: 300 },
    );
  });
});

describe('watch responses shared between watchers', () => {
  test('each watcher gets its own id over the shared events, and different event lists never share bytes', () => {
    const e1 = event('a', 4, 9);
    const e2 = event('b', 4, 9);
    const e3 = event('c', 4, 9);
    const e4 = event('d', 4, 9);
    for (const watchId of [0, 1, 127, 128, 300_000]) {
      const decoded = decodeWatchResponse(encodeWatchResponse({ ...response([e1, e2, e4]), watchId }));
      assert.equal(decoded.watchId, watchId);
      assert.deepEqual(decoded.events, [e1, e2, e4]);
    }
    // Same first and last event and count, a different one between (watchers of different ranges).
    const other = decodeWatchResponse(encodeWatchResponse({ ...response([e1, e3, e4]), watchId: 5 }));
    assert.deepEqual(other.events, [e1, e3, e4]);
    const again = decodeWatchResponse(encodeWatchResponse({ ...response([e1, e2, e4]), watchId: 6 }));
    assert.deepEqual(again.events, [e1, e2, e4]);
    // A new header revision is not served from the previous one's bytes.
    const later = decodeWatchResponse(
      encodeWatchResponse({ ...response([e1, e2, e4]), header: { ...HEADER, revision: 43 }, watchId: 6 }),
    );
    assert.equal(later.header?.revision, 43);
  });
});
