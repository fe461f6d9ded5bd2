import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KeyValue, KvEvent } from '@synod/state';
import fc from 'fast-check';
import { encodeWatchResponse } from '../../packages/server/src/etcd-api/watch/watch-codec.js';
import { EVENT_TYPE, scanWatchResponse, WatchScanError } from './watch-response-scan.js';

const keyValue = fc.record<KeyValue>({
  key: fc.uint8Array({ minLength: 1, maxLength: 20 }),
  createRevision: fc.integer({ min: 0, max: 2 ** 40 }),
  modRevision: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
  version: fc.integer({ min: 0, max: 1000 }),
  value: fc.uint8Array({ maxLength: 64 }),
  lease: fc.bigInt({ min: 0n, max: 2n ** 62n }),
});

const event = fc.record<KvEvent>({
  type: fc.constantFrom('PUT', 'DELETE'),
  kv: keyValue,
  prevKv: fc.option(keyValue, { nil: undefined }),
});

const response = fc.record({
  header: fc.option(
    fc.record({
      clusterId: fc.bigInt({ min: 0n, max: 2n ** 63n }),
      memberId: fc.bigInt({ min: 0n, max: 2n ** 63n }),
      revision: fc.integer({ min: 0, max: 2 ** 40 }),
      raftTerm: fc.integer({ min: 0, max: 1000 }),
    }),
    { nil: undefined },
  ),
  watchId: fc.integer({ min: 0, max: 2 ** 31 }),
  created: fc.boolean(),
  canceled: fc.boolean(),
  compactRevision: fc.integer({ min: 0, max: 2 ** 40 }),
  cancelReason: fc.string({ maxLength: 30 }),
  fragment: fc.boolean(),
  events: fc.array(event, { maxLength: 8 }),
});

test('the scan reads what the server codec wrote: ids, flags, and each event’s type, revision and value', () => {
  fc.assert(
    fc.property(response, (message) => {
      const scanned = scanWatchResponse(encodeWatchResponse(message));
      assert.equal(scanned.watchId, message.watchId);
      assert.equal(scanned.created, message.created);
      assert.equal(scanned.canceled, message.canceled);
      assert.equal(scanned.compactRevision, message.compactRevision);
      assert.equal(scanned.cancelReason, message.cancelReason);
      assert.equal(scanned.fragment, message.fragment);
      assert.deepEqual(
        scanned.events.map((e) => [e.type, e.modRevision, Array.from(e.value)]),
        message.events.map((e) => [
          e.type === 'PUT' ? EVENT_TYPE.put : EVENT_TYPE.delete,
          e.kv.modRevision,
          Array.from(e.kv.value),
        ]),
      );
    }),
  );
});

test('a cut-short response is refused, not misread', () => {
  fc.assert(
    fc.property(response, fc.nat(), (message, cut) => {
      const bytes = encodeWatchResponse({ ...message, events: message.events.slice(0, 1) });
      if (message.events.length === 0) return;
      // The event is the last field and at least 7 bytes: cutting 1 to 3 bytes leaves it incomplete.
      const kept = bytes.length - 1 - (cut % 3);
      assert.throws(() => scanWatchResponse(bytes.subarray(0, kept)), WatchScanError);
    }),
  );
});
