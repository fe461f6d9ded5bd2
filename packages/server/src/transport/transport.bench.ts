// Transport micro-benchmark: two PeerTransports on 127.0.0.1, node a sends to node b as fast as
// b's queue allows (the sender keeps at most QUEUE_TARGET_MESSAGES queued, so nothing is dropped),
// for heartbeat-sized messages and for appends carrying one 4 KiB entry. Prints one JSON document.
//
//   node --import tsx packages/server/src/transport/transport.bench.ts

import { crc32 } from 'node:zlib';
import type { Message } from '@synod/raft';
import { append, heartbeat } from './messages.fixture.js';
import { PeerTransport } from './peer-transport.js';
import type { TransportLogger } from './transport-options.js';

const HOST = '127.0.0.1';
const RUN_MS = Number(process.env.SYNOD_BENCH_RUN_MS ?? 2_000);
/** Messages handed to send() per event-loop turn. */
const MESSAGES_PER_TURN = 512;
/** The producer pauses while more than this many messages wait in the queue. */
const QUEUE_TARGET_MESSAGES = 8_192;

const silent: TransportLogger = { debug() {}, info() {}, warn() {} };

interface Workload {
  readonly name: string;
  readonly make: (sequence: number) => Message;
}

const workloads: readonly Workload[] = [
  { name: 'heartbeat', make: (sequence) => heartbeat('a', 'b', `group-${sequence % 16}`, sequence) },
  { name: 'append with one 4 KiB entry', make: (sequence) => append('a', 'b', sequence + 1, 1, 4096) },
];

async function run(workload: Workload) {
  let received = 0;
  let receivedBytes = 0;
  const b = new PeerTransport({
    nodeId: 'b',
    clusterId: 'bench',
    listen: { host: HOST, port: 0 },
    peers: new Map(),
    logger: silent,
    onMessages: (_from, messages) => {
      received += messages.length;
      for (const message of messages)
        if (message.type === 'append') receivedBytes += message.entries[0]!.data.length;
    },
  });
  const portB = await b.start();
  const a = new PeerTransport({
    nodeId: 'a',
    clusterId: 'bench',
    listen: { host: HOST, port: 0 },
    peers: new Map([['b', { host: HOST, port: portB }]]),
    logger: silent,
    onMessages: () => {},
  });
  const portA = await a.start();
  b.updatePeers(new Map([['a', { host: HOST, port: portA }]])); // b admits only members
  while (!a.stats().peers.get('b')!.connected) await turn();
  // Prebuilt messages: the benchmark measures the transport, not message construction.
  const pool = Array.from({ length: MESSAGES_PER_TURN }, (_, i) => workload.make(i));
  let sent = 0;
  const started = performance.now();
  while (performance.now() - started < RUN_MS) {
    if (a.stats().peers.get('b')!.queuedMessages < QUEUE_TARGET_MESSAGES) {
      a.send(pool);
      sent += pool.length;
    }
    await turn();
  }
  while (received < sent - a.stats().peers.get('b')!.droppedMessages) await turn();
  const seconds = (performance.now() - started) / 1000;
  const stats = a.stats().peers.get('b')!;
  await Promise.all([a.stop(), b.stop()]);
  return {
    workload: workload.name,
    messages: received,
    seconds: Math.round(seconds * 1000) / 1000,
    messagesPerSecond: Math.round(received / seconds),
    wireMegabytesPerSecond: Math.round(stats.sentBytes / seconds / 1e4) / 100,
    entryMegabytesPerSecond: Math.round(receivedBytes / seconds / 1e4) / 100,
    batches: stats.sentBatches,
    messagesPerBatch: Math.round(stats.sentMessages / stats.sentBatches),
    dropped: stats.droppedMessages,
  };
}

function turn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** CRC-32 runs once on each side of every frame: with both nodes in one process, twice per byte. */
function crc32MegabytesPerSecond(): number {
  const data = new Uint8Array(1024 * 1024).map((_, i) => i * 7);
  for (let i = 0; i < 20; i++) crc32(data);
  const started = performance.now();
  for (let i = 0; i < 200; i++) crc32(data);
  return Math.round((200 * data.length) / ((performance.now() - started) / 1000) / 1e6);
}

const results = [];
for (const workload of workloads) results.push(await run(workload));
const report = {
  benchmark: 'peer transport, loopback, one direction, both nodes in one process',
  node: process.version,
  runMs: RUN_MS,
  crc32MegabytesPerSecond: crc32MegabytesPerSecond(),
  results,
};
console.log(JSON.stringify(report, null, 2));
