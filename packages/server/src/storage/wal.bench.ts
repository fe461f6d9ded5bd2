// WAL throughput with real fsyncs: appends/s and fsyncs/s for 1 and 64 concurrent writers, each
// appending one 256-byte entry (plus the hard state, as a Raft Ready does) and waiting for it to be
// durable before the next. With one writer every append pays a full fsync; with 64, group commit
// lets one fsync cover many appends. Prints one JSON line per case. Not a test.
// Usage: node --import tsx packages/server/src/storage/wal.bench.ts   (SYNOD_BENCH_DIR picks the disk)
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Entry } from '@synod/raft';
import { RaftDiskStorage } from './raft-storage.js';

const ENTRY_BYTES = 256;
const MEASURE_MS = 3_000;
const WRITER_COUNTS = [1, 64] as const;
const silent = { info() {}, warn() {} };

function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? Number.NaN;
}

const round = (value: number, digits = 3) => Number(value.toFixed(digits));

async function measure(writers: number): Promise<Record<string, unknown>> {
  const dir = await mkdtemp(join(process.env.SYNOD_BENCH_DIR ?? tmpdir(), 'synod-wal-bench-'));
  const storage = await RaftDiskStorage.open(dir, { logger: silent });
  const data = new Uint8Array(ENTRY_BYTES).fill(0x61);
  const appendLatenciesMs: number[] = [];
  let next = 1;
  const fsyncsBefore = storage.stats.fsyncs;
  const started = performance.now();
  const deadline = started + MEASURE_MS;
  const writer = async () => {
    while (performance.now() < deadline) {
      const index = next++;
      const entries: Entry[] = [{ index, term: 1, kind: 'normal', data }];
      const sent = performance.now();
      await storage.persist({
        snapshot: undefined,
        entries,
        hardState: { term: 1, vote: 'a', commit: index - 1 },
      });
      appendLatenciesMs.push(performance.now() - sent);
    }
  };
  await Promise.all(Array.from({ length: writers }, writer));
  const seconds = (performance.now() - started) / 1000;
  const stats = storage.stats;
  const fsyncs = stats.fsyncs - fsyncsBefore;
  await storage.close();
  await rm(dir, { recursive: true, force: true });
  appendLatenciesMs.sort((a, b) => a - b);
  return {
    bench: 'wal-append',
    writers,
    entryBytes: ENTRY_BYTES,
    appends: appendLatenciesMs.length,
    appendsPerSecond: Math.round(appendLatenciesMs.length / seconds),
    fsyncsPerSecond: Math.round(fsyncs / seconds),
    appendsPerFsync: round(appendLatenciesMs.length / fsyncs, 1),
    megabytesPerSecond: round(stats.bytesWritten / seconds / 1e6, 2),
    fsyncP50Ms: round(stats.fsyncLatencyQuantileMs(0.5) ?? Number.NaN),
    fsyncP99Ms: round(stats.fsyncLatencyQuantileMs(0.99) ?? Number.NaN),
    appendP50Ms: round(quantile(appendLatenciesMs, 0.5)),
    appendP99Ms: round(quantile(appendLatenciesMs, 0.99)),
  };
}

for (const writers of WRITER_COUNTS) console.log(JSON.stringify(await measure(writers)));
