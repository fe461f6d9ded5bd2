import assert from 'node:assert/strict';
import { appendFile, readdir, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { HardState } from '@synod/raft';
import fc from 'fast-check';
import { StorageCorruptionError } from './errors.js';
import {
  describeEntries,
  entry,
  entryRange,
  RecordingLogger,
  segmentDataEnd,
  withTempDir,
} from './storage.fixture.js';
import { PREALLOCATION_AHEAD_BYTES, Wal } from './wal.js';
import { scanSegment } from './wal-segment.js';

const hardState = (term: number, commit: number, vote = 'a'): HardState => ({ term, vote, commit });

async function openWal(dir: string, segmentBytesMax?: number) {
  const logger = new RecordingLogger();
  const opened = await Wal.open(dir, { logger, ...(segmentBytesMax ? { segmentBytesMax } : {}) });
  return { ...opened, logger };
}

async function lastSegmentPath(dir: string): Promise<string> {
  const names = (await readdir(dir)).filter((name) => name.endsWith('.wal')).sort();
  return join(dir, names.at(-1)!);
}

/** Byte offsets of the records in a segment file, in order. */
async function recordOffsets(path: string): Promise<number[]> {
  return scanSegment(await readFile(path)).records.map((record) => record.offset);
}

/** Writes entries 1..10 (term 1) in ten appends plus a hard state, and closes. */
async function writeTenEntries(dir: string): Promise<void> {
  const { wal } = await openWal(dir);
  for (let index = 1; index <= 10; index++)
    await wal.append([{ type: 'entries', entries: [entry(index, 1)] }]);
  await wal.append([{ type: 'hardState', hardState: hardState(1, 4) }]);
  await wal.close();
}

describe('WAL round trip', () => {
  test('entries and the hard state survive close and reopen', () =>
    withTempDir(async (dir) => {
      const first = await openWal(dir);
      assert.equal(first.createdFresh, true);
      await first.wal.append([
        { type: 'entries', entries: entryRange(1, 3, 1) },
        { type: 'hardState', hardState: hardState(1, 2) },
      ]);
      await first.wal.close();
      const second = await openWal(dir);
      assert.equal(second.createdFresh, false);
      assert.deepEqual(describeEntries(second.replay.entries), describeEntries(entryRange(1, 3, 1)));
      assert.deepEqual(second.replay.hardState, hardState(1, 2));
      assert.equal(second.logger.warnings().length, 0);
      await second.wal.close();
    }));

  test('a later record for an index replaces the conflicting suffix, also after restart', () =>
    withTempDir(async (dir) => {
      const { wal } = await openWal(dir);
      await wal.append([{ type: 'entries', entries: entryRange(1, 10, 1) }]);
      await wal.append([{ type: 'entries', entries: entryRange(6, 8, 2) }]);
      await wal.close();
      const { wal: reopened, replay } = await openWal(dir);
      assert.deepEqual(
        describeEntries(replay.entries),
        describeEntries([...entryRange(1, 5, 1), ...entryRange(6, 8, 2)]),
      );
      await reopened.close();
    }));

  test('entries starting past the end of the log are refused as corruption', () =>
    withTempDir(async (dir) => {
      const { wal } = await openWal(dir);
      await wal.append([{ type: 'entries', entries: entryRange(1, 3, 1) }]);
      await wal.append([{ type: 'entries', entries: entryRange(7, 8, 1) }]);
      await wal.close();
      await assert.rejects(openWal(dir), (error: unknown) => {
        assert.ok(error instanceof StorageCorruptionError);
        assert.match(error.message, /entries start at index 7 but the log ends at 3/);
        return true;
      });
    }));

  test('a snapshot marker the log does not hold restarts the log after it', () =>
    withTempDir(async (dir) => {
      const { wal } = await openWal(dir);
      await wal.append([{ type: 'entries', entries: entryRange(1, 5, 1) }]);
      await wal.append([{ type: 'snapshotMarker', index: 3, term: 1 }]); // held: no change
      await wal.append([{ type: 'snapshotMarker', index: 20, term: 4 }]); // from the leader
      await wal.append([{ type: 'entries', entries: entryRange(21, 22, 4) }]);
      await wal.close();
      const { wal: reopened, replay } = await openWal(dir);
      assert.equal(replay.base, 20);
      assert.equal(replay.term(20), 4);
      assert.deepEqual(describeEntries(replay.entries), describeEntries(entryRange(21, 22, 4)));
      assert.deepEqual(replay.latestSnapshotMarker, { index: 20, term: 4 });
      await reopened.close();
    }));
});

describe('WAL segments', () => {
  test('rotates at segmentBytesMax and every segment starts with the current hard state', () =>
    withTempDir(async (dir) => {
      const { wal } = await openWal(dir, 2048);
      for (let index = 1; index <= 100; index++) {
        await wal.append([
          { type: 'entries', entries: [entry(index, 1, 'x'.repeat(100))] },
          { type: 'hardState', hardState: hardState(1, index - 1) },
        ]);
      }
      const names = wal.segmentNames();
      assert.ok(names.length >= 5, `only ${names.length} segments`);
      assert.equal(wal.stats.segmentsCreated, names.length);
      for (const name of names) assert.ok((await stat(join(dir, name))).size <= 2048 + 200, name);
      for (const name of names.slice(1)) {
        const records = scanSegment(await readFile(join(dir, name))).records;
        assert.equal(records[0]?.record.type, 'segmentHeader');
        assert.equal(records[1]?.record.type, 'hardState', `${name} opens without the hard state`);
      }
      await wal.close();
      const { wal: reopened, replay } = await openWal(dir, 2048);
      assert.equal(replay.entries.length, 100);
      assert.deepEqual(replay.hardState, hardState(1, 99));
      await reopened.close();
    }));

  test('releaseTo deletes only whole segments at or below the index, and the rest still replays', () =>
    withTempDir(async (dir) => {
      const { wal } = await openWal(dir, 2048);
      for (let index = 1; index <= 100; index++) {
        await wal.append([
          { type: 'entries', entries: [entry(index, 1, 'x'.repeat(100))] },
          { type: 'hardState', hardState: hardState(1, index) },
        ]);
      }
      const before = wal.segmentNames();
      const released = await wal.releaseTo(50);
      assert.ok(released > 0);
      assert.deepEqual(wal.segmentNames(), before.slice(released));
      assert.equal(wal.stats.segmentsReleased, released);
      assert.deepEqual((await readdir(dir)).sort(), before.slice(released));
      await wal.close();
      const { wal: reopened, replay } = await openWal(dir, 2048);
      assert.ok(replay.base! <= 50, `log starts after ${replay.base}: entries up to 50 were released`);
      assert.ok(replay.base! > 0);
      assert.equal(replay.lastIndex(), 100);
      assert.deepEqual(replay.hardState, hardState(1, 100));
      await reopened.close();
    }));

  test('a snapshot marker that trails its entries into a later segment survives release of the earlier ones', () =>
    withTempDir(async (dir) => {
      const { wal } = await openWal(dir, 1024);
      for (let index = 1; index <= 30; index++)
        await wal.append([{ type: 'entries', entries: [entry(index, 1, 'w'.repeat(100))] }]);
      const segments = wal.segmentNames().length;
      // The snapshot at 5 was taken long ago; its marker opens the next segment, before any entry.
      await wal.append([
        { type: 'snapshotMarker', index: 5, term: 1 },
        { type: 'entries', entries: [entry(31, 1, 'v'.repeat(1024))] },
      ]);
      assert.equal(wal.segmentNames().length, segments + 1, 'the append rotated');
      assert.equal(await wal.releaseTo(30), segments);
      await wal.close();
      const { wal: reopened, replay } = await openWal(dir, 1024);
      assert.equal(replay.base, 30);
      assert.equal(replay.lastIndex(), 31);
      await reopened.close();
    }));

  test('the current segment is never released', () =>
    withTempDir(async (dir) => {
      const { wal } = await openWal(dir);
      await wal.append([{ type: 'entries', entries: entryRange(1, 3, 1) }]);
      assert.equal(await wal.releaseTo(1_000), 0);
      assert.equal(wal.segmentNames().length, 1);
      await wal.close();
    }));

  test('a missing segment in the middle refuses to start', () =>
    withTempDir(async (dir) => {
      const { wal } = await openWal(dir, 1024);
      for (let index = 1; index <= 40; index++)
        await wal.append([{ type: 'entries', entries: [entry(index, 1, 'y'.repeat(100))] }]);
      const names = wal.segmentNames();
      await wal.close();
      assert.ok(names.length >= 3);
      await rm(join(dir, names[1]!));
      await assert.rejects(openWal(dir, 1024), (error: unknown) => {
        assert.ok(error instanceof StorageCorruptionError);
        assert.equal(error.code, 'WAL_CORRUPT');
        assert.match(error.message, /segment 1 is missing/);
        return true;
      });
    }));

  test('leftover temp files from a crash are removed on open', () =>
    withTempDir(async (dir) => {
      await (await openWal(dir)).wal.close();
      await writeFile(join(dir, '0000000000000001-0000000000000001.wal.tmp'), 'half a segment');
      const { wal, logger } = await openWal(dir);
      assert.ok(!(await readdir(dir)).some((name) => name.endsWith('.tmp')));
      assert.match(logger.warnings()[0]!.message, /unfinished WAL segment/);
      await wal.close();
    }));
});

describe('WAL recovery from a torn tail', () => {
  test('a last record chopped mid-way is truncated with a warning; only that record is lost', () =>
    withTempDir(async (dir) => {
      await writeTenEntries(dir);
      const path = await lastSegmentPath(dir);
      const offsets = await recordOffsets(path);
      const lastRecord = offsets.at(-1)!;
      await truncate(path, (await segmentDataEnd(path)) - 2);
      const { wal, replay, logger } = await openWal(dir);
      assert.equal(replay.lastIndex(), 10);
      assert.equal(replay.hardState, undefined, 'the torn record was the hard state');
      const [warning] = logger.warnings();
      assert.match(warning!.message, /torn record/);
      assert.deepEqual(warning!.object, {
        file: path.split('/').at(-1),
        offset: lastRecord,
        reason: 'record runs past the end of the file',
      });
      assert.equal(await segmentDataEnd(path), lastRecord, 'the torn bytes are cut off');
      assert.equal(wal.stats.tornTailsTruncated, 1);
      // Appending continues at the cut and survives another restart.
      await wal.append([{ type: 'entries', entries: [entry(11, 1)] }]);
      await wal.close();
      const again = await openWal(dir);
      assert.equal(again.replay.lastIndex(), 11);
      assert.equal(again.logger.warnings().length, 0);
      await again.wal.close();
    }));

  test('a header cut short is a torn tail', () =>
    withTempDir(async (dir) => {
      await writeTenEntries(dir);
      const path = await lastSegmentPath(dir);
      const lastRecord = (await recordOffsets(path)).at(-1)!;
      await truncate(path, lastRecord + 4);
      const { wal, replay, logger } = await openWal(dir);
      assert.equal(replay.lastIndex(), 10);
      assert.equal((logger.warnings()[0]!.object as { reason: string }).reason, 'short record header');
      await wal.close();
    }));

  test('zeros after the last record are preallocated space: kept without a warning, and appended into', () =>
    withTempDir(async (dir) => {
      await writeTenEntries(dir);
      const path = await lastSegmentPath(dir);
      const dataEnd = await segmentDataEnd(path);
      // The WAL zero-fills ahead of its appends; more zeros (never written) read the same.
      assert.ok((await stat(path)).size >= dataEnd + PREALLOCATION_AHEAD_BYTES, 'preallocated ahead');
      await appendFile(path, new Uint8Array(64 * 1024));
      const size = (await stat(path)).size;
      const { wal, replay, logger } = await openWal(dir);
      assert.equal(replay.lastIndex(), 10);
      assert.deepEqual(replay.hardState, hardState(1, 4));
      assert.deepEqual(logger.warnings(), []);
      await wal.append([{ type: 'entries', entries: [entry(11, 1)] }]);
      await wal.close();
      assert.equal((await stat(path)).size, size, 'the append went into the zeros');
      assert.ok((await segmentDataEnd(path)) > dataEnd);
      const again = await openWal(dir);
      assert.equal(again.replay.lastIndex(), 11);
      assert.deepEqual(again.logger.warnings(), []);
      await again.wal.close();
    }));

  test('a last record with a bad checksum and nothing after it is a torn tail', () =>
    withTempDir(async (dir) => {
      await writeTenEntries(dir);
      const path = await lastSegmentPath(dir);
      const bytes = await readFile(path);
      bytes[(await segmentDataEnd(path)) - 1]! ^= 0xff;
      await writeFile(path, bytes);
      const { wal, replay, logger } = await openWal(dir);
      assert.equal(replay.lastIndex(), 10);
      assert.equal((logger.warnings()[0]!.object as { reason: string }).reason, 'CRC mismatch');
      await wal.close();
    }));

  test('random garbage after the last record (in the preallocated zeros or past them) is truncated and nothing valid is lost', () => {
    fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ minLength: 1, maxLength: 3000 }),
        fc.boolean(),
        async (garbage, pastZeros) =>
          withTempDir(async (dir) => {
            await writeTenEntries(dir);
            const path = await lastSegmentPath(dir);
            if (pastZeros) await appendFile(path, garbage);
            else {
              // A torn write into the preallocated space: some of its bytes, then the zeros.
              const bytes = await readFile(path);
              bytes.set(garbage, await segmentDataEnd(path));
              await writeFile(path, bytes);
            }
            const { wal, replay } = await openWal(dir);
            assert.equal(replay.lastIndex(), 10);
            assert.deepEqual(replay.hardState, hardState(1, 4));
            await wal.close();
          }),
      ),
      { seed: 20240611, numRuns: 25 },
    );
  });
});

