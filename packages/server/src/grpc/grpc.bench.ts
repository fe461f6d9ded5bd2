// Micro-benchmark (not a test): a no-op unary method served by this package's GrpcServer (on our
// own HTTP/2, and on node:http2) and by @grpc/grpc-js, driven by the same load generator: h2load (Debian's nghttp2-client) when it is on
// PATH, else a raw node:http2 client in a worker thread, so client and server each get a core of a
// 2-core machine. Rounds alternate between the servers (a shared machine is noisy); each round
// prints a JSON line, then one line gives the medians and their ratio.
//
// Usage: node --import tsx packages/server/src/grpc/grpc.bench.ts [--client h2load|node]
//        [--rounds 3] [--duration-ms 5000] [--warmup-ms 1000] [--connections 4] [--streams 32]
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import * as grpc from '@grpc/grpc-js';
import { unary } from './methods.js';
import { GrpcServer, type Http2Engine } from './server.js';

const METHOD_PATH = '/bench.Bench/Noop';
const EMPTY = new Uint8Array(0);

interface LoadOptions {
  readonly port: number;
  readonly connections: number;
  readonly streamsPerConnection: number;
  readonly warmupMs: number;
  readonly durationMs: number;
}

interface LoadResult {
  /** Calls completed in the measured window (after warm-up). */
  readonly completed: number;
  readonly failed: number;
  readonly requestsPerSecond: number;
}

// The load generator, as plain JavaScript for an eval'd worker: keeps `streams` calls in flight on
// each connection, counts calls that end with grpc-status 0 during the measured window.
const LOAD_GENERATOR = `
const http2 = require('node:http2');
const { parentPort, workerData } = require('node:worker_threads');
const { port, connections, streamsPerConnection, warmupMs, durationMs } = workerData;
const body = Buffer.alloc(5);
const headers = { ':method': 'POST', ':path': '${METHOD_PATH}', 'content-type': 'application/grpc', te: 'trailers' };
let measuring = false, stopped = false, completed = 0, failed = 0, startedAt = 0;
const sessions = [];
function issue(session) {
  if (stopped) return;
  const stream = session.request(headers);
  let ok = false;
  stream.on('trailers', (trailers) => { ok = trailers['grpc-status'] === '0'; });
  stream.on('response', (response) => { if (response['grpc-status'] !== undefined) ok = response['grpc-status'] === '0'; });
  stream.on('error', () => {});
  stream.on('data', () => {});
  stream.on('close', () => {
    if (measuring) { if (ok) completed++; else failed++; }
    issue(session);
  });
  stream.end(body);
}
for (let c = 0; c < connections; c++) {
  const session = http2.connect('http://127.0.0.1:' + port, { peerMaxConcurrentStreams: streamsPerConnection });
  session.on('error', () => {});
  sessions.push(session);
  for (let s = 0; s < streamsPerConnection; s++) issue(session);
}
setTimeout(() => {
  measuring = true;
  startedAt = performance.now();
  setTimeout(() => {
    measuring = false;
    stopped = true;
    const elapsedMs = performance.now() - startedAt;
    for (const session of sessions) session.destroy();
    parentPort.postMessage({ completed, failed, requestsPerSecond: Math.round((completed / elapsedMs) * 1000) });
  }, durationMs);
}, warmupMs);
`;

function runNodeLoad(options: LoadOptions): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(LOAD_GENERATOR, { eval: true, workerData: options });
    worker.once('message', (result: LoadResult) => {
      void worker.terminate();
      resolve(result);
    });
    worker.once('error', reject);
  });
}

/** h2load for `durationMs` after `warmupMs`; "succeeded" counts HTTP 2xx, so a gRPC error would not show. */
function runH2load(options: LoadOptions, bodyFile: string): Promise<LoadResult> {
  const args = [
    `--duration=${options.durationMs / 1000}`,
    `--warm-up-time=${options.warmupMs / 1000}`,
    `--clients=${options.connections}`,
    `--max-concurrent-streams=${options.streamsPerConnection}`,
    '--threads=1',
    `--data=${bodyFile}`,
    '--header=content-type: application/grpc',
    '--header=te: trailers',
    `http://127.0.0.1:${options.port}${METHOD_PATH}`,
  ];
  return new Promise((resolve, reject) => {
    execFile('h2load', args, (error, stdout) => {
      if (error !== null) return reject(error);
      // h2load's req/s covers the measured window only (its "finished in" includes the warm-up).
      const requests = /requests: \d+ total, \d+ started, \d+ done, (\d+) succeeded, (\d+) failed/.exec(
        stdout,
      );
      const rate = /finished in [\d.]+m?s, ([\d.]+) req\/s/.exec(stdout);
      if (requests === null || rate === null)
        return reject(new Error(`unexpected h2load output:\n${stdout}`));
      resolve({
        completed: Number(requests[1]),
        failed: Number(requests[2]),
        requestsPerSecond: Math.round(Number(rate[1])),
      });
    });
  });
}

