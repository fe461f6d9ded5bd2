// Peak put throughput with h2load (C, from nghttp2-client): gRPC-framed KV/Put requests for one
// key over C connections × M concurrent streams. The JS clients saturate a 2-core machine long
// before the servers do; h2load does not. h2load counts HTTP 200 as success even when the
// grpc-status trailer is an error, so every run is checked against the key's version instead.
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type PutRequest, type RangeRequest, rangeRequest } from '@synod/state';
import { RawEtcdClient } from '../../packages/server/src/e2e/grpc-client.js';
import {
  encodeCompactionRequest,
  encodePutRequest,
} from '../../packages/server/src/etcd-api/proto/messages.js';
import { trackChild } from './cleanup.js';

export const PUT_KEY = 'bench/kv/put';
export const VALUE_BYTES = 256;
const GRPC_FRAME_HEADER_BYTES = 5;
/** A run that takes longer than this is stuck, not slow. */
const H2LOAD_TIMEOUT_MS = 180_000;
const RANGE_TIMEOUT_MS = 5_000;
/** A physical compaction of a few hundred thousand revisions; generous for a loaded machine. */
const COMPACT_TIMEOUT_MS = 60_000;
const H2LOAD_OUTPUT_BYTES_MAX = 1024 * 1024;

export interface PutLoad {
  readonly connections: number;
  readonly streamsPerConnection: number;
}

export interface PutRun {
  readonly requests: number;
  readonly putsPerSecond: number;
  readonly meanLatencyMs: number;
  readonly maxLatencyMs: number;
  /** The key's version rose by exactly `requests` and h2load saw no failure. */
  readonly verified: boolean;
  /** The Raft term seen by the verifying member before and after: different means an election. */
  readonly raftTerms: readonly [number, number];
  readonly failure?: string;
}

const encoder = new TextEncoder();

/** Writes the request body h2load sends on every stream: one gRPC frame holding a PutRequest. */
export function writePutBody(dir: string): string {
  const request: PutRequest = {
    key: encoder.encode(PUT_KEY),
    value: new Uint8Array(VALUE_BYTES).fill(0x76),
    lease: 0n,
    prevKv: false,
    ignoreValue: false,
    ignoreLease: false,
  };
  const message = encodePutRequest(request);
  const frame = Buffer.alloc(GRPC_FRAME_HEADER_BYTES + message.byteLength);
  frame.writeUInt8(0, 0); // not compressed
  frame.writeUInt32BE(message.byteLength, 1);
  frame.set(message, GRPC_FRAME_HEADER_BYTES);
  const file = join(dir, 'put-request.grpc');
  writeFileSync(file, frame);
  return file;
}

/**
 * Sends `requests` puts to `targetUrl` and checks them through `verifyUrl` (a linearizable Range
 * of the key before and after).
 */
export async function runPutLoad(
  bodyFile: string,
  targetUrl: string,
  verifyUrl: string,
  requests: number,
  load: PutLoad,
): Promise<PutRun> {
  const before = await keyState(verifyUrl);
  const output = await runH2load(bodyFile, targetUrl, requests, load);
  const after = await keyState(verifyUrl);
  const parsed = parseH2loadOutput(output);
  const failures: string[] = [];
  if (parsed === undefined) failures.push(`unreadable h2load output:\n${output}`);
  else if (parsed.succeeded !== requests || parsed.failed > 0)
    failures.push(`h2load: ${parsed.succeeded} of ${requests} succeeded, ${parsed.failed} failed`);
  if (after.version - before.version !== requests) {
    // h2load counts HTTP 200 as success: a put answered with a gRPC error status shows only here.
    failures.push(`the key's version rose by ${after.version - before.version}, expected ${requests}`);
  }
  if (failures.length > 0 && after.raftTerm !== before.raftTerm)
    failures.push(`a leader election ran meanwhile (raft term ${before.raftTerm} → ${after.raftTerm})`);
  return {
    requests,
    putsPerSecond: parsed?.requestsPerSecond ?? 0,
    meanLatencyMs: parsed?.meanLatencyMs ?? Number.NaN,
    maxLatencyMs: parsed?.maxLatencyMs ?? Number.NaN,
    verified: failures.length === 0,
    raftTerms: [before.raftTerm, after.raftTerm],
    ...(failures.length > 0 ? { failure: failures.join('; ') } : {}),
  };
}

