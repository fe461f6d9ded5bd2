import assert from 'node:assert/strict';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { crc32c } from '@synod/core/hashing';
import type { Snapshot } from '@synod/raft';
import fc from 'fast-check';
import { DecodeError } from './byte-codec.js';
import { decodeSnapshot, encodeSnapshot, SnapshotStore, snapshotFileName } from './snapshot-store.js';
import { RecordingLogger, withTempDir } from './storage.fixture.js';

function snapshotAt(index: number, term: number, text = `state at ${index}`): Snapshot {
  return {
    metadata: {
      index,
      term,
      confState: {
        voters: ['a', 'b', 'c'],
        votersOutgoing: [],
        learners: ['d'],
        learnersNext: [],
        autoLeave: false,
      },
    },
    data: new TextEncoder().encode(text),
  };
}

/** Plain objects only: decoded snapshots never have a null prototype. */
const plain = { noNullPrototype: true } as const;
const members = fc.array(fc.string({ minLength: 1, maxLength: 8 }), { maxLength: 5 });
const snapshotArbitrary = fc.record(
  {
    metadata: fc.record(
      {
        index: fc.maxSafeNat(),
        term: fc.maxSafeNat(),
        confState: fc.record(
          {
            voters: members,
            votersOutgoing: members,
            learners: members,
            learnersNext: members,
            autoLeave: fc.boolean(),
          },
          plain,
        ),
      },
      plain,
    ),
    data: fc.uint8Array({ maxLength: 2000 }),
  },
  plain,
);

describe('snapshot files', () => {
  test('decode to what was encoded', () => {
    fc.assert(
      fc.property(snapshotArbitrary, (snapshot) => {
        assert.deepEqual(decodeSnapshot(encodeSnapshot(snapshot)), snapshot);
      }),
      { seed: 3, numRuns: 200 },
    );
  });

  test('any flipped byte or missing tail is detected', () => {
    const bytes = encodeSnapshot(snapshotAt(10, 2));
    for (let i = 0; i < bytes.length; i++) {
      const damaged = Buffer.from(bytes);
      damaged[i]! ^= 0x10;
      assert.throws(() => decodeSnapshot(damaged), DecodeError, `byte ${i}`);
    }
    assert.throws(() => decodeSnapshot(bytes.subarray(0, bytes.length - 1)), DecodeError);
  });
});

describe('SnapshotStore', () => {
  test('saves atomically (no temp file left) and loads the newest', () =>
    withTempDir(async (dir) => {
      const store = await SnapshotStore.open(dir, { logger: new RecordingLogger() });
      await store.save(snapshotAt(10, 1));
      await store.save(snapshotAt(20, 2));
      assert.deepEqual((await readdir(dir)).sort(), [snapshotFileName(10, 1), snapshotFileName(20, 2)]);
      const loaded = await store.loadNewest();
      assert.deepEqual(loaded.snapshot, snapshotAt(20, 2));
      assert.deepEqual(loaded.damaged, []);
    }));

  test('a large snapshot (checksummed over several turns) is saved as encodeSnapshot writes it', () =>
    withTempDir(async (dir) => {
      const store = await SnapshotStore.open(dir, { logger: new RecordingLogger() });
      const data = Uint8Array.from({ length: 3 * 1024 * 1024 + 17 }, (_, i) => (i * 31) & 0xff);
      const snapshot: Snapshot = { ...snapshotAt(40, 4), data };
      await store.save(snapshot);
      assert.deepEqual(await readFile(join(dir, snapshotFileName(40, 4))), encodeSnapshot(snapshot));
      assert.deepEqual((await store.loadNewest()).snapshot, snapshot);
    }));

  test("with the data's checksum given, the file is the same and the data is not checksummed again", () =>
    withTempDir(async (dir) => {
      const store = await SnapshotStore.open(dir, { logger: new RecordingLogger() });
      const data = Uint8Array.from({ length: 2 * 1024 * 1024 + 5 }, (_, i) => (i * 7) & 0xff);
      const snapshot: Snapshot = { ...snapshotAt(40, 4), data };
      await store.save(snapshot, crc32c(data));
      assert.deepEqual(await readFile(join(dir, snapshotFileName(40, 4))), encodeSnapshot(snapshot));
      // A wrong checksum shows it is the one used: the file then fails its check on load.
      await store.save({ ...snapshotAt(50, 4), data }, crc32c(data) ^ 1);
      const loaded = await store.loadNewest();
      assert.deepEqual(loaded.snapshot, snapshot);
      assert.deepEqual(
        loaded.damaged.map((damaged) => damaged.name),
        [snapshotFileName(50, 4)],
      );
    }));

  test('keeps only the newest N snapshots', () =>
    withTempDir(async (dir) => {
      const store = await SnapshotStore.open(dir, { logger: new RecordingLogger(), keep: 2 });
      for (const index of [5, 10, 15, 20]) await store.save(snapshotAt(index, 1));
      assert.deepEqual(
        (await store.list()).map((file) => file.index),
        [20, 15],
      );
      assert.equal(await store.oldestKeptIndex(), 15);
    }));

  test('a damaged newest snapshot falls back to the previous one and is reported', () =>
    withTempDir(async (dir) => {
      const store = await SnapshotStore.open(dir, { logger: new RecordingLogger() });
      await store.save(snapshotAt(10, 1));
      await store.save(snapshotAt(20, 2));
      const newest = join(dir, snapshotFileName(20, 2));
      const bytes = await readFile(newest);
      bytes[bytes.length - 6]! ^= 0xff;
      await writeFile(newest, bytes);
      const loaded = await store.loadNewest();
      assert.deepEqual(loaded.snapshot, snapshotAt(10, 1));
      assert.deepEqual(loaded.damaged, [{ name: snapshotFileName(20, 2), reason: 'CRC mismatch' }]);
      await store.quarantine(loaded.damaged);
      assert.deepEqual((await readdir(dir)).sort(), [
        snapshotFileName(10, 1),
        `${snapshotFileName(20, 2)}.broken`,
      ]);
    }));

  test('a file whose contents disagree with its name is damaged', () =>
    withTempDir(async (dir) => {
      const store = await SnapshotStore.open(dir, { logger: new RecordingLogger() });
      await writeFile(join(dir, snapshotFileName(30, 3)), encodeSnapshot(snapshotAt(31, 3)));
      const loaded = await store.loadNewest();
      assert.equal(loaded.snapshot, undefined);
      assert.match(loaded.damaged[0]!.reason, /contents are snapshot/);
    }));

  test('leftover temp files are removed on open', () =>
    withTempDir(async (dir) => {
      await writeFile(join(dir, `${snapshotFileName(1, 1)}.tmp`), 'partial');
      const logger = new RecordingLogger();
      await SnapshotStore.open(dir, { logger });
      assert.deepEqual(await readdir(dir), []);
      assert.equal(logger.warnings().length, 1);
    }));
});