describe('WAL corruption outside the tail', () => {
  test('a flipped byte in an earlier record refuses to start, naming the file and offset', () =>
    withTempDir(async (dir) => {
      await writeTenEntries(dir);
      const path = await lastSegmentPath(dir);
      const offsets = await recordOffsets(path);
      const damaged = offsets[4]!;
      const bytes = await readFile(path);
      bytes[damaged + 12]! ^= 0x01;
      await writeFile(path, bytes);
      await assert.rejects(openWal(dir), (error: unknown) => {
        assert.ok(error instanceof StorageCorruptionError);
        assert.equal(error.code, 'WAL_CORRUPT');
        assert.equal(error.offset, damaged);
        const name = path.split('/').at(-1)!;
        assert.equal(error.file, name);
        assert.equal(
          error.message,
          `WAL segment ${name} is corrupt at offset ${damaged} (CRC mismatch). ` +
            'The node cannot start safely; restore this member from a snapshot or remove and re-add it.',
        );
        return true;
      });
      assert.deepEqual(await readFile(path), bytes, 'a refused WAL is left untouched');
    }));

  test('a damaged length field in the middle is not mistaken for a torn tail', () =>
    withTempDir(async (dir) => {
      await writeTenEntries(dir);
      const path = await lastSegmentPath(dir);
      const damaged = (await recordOffsets(path))[3]!;
      const bytes = await readFile(path);
      bytes.writeUInt32LE(0x7fff_0000, damaged); // points far past the end of the file
      await writeFile(path, bytes);
      await assert.rejects(openWal(dir), StorageCorruptionError);
    }));

  test('damage at the end of a segment that is not the last refuses to start', () =>
    withTempDir(async (dir) => {
      const { wal } = await openWal(dir, 1024);
      for (let index = 1; index <= 30; index++)
        await wal.append([{ type: 'entries', entries: [entry(index, 1, 'z'.repeat(100))] }]);
      const [first] = wal.segmentNames();
      await wal.close();
      const path = join(dir, first!);
      await truncate(path, (await segmentDataEnd(path)) - 3);
      await assert.rejects(openWal(dir, 1024), (error: unknown) => {
        assert.ok(error instanceof StorageCorruptionError);
        assert.equal(error.file, first);
        return true;
      });
    }));
});

