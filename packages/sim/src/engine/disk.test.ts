import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { isTornRecord, SimDisk, tornRecord } from './disk.js';
import { Prng } from './prng.js';

const fileNames = ['wal', 'hard-state', 'snapshot'] as const;
type FileName = (typeof fileNames)[number];
type Content = Array<number | typeof tornRecord>;

/**
 * The obvious model: a written view and a durable view, copied whole on every sync. A torn
 * tail appears only when the last unsynced append went to a file that saw nothing but appends.
 */
class ReferenceDisk {
  private written = new Map<string, Content>();
  private durable = new Map<string, Content>();
  private touchedByNonAppend = new Set<string>();
  private lastAppendFile: string | undefined;

  append(file: string, record: number): void {
    this.written.set(file, [...this.read(file), record]);
    this.lastAppendFile = file;
  }

  truncateFrom(file: string, index: number): void {
    if (index >= this.read(file).length) return;
    this.written.set(file, this.read(file).slice(0, index));
    this.touchedByNonAppend.add(file);
  }

  replaceAtomically(file: string, records: number[]): void {
    this.written.set(file, [...records]);
    this.touchedByNonAppend.add(file);
  }

  sync(): void {
    this.durable = new Map([...this.written].map(([file, content]) => [file, [...content]]));
    this.forgetUnsynced();
  }

  crash(tornWrites: boolean): void {
    const file = this.lastAppendFile;
    if (tornWrites && file !== undefined && !this.touchedByNonAppend.has(file)) {
      this.durable.set(file, [...(this.durable.get(file) ?? []), tornRecord]);
    }
    this.written = new Map([...this.durable].map(([name, content]) => [name, [...content]]));
    this.forgetUnsynced();
  }

  read(file: string): Content {
    return this.written.get(file) ?? [];
  }

  private forgetUnsynced(): void {
    this.touchedByNonAppend.clear();
    this.lastAppendFile = undefined;
  }
}

type Operation =
  | { kind: 'append'; file: FileName }
  | { kind: 'truncate'; file: FileName; index: number }
  | { kind: 'replace'; file: FileName; count: number }
  | { kind: 'sync' }
  | { kind: 'crash' };

const fileArbitrary = fc.constantFrom(...fileNames);
const operationArbitrary: fc.Arbitrary<Operation> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('append' as const), file: fileArbitrary }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('truncate' as const),
      file: fileArbitrary,
      index: fc.nat({ max: 8 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('replace' as const),
      file: fileArbitrary,
      count: fc.nat({ max: 4 }),
    }),
  },
  { weight: 2, arbitrary: fc.constant({ kind: 'sync' as const }) },
  { weight: 2, arbitrary: fc.constant({ kind: 'crash' as const }) },
);

/** What recovery does after a crash: cut a torn tail off and make that durable. */
function recover(disk: SimDisk<number>, model: ReferenceDisk): void {
  for (const file of fileNames) {
    const records = disk.read(file);
    if (records.length > 0 && isTornRecord(records[records.length - 1])) {
      disk.truncateFrom(file, records.length - 1);
      model.truncateFrom(file, records.length - 1);
    }
  }
  disk.sync();
  model.sync();
}

function applyOperation(
  disk: SimDisk<number>,
  model: ReferenceDisk,
  operation: Operation,
  next: () => number,
) {
  switch (operation.kind) {
    case 'append': {
      const record = next();
      disk.append(operation.file, record);
      model.append(operation.file, record);
      return;
    }
    case 'truncate':
      disk.truncateFrom(operation.file, operation.index);
      model.truncateFrom(operation.file, operation.index);
      return;
    case 'replace': {
      const records = Array.from({ length: operation.count }, next);
      disk.replaceAtomically(operation.file, records);
      model.replaceAtomically(operation.file, records);
      return;
    }
    case 'sync':
      disk.sync();
      model.sync();
      return;
    case 'crash':
      return;
  }
}

