// Codec micro-benchmark: our binary raft-batch codec (decoding includes full validation) against
// msgpackr's pack/unpack of the same messages (no validation at all: an upper bound for a
// msgpackr-based codec; with copyBuffers it copies binary data out of the frame as we do). Prints one JSON document.
//
//   node --import tsx packages/server/src/transport/codec.bench.ts
import type { Message } from '@synod/raft';
import { Packr } from 'msgpackr';
import { decodeRaftBatch, encodeRaftBatch } from './codec.js';
import { FrameError } from './frame-error.js';
import { append, heartbeat } from './messages.fixture.js';

const RUN_MS = 500;
/** Rounds per variant; the best round counts (the least disturbed by GC and other processes). */
const ROUNDS = 3;

interface Workload {
  readonly name: string;
  readonly batch: readonly Message[];
}

const workloads: readonly Workload[] = [
  {
    name: '256 heartbeats (16 groups) per batch',
    batch: Array.from({ length: 256 }, (_, i) => heartbeat('node-a', 'node-b', `group-${i % 16}`, i)),
  },
  {
    name: '16 appends of 16 × 4 KiB entries per batch',
    batch: Array.from({ length: 16 }, (_, i) => append('node-a', 'node-b', 1 + i * 16, 16, 4096)),
  },
];

function measure(run: () => number): { batchesPerSecond: number; bytes: number } {
  let best = { batchesPerSecond: 0, bytes: 0 };
  for (let round = 0; round < ROUNDS; round++) {
    const result = measureOnce(run);
    if (result.batchesPerSecond > best.batchesPerSecond) best = result;
  }
  return best;
}

function measureOnce(run: () => number): { batchesPerSecond: number; bytes: number } {
  let bytes = 0;
  for (let i = 0; i < 200; i++) bytes = run(); // warm up
  let batches = 0;
  const started = performance.now();
  while (performance.now() - started < RUN_MS) {
    for (let i = 0; i < 20; i++) run();
    batches += 20;
  }
  return { batchesPerSecond: Math.round((batches * 1000) / (performance.now() - started)), bytes };
}

const results = workloads.map(({ name, batch }) => {
  const messages = batch.length;
  const ours = measure(() => {
    const payload = encodeRaftBatch(batch);
    const decoded = decodeRaftBatch(payload);
    if (decoded instanceof FrameError) throw decoded;
    return payload.length;
  });
  const packr = new Packr({ useRecords: true });
  const msgpackr = measure(() => {
    const payload = packr.pack(batch);
    const decoded = packr.unpack(payload) as Message[];
    if (decoded.length !== messages) throw new Error('msgpackr lost messages');
    return payload.length;
  });
  const plainPackr = new Packr({ useRecords: false });
  const msgpackrNoRecords = measure(() => {
    const payload = plainPackr.pack(batch);
    const decoded = plainPackr.unpack(payload) as Message[];
    if (decoded.length !== messages) throw new Error('msgpackr lost messages');
    return payload.length;
  });
  const copyingPackr = new Packr({ useRecords: true, copyBuffers: true });
  const msgpackrCopying = measure(() => {
    const payload = copyingPackr.pack(batch);
    const decoded = copyingPackr.unpack(payload) as Message[];
    if (decoded.length !== messages) throw new Error('msgpackr lost messages');
    return payload.length;
  });
  const row = (r: { batchesPerSecond: number; bytes: number }) => ({
    encodeDecodeMessagesPerSecond: r.batchesPerSecond * messages,
    encodeDecodeMegabytesPerSecond: Math.round((r.batchesPerSecond * r.bytes) / 1e4) / 100,
    batchBytes: r.bytes,
  });
  return {
    workload: name,
    synodCodec: row(ours),
    msgpackrRecords: row(msgpackr),
    msgpackrPlain: row(msgpackrNoRecords),
    msgpackrRecordsCopyBuffers: row(msgpackrCopying),
  };
});

console.log(
  JSON.stringify({ benchmark: 'transport codec', node: process.version, runMs: RUN_MS, results }, null, 2),
);