function runH2load(bodyFile: string, targetUrl: string, requests: number, load: PutLoad): Promise<string> {
  const args = [
    `--requests=${requests}`,
    `--clients=${load.connections}`,
    `--max-concurrent-streams=${load.streamsPerConnection}`,
    '--threads=1',
    `--data=${bodyFile}`,
    '--header=content-type: application/grpc',
    '--header=te: trailers',
    `${targetUrl}/etcdserverpb.KV/Put`,
  ];
  return new Promise((resolve, reject) => {
    const child = execFile(
      'h2load',
      args,
      { timeout: H2LOAD_TIMEOUT_MS, maxBuffer: H2LOAD_OUTPUT_BYTES_MAX },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`h2load failed: ${error.message}\n${stdout}${stderr}`));
        else resolve(stdout);
      },
    );
    trackChild(child);
  });
}

export interface H2loadSummary {
  readonly requestsPerSecond: number;
  readonly succeeded: number;
  readonly failed: number;
  readonly meanLatencyMs: number;
  readonly maxLatencyMs: number;
}

/** Reads h2load's summary; errored and timed-out requests count as failed. */
export function parseH2loadOutput(output: string): H2loadSummary | undefined {
  const rate = /finished in [\d.]+\w+, ([\d.]+) req\/s/.exec(output);
  const counts =
    /requests: \d+ total, \d+ started, \d+ done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout/.exec(
      output,
    );
  const statuses = /status codes: (\d+) 2xx/.exec(output);
  const times = /time for request:\s+(\S+)\s+(\S+)\s+(\S+)/.exec(output);
  if (!rate || !counts || !statuses || !times) return undefined;
  const [, succeeded, failed, errored, timedOut] = counts.map(Number) as [
    number,
    number,
    number,
    number,
    number,
  ];
  return {
    requestsPerSecond: Math.round(Number(rate[1])),
    // A 2xx without a 2xx count means h2load saw other statuses; keep the smaller.
    succeeded: Math.min(succeeded, Number(statuses[1])),
    failed: failed + errored + timedOut,
    meanLatencyMs: durationMs(times[3]!),
    maxLatencyMs: durationMs(times[2]!),
  };
}

/** h2load prints durations as 812us, 5.33ms or 1.02s. */
function durationMs(text: string): number {
  const value = Number.parseFloat(text);
  if (text.endsWith('us')) return value / 1000;
  if (text.endsWith('ms')) return value;
  if (text.endsWith('s')) return value * 1000;
  return Number.NaN;
}

interface KeyState {
  /** The put key's version, 0 when absent. */
  readonly version: number;
  readonly revision: number;
  readonly raftTerm: number;
}

/** The put key's version and the store's revision, read linearizably. */
async function keyState(url: string): Promise<KeyState> {
  const client = new RawEtcdClient(url);
  try {
    const response = await client.range(rangeOf(PUT_KEY), RANGE_TIMEOUT_MS);
    return {
      version: response.kvs[0]?.version ?? 0,
      revision: response.header?.revision ?? 0,
      raftTerm: response.header?.raftTerm ?? 0,
    };
  } finally {
    client.close();
  }
}

/**
 * Compacts the history up to the current revision and waits until it is gone (physical), as
 * etcd users' auto-compaction would: each run then starts from the same small store, instead of
 * from the hundreds of thousands of revisions the runs before it left.
 */
export async function compactHistory(url: string): Promise<void> {
  const { revision } = await keyState(url);
  const client = new RawEtcdClient(url);
  try {
    const request = encodeCompactionRequest({ revision, physical: true });
    await client.call('/etcdserverpb.KV/Compact', request, COMPACT_TIMEOUT_MS);
  } finally {
    client.close();
  }
}

function rangeOf(key: string): RangeRequest {
  return rangeRequest(encoder.encode(key));
}