function h2loadAvailable(): boolean {
  try {
    execFileSync('h2load', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

async function startSynodServer(
  http2Engine: Http2Engine,
): Promise<{ port: number; stop: () => Promise<void> }> {
  const server = new GrpcServer({ http2Engine });
  const codec = { decode: (bytes: Uint8Array) => bytes, encode: (bytes: Uint8Array) => bytes };
  server.addService('bench.Bench', { Noop: unary(codec, async () => EMPTY) });
  const port = await server.listen('127.0.0.1', 0);
  return { port, stop: () => server.close(1_000) };
}

async function startGrpcJsServer(): Promise<{ port: number; stop: () => Promise<void> }> {
  const server = new grpc.Server();
  const identity = (bytes: Buffer): Buffer => bytes;
  const service: grpc.ServiceDefinition = {
    Noop: {
      path: METHOD_PATH,
      requestStream: false,
      responseStream: false,
      requestSerialize: identity,
      requestDeserialize: identity,
      responseSerialize: identity,
      responseDeserialize: identity,
    },
  };
  server.addService(service, {
    Noop: (_call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) =>
      callback(null, Buffer.alloc(0)),
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) =>
      error === null ? resolve(bound) : reject(error),
    ),
  );
  return { port, stop: () => new Promise((resolve) => server.tryShutdown(() => resolve())) };
}

type Client = 'h2load' | 'node';

async function measure(
  name: string,
  start: () => Promise<{ port: number; stop: () => Promise<void> }>,
  load: Omit<LoadOptions, 'port'>,
  client: { kind: Client; bodyFile: string },
  round: number,
): Promise<number> {
  const server = await start();
  const options = { ...load, port: server.port };
  const result =
    client.kind === 'h2load' ? await runH2load(options, client.bodyFile) : await runNodeLoad(options);
  await server.stop();
  const requestsPerSecond = result.requestsPerSecond;
  console.log(
    JSON.stringify({
      bench: 'grpc-unary-noop',
      round,
      server: name,
      client: client.kind === 'h2load' ? 'h2load' : 'node:http2 (worker thread)',
      connections: load.connections,
      streamsPerConnection: load.streamsPerConnection,
      durationMs: load.durationMs,
      completed: result.completed,
      failed: result.failed,
      requestsPerSecond,
      node: process.version,
    }),
  );
  return requestsPerSecond;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      client: { type: 'string' },
      rounds: { type: 'string', default: '3' },
      'duration-ms': { type: 'string', default: '5000' },
      'warmup-ms': { type: 'string', default: '1000' },
      connections: { type: 'string', default: '4' },
      streams: { type: 'string', default: '32' },
    },
  });
  const load = {
    durationMs: Number(values['duration-ms']),
    warmupMs: Number(values['warmup-ms']),
    connections: Number(values.connections),
    streamsPerConnection: Number(values.streams),
  };
  const kind: Client =
    (values.client ?? (h2loadAvailable() ? 'h2load' : 'node')) === 'h2load' ? 'h2load' : 'node';
  const dir = mkdtempSync(join(tmpdir(), 'synod-grpc-bench-'));
  const bodyFile = join(dir, 'empty-message.bin');
  writeFileSync(bodyFile, Buffer.alloc(5)); // one empty length-prefixed message
  const synod: number[] = [];
  const synodOnNodeHttp2: number[] = [];
  const grpcJs: number[] = [];
  const client = { kind, bodyFile };
  try {
    for (let round = 1; round <= Number(values.rounds); round++) {
      synod.push(
        await measure('GrpcServer (own HTTP/2)', () => startSynodServer('lean'), load, client, round),
      );
      synodOnNodeHttp2.push(
        await measure('GrpcServer (node:http2)', () => startSynodServer('node'), load, client, round),
      );
      grpcJs.push(await measure('@grpc/grpc-js Server', startGrpcJsServer, load, client, round));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const synodMedian = median(synod);
  const grpcJsMedian = median(grpcJs);
  const nodeHttp2Median = median(synodOnNodeHttp2);
  console.log(
    JSON.stringify({
      bench: 'grpc-unary-noop',
      summary: 'median requests/s',
      synod: synodMedian,
      synodOnNodeHttp2: nodeHttp2Median,
      grpcJs: grpcJsMedian,
      ratio: Number((synodMedian / grpcJsMedian).toFixed(2)),
      ratioToNodeHttp2: Number((synodMedian / nodeHttp2Median).toFixed(2)),
    }),
  );
}

await main();
