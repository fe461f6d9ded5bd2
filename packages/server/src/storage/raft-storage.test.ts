import assert from 'node:assert/strict';
import { readdir, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { ConfState, HardState, MemoryStorage, Snapshot } from '@synod/raft';
import { StorageCorruptionError } from './errors.js';
import type { RaftDiskStorageOptions } from './raft-storage.js';
import { RaftDiskStorage } from './raft-storage.js';
import { SnapshotStore, snapshotFileName } from './snapshot-store.js';
import {
  describeEntries,
  entryRange,
  RecordingLogger,
  segmentDataEnd,
  withTempDir,
} from './storage.fixture.js';
import { scanSegment } from './wal-segment.js';

const conf: ConfState = {
  voters: ['a', 'b', 'c'],
  votersOutgoing: [],
  learners: [],
  learnersNext: [],
  autoLeave: false,
};
const hardState = (term: number, commit: number, vote = 'a'): HardState => ({ term, vote, commit });
const noSnapshot = { snapshot: undefined };

function snapshotAt(index: number, term: number): Snapshot {
  return { metadata: { index, term, confState: conf }, data: new TextEncoder().encode(`state@${index}`) };
}

async function openStorage(dir: string, options: Partial<RaftDiskStorageOptions> = {}) {
  const logger = new RecordingLogger();
  const storage = await RaftDiskStorage.open(dir, { logger, ...options });
  return { storage, logger };
}

/** Everything the Raft core can read, in a form assert.deepEqual can compare. */
function view(memory: MemoryStorage) {
  const snapshot = memory.snapshot();
  return {
    firstIndex: memory.firstIndex(),
    lastIndex: memory.lastIndex(),
    entries: describeEntries(memory.allEntries()),
    hardState: memory.initialState().hardState,
    confState: memory.initialState().confState,
    snapshot: { index: snapshot.metadata.index, term: snapshot.metadata.term, data: [...snapshot.data] },
  };
}

async function reopenedView(dir: string, options: Partial<RaftDiskStorageOptions> = {}) {
  const { storage, logger } = await openStorage(dir, options);
  const result = view(storage.memory);
  await storage.close();
  return { view: result, logger };
}

describe('RaftDiskStorage round trip', () => {
  test('a fresh data directory is empty, and the bootstrap membership survives a restart', () =>
    withTempDir(async (dir) => {
      const { storage } = await openStorage(dir);
      assert.equal(storage.isEmpty(), true);
      await storage.bootstrap(conf);
      assert.equal(storage.isEmpty(), false);
      await storage.close();
      assert.deepEqual((await readdir(dir)).sort(), ['snap', 'wal']);
      const { storage: reopened } = await openStorage(dir);
      assert.equal(reopened.isEmpty(), false);
      assert.deepEqual(reopened.memory.initialState().confState, conf);
      await reopened.close();
    }));

  test('entries, hard state and snapshots are the same after close and reopen', () =>
    withTempDir(async (dir) => {
      const { storage } = await openStorage(dir);
      await storage.bootstrap(conf);
      await storage.persist({ ...noSnapshot, entries: entryRange(2, 20, 1), hardState: hardState(1, 15) });
      await storage.saveSnapshot(snapshotAt(10, 1), 10);
      await storage.persist({
        ...noSnapshot,
        entries: entryRange(21, 25, 2),
        hardState: hardState(2, 22, 'b'),
      });
      const before = view(storage.memory);
      await storage.close();
      const { view: after } = await reopenedView(dir);
      assert.deepEqual(after, before);
      assert.equal(after.firstIndex, 11);
      assert.deepEqual(after.hardState, hardState(2, 22, 'b'));
    }));

  test('a conflicting suffix overwritten by a new leader stays overwritten after restart', () =>
    withTempDir(async (dir) => {
      const { storage } = await openStorage(dir);
      await storage.persist({ ...noSnapshot, entries: entryRange(1, 10, 1), hardState: hardState(1, 4) });
      await storage.persist({ ...noSnapshot, entries: entryRange(6, 7, 3), hardState: hardState(3, 5, 'c') });
      const expected = describeEntries([...entryRange(1, 5, 1), ...entryRange(6, 7, 3)]);
      assert.deepEqual(describeEntries(storage.memory.allEntries()), expected);
      await storage.close();
      const { view: after } = await reopenedView(dir);
      assert.deepEqual(after.entries, expected);
      assert.deepEqual(after.hardState, hardState(3, 5, 'c'));
    }));
});

describe('RaftDiskStorage snapshots and compaction', () => {
  test('saveSnapshot compacts memory and releases WAL segments a snapshot covers', () =>
    withTempDir(async (dir) => {
      const { storage } = await openStorage(dir, { segmentBytesMax: 512 });
      for (let index = 1; index <= 60; index++)
        await storage.persist({
          ...noSnapshot,
          entries: entryRange(index, index, 1),
          hardState: hardState(1, index),
        });
      const segmentsBefore = (await readdir(join(dir, 'wal'))).length;
      await storage.saveSnapshot(snapshotAt(20, 1), 15);
      assert.equal(storage.memory.firstIndex(), 16, 'compacted to 15');
      assert.equal(storage.memory.snapshot().metadata.index, 20);
      // The only snapshot is the oldest kept one, so segments wholly ≤ 15 may go.
      const segmentsAfterFirst = (await readdir(join(dir, 'wal'))).length;
      assert.ok(
        segmentsAfterFirst < segmentsBefore,
        `${segmentsAfterFirst} of ${segmentsBefore} segments left`,
      );
      await storage.saveSnapshot(snapshotAt(50, 1), 50);
      assert.equal(storage.memory.firstIndex(), 51);
      await storage.close();
      const { view: after } = await reopenedView(dir, { segmentBytesMax: 512 });
      assert.equal(after.snapshot.index, 50);
      assert.equal(after.lastIndex, 60);
      assert.deepEqual(after.hardState, hardState(1, 60));
    }));

  test('WAL segments needed to fall back to the older kept snapshot are retained', () =>
    withTempDir(async (dir) => {
      const { storage } = await openStorage(dir, { segmentBytesMax: 512 });
      for (let index = 1; index <= 60; index++)
        await storage.persist({
          ...noSnapshot,
          entries: entryRange(index, index, 1),
          hardState: hardState(1, index),
        });
      await storage.saveSnapshot(snapshotAt(20, 1), 20);
      await storage.saveSnapshot(snapshotAt(50, 1), 50);
      await storage.close();
      const segments = (await readdir(join(dir, 'wal'))).sort();
      const firstRecords = scanSegment(await readFile(join(dir, 'wal', segments[0]!))).records;
      const firstEntries = firstRecords.find((scanned) => scanned.record.type === 'entries');
      assert.ok(firstEntries?.record.type === 'entries');
      assert.ok(firstEntries.record.entries[0]!.index <= 21, 'entries after the older snapshot are kept');
    }));

  test('a damaged newest snapshot falls back to the previous one with a warning', () =>
    withTempDir(async (dir) => {
      const { storage } = await openStorage(dir);
      await storage.persist({ ...noSnapshot, entries: entryRange(1, 30, 1), hardState: hardState(1, 30) });
      await storage.saveSnapshot(snapshotAt(10, 1), 10);
      await storage.saveSnapshot(snapshotAt(20, 1), 20);
      await storage.close();
      const newest = join(dir, 'snap', snapshotFileName(20, 1));
      const bytes = await readFile(newest);
      bytes[20]! ^= 0x55;
      await writeFile(newest, bytes);
      const { view: after, logger } = await reopenedView(dir);
      assert.equal(after.snapshot.index, 10);
      assert.equal(after.lastIndex, 30);
      assert.deepEqual(after.entries, describeEntries(entryRange(11, 30, 1)));
      const [warning] = logger.warnings();
      assert.match(warning!.message, /newest snapshot is damaged/);
      assert.ok((await readdir(join(dir, 'snap'))).includes(`${snapshotFileName(20, 1)}.broken`));
    }));

  test('with every snapshot damaged the node refuses to start', () =>
    withTempDir(async (dir) => {
      const { storage } = await openStorage(dir);
      await storage.persist({ ...noSnapshot, entries: entryRange(1, 10, 1), hardState: hardState(1, 10) });
      await storage.saveSnapshot(snapshotAt(5, 1), 5);
      await storage.close();
      const path = join(dir, 'snap', snapshotFileName(5, 1));
      await truncate(path, (await stat(path)).size - 1);
      await assert.rejects(openStorage(dir), (error: unknown) => {
        assert.ok(error instanceof StorageCorruptionError);
        assert.equal(error.code, 'SNAPSHOT_CORRUPT');
        assert.equal(error.file, snapshotFileName(5, 1));
        assert.match(error.message, /no older valid snapshot to fall back to/);
        return true;
      });
    }));

  test('falling back is refused when the WAL no longer reaches back to the older snapshot', () =>
    withTempDir(async (dir) => {
      const { storage } = await openStorage(dir);
      await storage.persist({ ...noSnapshot, entries: entryRange(1, 10, 1), hardState: hardState(1, 10) });
      await storage.saveSnapshot(snapshotAt(5, 1), 5);
      // A snapshot from the leader far ahead replaces the log: entries 6..100 exist only in it.
      await storage.persist({ snapshot: snapshotAt(100, 4), entries: [], hardState: hardState(4, 100, 'b') });
      await storage.close();
      const newest = join(dir, 'snap', snapshotFileName(100, 4));
      const bytes = await readFile(newest);
      bytes[bytes.length - 1]! ^= 1;
      await writeFile(newest, bytes);
      await assert.rejects(openStorage(dir), (error: unknown) => {
        assert.ok(error instanceof StorageCorruptionError);
        assert.equal(error.file, snapshotFileName(100, 4));
        assert.match(error.message, /entries 6\.\.100 are in no snapshot and no segment/);
        return true;
      });
    }));
});

describe('RaftDiskStorage snapshots from the leader', () => {
  test('a snapshot the log does not hold replaces the log, also after restart', () =>
    withTempDir(async (dir) => {
      const { storage } = await openStorage(dir);
      await storage.persist({ ...noSnapshot, entries: entryRange(1, 10, 1), hardState: hardState(1, 3) });
      await storage.persist({ snapshot: snapshotAt(50, 3), entries: [], hardState: hardState(3, 50, 'b') });
      await storage.persist({ ...noSnapshot, entries: entryRange(51, 52, 3), hardState: undefined });
      const before = view(storage.memory);
      assert.equal(before.firstIndex, 51);
      assert.deepEqual(before.entries, describeEntries(entryRange(51, 52, 3)));
      await storage.close();
      assert.deepEqual((await reopenedView(dir)).view, before);
    }));

  test('a snapshot whose index and term the log holds keeps the entries after it', () =>
    withTempDir(async (dir) => {
      const { storage } = await openStorage(dir);
      await storage.persist({ ...noSnapshot, entries: entryRange(1, 10, 2), hardState: hardState(2, 3) });
      await storage.persist({ snapshot: snapshotAt(6, 2), entries: [], hardState: hardState(2, 6) });
      const before = view(storage.memory);
      assert.deepEqual(before.entries, describeEntries(entryRange(7, 10, 2)));
      await storage.close();
      assert.deepEqual((await reopenedView(dir)).view, before);
    }));

  test('persist calls issued after a snapshot-bearing one land after it, in order', () =>
    withTempDir(async (dir) => {
      const { storage } = await openStorage(dir);
      await storage.persist({ ...noSnapshot, entries: entryRange(1, 5, 1), hardState: hardState(1, 5) });
      const calls = [
        storage.persist({ snapshot: snapshotAt(40, 2), entries: [], hardState: hardState(2, 40) }),
        storage.persist({ ...noSnapshot, entries: entryRange(41, 45, 2), hardState: undefined }),
        storage.persist({ ...noSnapshot, entries: entryRange(46, 47, 2), hardState: hardState(2, 44) }),
      ];
      await Promise.all(calls);
      const before = view(storage.memory);
      assert.equal(before.snapshot.index, 40);
      assert.deepEqual(before.entries, describeEntries(entryRange(41, 47, 2)));
      await storage.close();
      assert.deepEqual((await reopenedView(dir)).view, before);
    }));

  test('a crash after the snapshot file but before its WAL marker recovers from the snapshot', () =>
    withTempDir(async (dir) => {
      const { storage } = await openStorage(dir);
      await storage.persist({ ...noSnapshot, entries: entryRange(1, 10, 1), hardState: hardState(1, 4) });
      await storage.close();
      // What persist() had done when the process died: the file is there, the marker is not.
      const store = await SnapshotStore.open(join(dir, 'snap'), { logger: new RecordingLogger() });
      await store.save(snapshotAt(30, 2));
      const { view: after } = await reopenedView(dir);
      assert.equal(after.snapshot.index, 30);
      assert.equal(after.lastIndex, 30);
      assert.equal(after.hardState.commit, 30, 'a snapshot only holds committed entries');
    }));
});

describe('RaftDiskStorage durability', () => {
  test('concurrent persist calls share fsyncs and are all durable', () =>
    withTempDir(async (dir) => {
      const { storage } = await openStorage(dir);
      const fsyncsBefore = storage.stats.fsyncs;
      const calls = Array.from({ length: 100 }, (_, i) =>
        storage.persist({ ...noSnapshot, entries: entryRange(i + 1, i + 1, 1), hardState: hardState(1, i) }),
      );
      await Promise.all(calls);
      const fsyncs = storage.stats.fsyncs - fsyncsBefore;
      assert.ok(fsyncs <= 3, `${fsyncs} fsyncs for 100 concurrent persist calls`);
      assert.equal(storage.memory.lastIndex(), 100);
      await storage.close();
      const { view: after } = await reopenedView(dir);
      assert.equal(after.lastIndex, 100);
      assert.deepEqual(after.hardState, hardState(1, 99));
    }));

  test('a torn WAL tail is cut off with a warning and only the torn write is lost', () =>
    withTempDir(async (dir) => {
      const { storage } = await openStorage(dir);
      await storage.persist({ ...noSnapshot, entries: entryRange(1, 5, 1), hardState: hardState(1, 5) });
      await storage.persist({ ...noSnapshot, entries: entryRange(6, 6, 1), hardState: undefined });
      await storage.close();
      const [segment] = await readdir(join(dir, 'wal'));
      const path = join(dir, 'wal', segment!);
      await truncate(path, (await segmentDataEnd(path)) - 3);
      const { view: after, logger } = await reopenedView(dir);
      assert.equal(after.lastIndex, 5);
      assert.deepEqual(after.hardState, hardState(1, 5));
      assert.match(logger.warnings()[0]!.message, /torn record/);
    }));

  test('a damaged record before the tail refuses to start', () =>
    withTempDir(async (dir) => {
      const { storage } = await openStorage(dir);
      for (let index = 1; index <= 5; index++)
        await storage.persist({ ...noSnapshot, entries: entryRange(index, index, 1), hardState: undefined });
      await storage.close();
      const [segment] = await readdir(join(dir, 'wal'));
      const path = join(dir, 'wal', segment!);
      const bytes = await readFile(path);
      const offset = scanSegment(bytes).records[2]!.offset;
      bytes[offset + 10]! ^= 0x80;
      await writeFile(path, bytes);
      await assert.rejects(openStorage(dir), { name: 'StorageCorruptionError', code: 'WAL_CORRUPT', offset });
    }));

  test('a WAL lost while snapshots exist refuses to start instead of forgetting term and vote', () =>
    withTempDir(async (dir) => {
      const { storage } = await openStorage(dir);
      await storage.bootstrap(conf);
      await storage.persist({ ...noSnapshot, entries: [], hardState: hardState(7, 0, 'c') });
      await storage.close();
      await rm(join(dir, 'wal'), { recursive: true });
      await assert.rejects(openStorage(dir), { code: 'WAL_CORRUPT' });
      await assert.rejects(openStorage(dir), { code: 'WAL_CORRUPT' }, 'still refused on the second try');
    }));
});