describe('WAL preallocation', () => {
  test('appends racing the zero fill ahead of them all survive, byte for byte', () =>
    withTempDir(async (dir) => {
      const { wal } = await openWal(dir);
      const value = (index: number) => String(index % 10).repeat(64 * 1024);
      // 12 MiB in concurrent rounds: writes catch up with and overtake the 4 MiB fills.
      for (let round = 0; round < 12; round++) {
        await Promise.all(
          Array.from({ length: 16 }, (_, i) => {
            const index = round * 16 + i + 1;
            return wal.append([{ type: 'entries', entries: [entry(index, 1, value(index))] }]);
          }),
        );
      }
      assert.ok(wal.stats.bytesPreallocated > 0);
      await wal.close();
      const { wal: reopened, replay, logger } = await openWal(dir);
      assert.equal(replay.lastIndex(), 192);
      for (const replayed of replay.entries)
        assert.equal(
          new TextDecoder().decode(replayed.data),
          value(replayed.index),
          `entry ${replayed.index}`,
        );
      assert.deepEqual(logger.warnings(), []);
      await reopened.close();
    }));
});

test('rotating while zero fills run neither breaks preallocation nor warns', () =>
  withTempDir(async (dir) => {
    const { wal, logger } = await openWal(dir, 6 * 1024 * 1024);
    const value = (index: number) => String.fromCharCode(97 + (index % 26)).repeat(256 * 1024);
    // 40 MiB in concurrent rounds of 1 MiB: several rotations land while fills are running.
    for (let round = 0; round < 40; round++) {
      await Promise.all(
        Array.from({ length: 4 }, (_, i) => {
          const index = round * 4 + i + 1;
          return wal.append([{ type: 'entries', entries: [entry(index, 1, value(index))] }]);
        }),
      );
    }
    assert.ok(wal.segmentNames().length >= 5, `${wal.segmentNames().length} segments`);
    assert.deepEqual(logger.warnings(), []);
    const lastSegment = join(dir, wal.segmentNames().at(-1)!);
    await wal.close();
    // The newest segment was preallocated too: zeros lie past its records.
    assert.ok((await stat(lastSegment)).size > (await segmentDataEnd(lastSegment)));
    const again = await openWal(dir, 6 * 1024 * 1024);
    assert.equal(again.replay.lastIndex(), 160);
    assert.deepEqual(again.logger.warnings(), []);
    await again.wal.close();
  }));

