import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { crc32c } from '@synod/core/hashing';
import fc from 'fast-check';
import { rangeRequest, write } from './mvcc.fixture.js';
import { type Command, commandArb } from './mvcc-arbitraries.fixture.js';
import { concatChunks, MVCC_SNAPSHOT_FORMAT_VERSION, MvccSnapshotError } from './snapshot.js';
import { MvccStore } from './store.js';

function sampleStore(): MvccStore {
  const store = new MvccStore();
  for (const request of [
    write.put('a', '1', { lease: 42n }),
    write.put('b', 'two'),
    write.put('a', '3'),
    write.delete('b'),
    write.put('c\0\xff', 'bytes'),
    write.compact(3),
    write.put('b', 'again'),
  ]) {
    assert.equal('error' in store.apply(request), false);
  }
  return store;
}

/** Rewrites the trailing checksum so a test reaches the checks behind it. */
function resealed(bytes: Uint8Array): Uint8Array {
  const copy = bytes.slice();
  new DataView(copy.buffer).setUint32(copy.length - 4, crc32c(copy.subarray(0, copy.length - 4)), true);
  return copy;
}

function refusal(bytes: Uint8Array): MvccSnapshotError {
  try {
    MvccStore.restore(bytes);
  } catch (error) {
    assert.ok(error instanceof MvccSnapshotError, `expected MvccSnapshotError, got ${String(error)}`);
    return error;
  }
  assert.fail('restore accepted bad bytes');
}

describe('MvccStore snapshots', () => {
  test('CRC-32C matches the standard check value ("123456789" → 0xe3069283)', () => {
    assert.equal(crc32c(new TextEncoder().encode('123456789')), 0xe3069283);
    assert.equal(
      crc32c(new TextEncoder().encode('6789'), crc32c(new TextEncoder().encode('12345'))),
      0xe3069283,
    );
  });

  test('a restored store has the same revision, compaction, history and hash', () => {
    const store = sampleStore();
    const restored = MvccStore.restore(store.snapshot());
    assert.equal(restored.currentRevision, store.currentRevision);
    assert.equal(restored.compactedRevision, 3);
    assert.deepEqual(restored.hashKv(0), store.hashKv(0));
    for (let revision = 3; revision <= store.currentRevision; revision++) {
      assert.deepEqual(
        restored.range(rangeRequest('\0', '\0', { revision })),
        store.range(rangeRequest('\0', '\0', { revision })),
      );
    }
    assert.deepEqual(
      restored.range(rangeRequest('a', '', { revision: 2 })),
      store.range(rangeRequest('a', '', { revision: 2 })),
    );
  });

  test('an empty store round-trips, including "never compacted"', () => {
    const restored = MvccStore.restore(new MvccStore().snapshot());
    assert.equal(restored.currentRevision, 1);
    assert.equal(restored.compactedRevision, -1);
    assert.equal('error' in restored.apply(write.compact(0)), false, 'Compact(0) is still accepted once');
  });

  test('the restored store takes the options it is given', () => {
    const restored = MvccStore.restore(sampleStore().snapshot(), { maxTxnOps: 1 });
    const result = restored.apply(
      write.txn(
        [],
        [
          { kind: 'range', request: rangeRequest('a') },
          { kind: 'range', request: rangeRequest('b') },
        ],
      ),
    );
    assert.equal('error' in result && result.error.message, 'etcdserver: too many operations in txn request');
  });

  test('every single-byte change is refused (the checksum covers header and body)', () => {
    const bytes = sampleStore().snapshot();
    fc.assert(
      fc.property(fc.nat({ max: bytes.length - 1 }), fc.integer({ min: 1, max: 255 }), (offset, flip) => {
        const corrupt = bytes.slice();
        corrupt[offset]! ^= flip;
        refusal(corrupt);
      }),
      { seed: 7, numRuns: 300 },
    );
  });

  test('every truncation is refused', () => {
    const bytes = sampleStore().snapshot();
    for (let length = 0; length < bytes.length; length++) refusal(bytes.subarray(0, length));
  });

  test('refusals say what is wrong: magic, version, checksum, structure', () => {
    const bytes = sampleStore().snapshot();
    const wrongMagic = resealed(bytes);
    wrongMagic[0] = 0x58;
    assert.match(refusal(wrongMagic).message, /magic/);

    const newer = bytes.slice();
    new DataView(newer.buffer).setUint32(4, MVCC_SNAPSHOT_FORMAT_VERSION + 1, true);
    const unsupported = refusal(resealed(newer));
    assert.equal(unsupported.code, 'unsupportedVersion');
    assert.match(unsupported.message, /format version 2 is not the supported version 1/);

    const flipped = bytes.slice();
    flipped[20]! ^= 1;
    const checksum = refusal(flipped);
    assert.equal(checksum.code, 'corrupt');
    assert.match(checksum.message, /checksum mismatch/);

    const trailing = resealed(new Uint8Array([...bytes.subarray(0, bytes.length - 4), 0, 0, 0, 0, 0]));
    assert.match(refusal(trailing).message, /extra bytes/);
  });

  test('a checksummed body with impossible content is still refused (keys out of order, revisions past the store)', () => {
    const ordered = new MvccStore();
    ordered.apply(write.put('a', '1'));
    ordered.apply(write.put('b', '1'));
    const bytes = ordered.snapshot();
    // Body: revision, compaction + 1, key count, revision count, then key "a" (length 1, 0x61).
    const keyOffset = bytes.indexOf(0x61);
    const swapped = bytes.slice();
    swapped[keyOffset] = 0x63; // "c" before "b"
    assert.match(refusal(resealed(swapped)).message, /out of order/);
    const future = bytes.slice();
    future[8] = 2; // store revision 2 < key revision 3
    assert.match(refusal(resealed(future)).message, /outside 1\.\.2/);
  });
});

