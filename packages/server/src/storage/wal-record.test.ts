import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Entry } from '@synod/raft';
import fc from 'fast-check';
import { ByteReader, ByteWriter, DecodeError } from './byte-codec.js';
import type { WalRecord } from './wal-record.js';
import {
  countFrames,
  encodeRecords,
  FRAME_HEADER_BYTES,
  RECORD_ENTRIES_BYTES_TARGET,
  readFrame,
} from './wal-record.js';
import { scanSegment } from './wal-segment.js';

const safeIndex = fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER - 1_000 });

const entriesRecord = fc
  .tuple(
    safeIndex,
    fc.array(fc.tuple(fc.nat(), fc.constantFrom('normal', 'config'), fc.uint8Array()), {
      minLength: 1,
      maxLength: 8,
    }),
  )
  .map(
    ([first, items]): WalRecord => ({
      type: 'entries',
      entries: items.map(([term, kind, data], i): Entry => ({ index: first + i, term, kind, data })),
    }),
  );

const walRecord: fc.Arbitrary<WalRecord> = fc.oneof(
  entriesRecord,
  fc
    .record(
      { term: fc.nat(), vote: fc.string({ unit: 'grapheme' }), commit: fc.nat() },
      { noNullPrototype: true },
    )
    .map((hardState): WalRecord => ({ type: 'hardState', hardState })),
  fc
    .record({ index: fc.nat(), term: fc.nat() }, { noNullPrototype: true })
    .map((mark): WalRecord => ({ type: 'snapshotMarker', ...mark })),
);

describe('WAL record encoding', () => {
  test('records decode to what was encoded', () => {
    fc.assert(
      fc.property(fc.array(walRecord, { maxLength: 10 }), (records) => {
        const scan = scanSegment(encodeRecords(records));
        assert.equal(scan.damage, undefined);
        assert.deepEqual(
          scan.records.map((scanned) => scanned.record),
          records,
        );
      }),
      { seed: 7, numRuns: 300 },
    );
  });

  test('a large batch of entries splits into several records that replay as one batch', () => {
    const data = new Uint8Array(100 * 1024);
    const entries: Entry[] = Array.from({ length: 25 }, (_, i) => ({
      index: i + 1,
      term: 1,
      kind: 'normal',
      data,
    }));
    const records: WalRecord[] = [{ type: 'entries', entries }];
    const scan = scanSegment(encodeRecords(records));
    const expectedFrames = Math.ceil((25 * data.length) / RECORD_ENTRIES_BYTES_TARGET);
    assert.equal(scan.records.length, expectedFrames);
    assert.equal(countFrames(records), expectedFrames);
    const decoded = scan.records.flatMap((scanned) =>
      scanned.record.type === 'entries' ? scanned.record.entries.map((e) => e.index) : [],
    );
    assert.deepEqual(
      decoded,
      entries.map((e) => e.index),
    );
  });

  test('the checksum covers the length and type as well as the payload', () => {
    const bytes = encodeRecords([{ type: 'snapshotMarker', index: 5, term: 2 }]);
    for (let i = 0; i < bytes.length; i++) {
      if (i >= 5 && i < FRAME_HEADER_BYTES) continue; // the stored CRC itself
      const damaged = Buffer.from(bytes);
      damaged[i]! ^= 0x04;
      assert.equal(readFrame(damaged, 0).ok, false, `byte ${i}`);
    }
  });

  test('entries that are not contiguous are a programming error', () => {
    const entries: Entry[] = [
      { index: 1, term: 1, kind: 'normal', data: new Uint8Array(0) },
      { index: 3, term: 1, kind: 'normal', data: new Uint8Array(0) },
    ];
    assert.throws(() => encodeRecords([{ type: 'entries', entries }]), /not contiguous/);
  });
});

describe('byte codec', () => {
  test('varints round-trip every safe integer', () => {
    fc.assert(
      fc.property(fc.array(fc.maxSafeNat(), { maxLength: 20 }), (values) => {
        const writer = new ByteWriter(1);
        for (const value of values) writer.uvarint(value);
        const reader = new ByteReader(writer.finish());
        assert.deepEqual(
          values.map(() => reader.uvarint()),
          values,
        );
        reader.expectEnd('test');
      }),
      { seed: 11, numRuns: 300 },
    );
  });

  test('reading past the end or an overlong varint is a DecodeError, not a crash', () => {
    assert.throws(() => new ByteReader(new Uint8Array([0x80])).uvarint(), DecodeError);
    assert.throws(() => new ByteReader(new Uint8Array(9).fill(0xff)).uvarint(), DecodeError);
    assert.throws(() => new ByteReader(new Uint8Array([5, 1])).bytes(), DecodeError);
    assert.throws(() => new ByteWriter().uvarint(-1), RangeError);
  });
});