describe('WAL group commit', () => {
  test('concurrent appends share fsyncs, are all durable, and complete in append order', () =>
    withTempDir(async (dir) => {
      const { wal } = await openWal(dir);
      const fsyncsBefore = wal.stats.fsyncs;
      const durableOrder: number[] = [];
      const appends = Array.from({ length: 200 }, (_, i) =>
        wal.append([{ type: 'entries', entries: [entry(i + 1, 1)] }], () => durableOrder.push(i + 1)),
      );
      await Promise.all(appends);
      const fsyncs = wal.stats.fsyncs - fsyncsBefore;
      assert.ok(fsyncs <= 3, `${fsyncs} fsyncs for 200 concurrent appends`);
      assert.equal(wal.stats.appends, 200);
      assert.equal(wal.stats.recordsWritten, 201); // plus the segment header
      assert.deepEqual(
        durableOrder,
        Array.from({ length: 200 }, (_, i) => i + 1),
      );
      assert.equal(wal.stats.fsyncLatencySamplesMs().length, fsyncs);
      await wal.close();
      const { wal: reopened, replay } = await openWal(dir);
      assert.equal(replay.lastIndex(), 200);
      await reopened.close();
    }));

  test('a latency observer hears every fsync and every append, in seconds', () =>
    withTempDir(async (dir) => {
      const { wal } = await openWal(dir);
      const fsyncSeconds: number[] = [];
      const appendSeconds: number[] = [];
      wal.stats.observer = {
        observeFsyncSeconds: (seconds) => fsyncSeconds.push(seconds),
        observeAppendSeconds: (seconds) => appendSeconds.push(seconds),
      };
      const fsyncsBefore = wal.stats.fsyncs;
      await Promise.all(
        Array.from({ length: 20 }, (_, i) => wal.append([{ type: 'entries', entries: [entry(i + 1, 1)] }])),
      );
      assert.equal(appendSeconds.length, 20);
      assert.equal(fsyncSeconds.length, wal.stats.fsyncs - fsyncsBefore);
      // An append waits at least for the fsync that made it durable.
      assert.ok(Math.max(...appendSeconds) >= Math.min(...fsyncSeconds));
      assert.ok(appendSeconds.every((seconds) => seconds >= 0 && seconds < 60));
      await wal.close();
    }));

  test('an append after a failed write is refused', () =>
    withTempDir(async (dir) => {
      const { wal } = await openWal(dir);
      // Close the file under the WAL: the next write fails like a failing disk would.
      await (wal as unknown as { handle: { close(): Promise<void> } }).handle.close();
      await assert.rejects(wal.append([{ type: 'entries', entries: [entry(1, 1)] }]), { code: 'WAL_FAILED' });
      await assert.rejects(wal.append([{ type: 'entries', entries: [entry(1, 1)] }]), { code: 'WAL_FAILED' });
    }));
});