describe('snapshot encoded in pieces', () => {
  const writes = (commands: readonly Command[]) =>
    commands.flatMap((command) => (command.kind === 'write' ? [command.request] : []));

  test('pieces encoded between later writes give the bytes of a snapshot taken at the start', () => {
    fc.assert(
      fc.property(
        fc.array(commandArb, { maxLength: 40 }),
        fc.array(commandArb, { maxLength: 60 }),
        fc.integer({ min: 1, max: 64 }),
        (before, during, budget) => {
          const store = new MvccStore();
          for (const request of writes(before)) store.apply(request);
          const expected = store.snapshot();
          const encoder = store.beginSnapshot();
          // Everything but compaction may run between pieces: puts, deletes, txns, new keys.
          const later = writes(during).filter((request) => request.kind !== 'compact');
          let done = false;
          while (!done) {
            done = encoder.step(budget);
            for (const request of later.splice(0, 3)) store.apply(request);
            assert.equal(encoder.stale, false);
          }
          const { chunks, byteLength, crc } = encoder.finish();
          const bytes = concatChunks(chunks, byteLength);
          assert.deepEqual(bytes, expected);
          assert.equal(crc, crc32c(bytes));
        },
      ),
      { seed: 0x5eed, numRuns: 300 },
    );
  });

  test('a key with a long history is split across steps, each within its budget', () => {
    const store = new MvccStore();
    const value = 'v'.repeat(200);
    for (let i = 0; i < 2_000; i++) store.apply(write.put(i % 100 === 0 ? `cold/${i}` : 'hot', value));
    const expected = store.snapshot();
    const encoder = store.beginSnapshot();
    const budget = 16 * 1024;
    let steps = 0;
    let done = false;
    while (!done) {
      done = encoder.step(budget);
      steps++;
      // Writes to the hot key between steps append history above the snapshot's revision.
      store.apply(write.put('hot', 'later'));
    }
    const { chunks, byteLength } = encoder.finish();
    assert.deepEqual(concatChunks(chunks, byteLength), expected);
    // One revision past the budget at most (about 220 bytes), not the hot key's whole 400 KB.
    for (const chunk of chunks)
      assert.ok(chunk.byteLength < budget + 512, `a piece of ${chunk.byteLength} bytes`);
    assert.ok(steps >= Math.floor(expected.byteLength / (budget + 512)), `${steps} steps`);
  });

  test('a compaction between pieces makes the encoding stale instead of wrong', () => {
    const store = sampleStore();
    const encoder = store.beginSnapshot();
    assert.equal(encoder.step(1), false);
    assert.equal('error' in store.apply(write.compact(store.currentRevision)), false);
    assert.equal(encoder.stale, true);
    assert.throws(() => encoder.step(), /after a compaction/);
    assert.throws(() => encoder.finish(), /before its last step/);
  });
});