describe('SimDisk', () => {
  test('after any sequence of writes, syncs and crashes, exactly what was synced survives', () => {
    fc.assert(
      fc.property(
        fc.nat(),
        fc.boolean(),
        fc.array(operationArbitrary, { maxLength: 60 }),
        (seed, tornWrites, operations) => {
          const disk = new SimDisk<number>({
            random: new Prng(seed),
            tornWriteProbability: tornWrites ? 1 : 0,
          });
          const model = new ReferenceDisk();
          const crashRandom = new Prng(seed).fork('crash');
          let nextRecord = 0;
          for (const operation of operations) {
            if (operation.kind === 'crash') {
              disk.crash(crashRandom);
              model.crash(tornWrites);
              for (const file of fileNames)
                assert.deepEqual(disk.read(file), model.read(file), `${file} after crash`);
              recover(disk, model);
            } else {
              applyOperation(disk, model, operation, () => nextRecord++);
            }
            for (const file of fileNames) assert.deepEqual(disk.read(file), model.read(file), file);
          }
        },
      ),
      { numRuns: 400 },
    );
  });

  test('an atomic replacement survives a crash only after a sync, and never half-done', () => {
    const disk = new SimDisk<string>({ random: new Prng(1) });
    disk.append('snapshot', 'old-1');
    disk.append('snapshot', 'old-2');
    disk.sync();
    disk.replaceAtomically('snapshot', ['new-1']);
    disk.crash(new Prng(2));
    assert.deepEqual(disk.read('snapshot'), ['old-1', 'old-2']);
    disk.replaceAtomically('snapshot', ['new-1']);
    disk.sync();
    disk.crash(new Prng(3));
    assert.deepEqual(disk.read('snapshot'), ['new-1']);
  });

  test('a torn tail is durable until recovery truncates it, and appending after it throws', () => {
    const disk = new SimDisk<string>({ random: new Prng(1), tornWriteProbability: 1 });
    disk.append('wal', 'a');
    disk.sync();
    disk.append('wal', 'b');
    assert.deepEqual(disk.crash(new Prng(2)), { tornFile: 'wal', lostRecords: 1 });
    assert.deepEqual(disk.read('wal'), ['a', tornRecord]);
    assert.throws(() => disk.append('wal', 'c'), /torn record at index 1.*truncateFrom/);
    disk.crash(new Prng(3)); // a second crash before recovery still finds the torn bytes
    assert.deepEqual(disk.read('wal'), ['a', tornRecord]);
    disk.truncateFrom('wal', 1);
    disk.sync();
    disk.append('wal', 'c');
    assert.deepEqual(disk.read('wal'), ['a', 'c']);
  });

  test('torn writes happen at about the configured probability (seed 31, 4 000 crashes)', () => {
    const disk = new SimDisk<number>({ random: new Prng(31), tornWriteProbability: 0.25 });
    const crashRandom = new Prng(31).fork('crash');
    let torn = 0;
    for (let round = 0; round < 4_000; round++) {
      disk.append('wal', round);
      if (disk.crash(crashRandom).tornFile !== undefined) {
        torn++;
        disk.truncateFrom('wal', disk.recordCount('wal') - 1);
        disk.sync();
      }
    }
    assert.ok(Math.abs(torn / 4_000 - 0.25) < 0.03, `torn ${torn}`);
    assert.equal(disk.stats.tornWrites, torn);
  });

  test('sync returns a latency from the configured distribution, the same for the same seed', () => {
    const latencies = (seed: number): number[] => {
      const disk = new SimDisk<number>({
        random: new Prng(seed),
        syncLatency: { minMs: 0.5, meanMs: 2, maxMs: 8 },
      });
      return Array.from({ length: 200 }, () => disk.sync());
    };
    const first = latencies(4);
    for (const latencyMs of first) assert.ok(latencyMs >= 0.5 && latencyMs <= 8, `${latencyMs}`);
    assert.deepEqual(latencies(4), first);
    assert.notDeepEqual(latencies(5), first);
  });

  test('stats count records, bytes, syncs and crashes', () => {
    const disk = new SimDisk<Uint8Array>({ random: new Prng(1) });
    disk.append('wal', new Uint8Array(10));
    disk.replaceAtomically('snapshot', [new Uint8Array(100), new Uint8Array(5)]);
    disk.sync();
    disk.crash(new Prng(1));
    assert.deepEqual(disk.stats, {
      recordsWritten: 3,
      bytesWritten: 115,
      syncs: 1,
      crashes: 1,
      tornWrites: 0,
    });
    assert.deepEqual(disk.fileNames(), ['snapshot', 'wal']);
  });

  test('bad arguments are refused', () => {
    const disk = new SimDisk<unknown>({ random: new Prng(1) });
    assert.throws(() => disk.truncateFrom('wal', -1), RangeError);
    assert.throws(() => disk.append('', 1), RangeError);
    assert.throws(() => disk.append('wal', { torn: true }), TypeError);
    assert.throws(() => new SimDisk({ random: new Prng(1), tornWriteProbability: 2 }), RangeError);
  });
});
