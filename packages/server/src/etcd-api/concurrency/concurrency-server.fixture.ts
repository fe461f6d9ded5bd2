// A GrpcServer on 127.0.0.1:0 serving Lock and Election over a MemoryConcurrencyBackend, and
// @grpc/grpc-js clients built from our .proto files (an independent protobuf implementation), with
// promise-returning calls that can be cancelled.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { ResponseHeader } from '@synod/state';
import { GrpcServer } from '../../grpc/server.js';
import { registerElectionService } from './election-service.js';
import { registerLockService } from './lock-service.js';
import { MemoryConcurrencyBackend } from './memory-backend.fixture.js';

const DIR = dirname(fileURLToPath(import.meta.url));
const LOADER_OPTIONS = {
  includeDirs: [DIR, join(DIR, '..', 'proto')],
  keepCase: true,
  longs: String,
  defaults: true,
};

export const CLUSTER_ID = 0xc1a5_7e12n;
export const MEMBER_ID = 0x3e3b_e12n;
export const RAFT_TERM = 4;

export function headerAt(revision: number): ResponseHeader {
  return { clusterId: CLUSTER_ID, memberId: MEMBER_ID, revision, raftTerm: RAFT_TERM };
}

/** A message as protobufjs decodes it: int64 as decimal strings, bytes as Buffers. */
export type Decoded = Record<string, unknown>;

export interface PendingCall<T> {
  readonly response: Promise<T>;
  cancel(): void;
}

type UnaryMethod = (
  request: object,
  metadata: grpc.Metadata,
  options: grpc.CallOptions,
  callback: (error: grpc.ServiceError | null, response: Decoded) => void,
) => grpc.ClientUnaryCall;

export class ConcurrencyTestServer {
  readonly backend = new MemoryConcurrencyBackend();
  readonly server = new GrpcServer({ logger: { warn: () => {}, error: () => {} } });
  private readonly clients: grpc.Client[] = [];
  port = 0;

  async start(): Promise<this> {
    registerLockService(this.server, this.backend, headerAt);
    registerElectionService(this.server, this.backend, headerAt);
    this.port = await this.server.listen('127.0.0.1', 0);
    return this;
  }

  async stop(): Promise<void> {
    for (const client of this.clients) client.close();
    await this.server.close(0);
  }

  /** A client of `v3lockpb.Lock` or `v3electionpb.Election`. */
  client(file: 'v3lock.proto' | 'v3election.proto'): grpc.Client {
    const definition = grpc.loadPackageDefinition(protoLoader.loadSync(file, LOADER_OPTIONS));
    const Client =
      file === 'v3lock.proto'
        ? ((definition.v3lockpb as grpc.GrpcObject).Lock as grpc.ServiceClientConstructor)
        : ((definition.v3electionpb as grpc.GrpcObject).Election as grpc.ServiceClientConstructor);
    const client = new Client(`127.0.0.1:${this.port}`, grpc.credentials.createInsecure());
    this.clients.push(client);
    return client;
  }
}

/** Calls a unary method; the promise rejects with the grpc-js ServiceError on a non-OK status. */
export function call(client: grpc.Client, method: string, request: object): PendingCall<Decoded> {
  const invoke = (client as unknown as Record<string, UnaryMethod>)[method];
  if (invoke === undefined) throw new Error(`no method ${method}`);
  let pending: grpc.ClientUnaryCall | undefined;
  const response = new Promise<Decoded>((resolve, reject) => {
    pending = invoke.call(client, request, new grpc.Metadata(), {}, (error, value) =>
      error ? reject(error) : resolve(value),
    );
  });
  return { response, cancel: () => pending?.cancel() };
}

/** Reads a server stream into an array as it arrives; `next()` resolves with the next message. */
export function stream(client: grpc.Client, method: string, request: object) {
  const invoke = (
    client as unknown as Record<string, (request: object) => grpc.ClientReadableStream<Decoded>>
  )[method];
  if (invoke === undefined) throw new Error(`no method ${method}`);
  const call = invoke.call(client, request);
  const received: Decoded[] = [];
  const waiting: ((message: Decoded) => void)[] = [];
  call.on('data', (message: Decoded) => {
    const next = waiting.shift();
    if (next) next(message);
    else received.push(message);
  });
  call.on('error', () => {});
  return {
    next: (): Promise<Decoded> => {
      const queued = received.shift();
      if (queued !== undefined) return Promise.resolve(queued);
      return new Promise((resolve) => waiting.push(resolve));
    },
    cancel: () => call.cancel(),
  };
}

export const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);
export const text = (bytes: Uint8Array | Buffer): string => Buffer.from(bytes).toString('utf8');
