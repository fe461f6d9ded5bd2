// Just enough of etcd's KV, Watch and Lease services, over a MemoryConcurrencyBackend, for etcdctl
// 3.4's `lock` and `elect` (which run the concurrency recipe client-side) to work against the
// same store as our Lock and Election services. Test-only: the real services live in ../ (KV),
// ../watch and ../lease; the minimal Watch and Lease codecs here keep this file independent of them.
import type { KvEvent, ResponseHeader } from '@synod/state';
import { bidiStreaming, type ServerStreamCall, unary } from '../../grpc/methods.js';
import type { GrpcServer } from '../../grpc/server.js';
import { GrpcError, GrpcStatus } from '../../grpc/status.js';
import { ETCD_METHOD_CODECS, encodeEvent, encodeResponseHeader } from '../proto/messages.js';
import { fieldTag, ProtoReader, ProtoWriter, WireType } from '../proto/wire.js';
import type { HeaderAt } from './lock-service.js';
import type { MemoryConcurrencyBackend } from './memory-backend.fixture.js';
import { unconditional } from './recipe.js';

const LENGTH_DELIMITED = WireType.LENGTH_DELIMITED;
const VARINT = WireType.VARINT;
const EMPTY_BYTES: Uint8Array = new Uint8Array(0);

/** Registers KV (Range, Put, DeleteRange, Txn), Watch and Lease (Grant, Revoke, KeepAlive). */
export function registerFakeEtcd(
  grpc: GrpcServer,
  backend: MemoryConcurrencyBackend,
  header: HeaderAt,
): void {
  const codecs = ETCD_METHOD_CODECS.KV;
  const failed = (error: { code: string; message: string }) =>
    new GrpcError(
      error.code === 'NotFound' ? GrpcStatus.NOT_FOUND : GrpcStatus.INVALID_ARGUMENT,
      error.message,
    );
  grpc.addService('etcdserverpb.KV', {
    Range: unary(codecs.Range, async (request) => {
      const answer = await backend.range(request);
      if (!answer.ok) throw failed(answer.error);
      return { ...answer.value, header: header(answer.revision) };
    }),
    Txn: unary(codecs.Txn, async (request) => {
      const answer = await backend.txn(request);
      if (!answer.ok) throw failed(answer.error);
      return { ...answer.value, header: header(answer.revision) };
    }),
    Put: unary(codecs.Put, async (request) => {
      const answer = await backend.txn(unconditional({ kind: 'put', request }));
      if (!answer.ok) throw failed(answer.error);
      const put = answer.value.responses[0];
      return {
        prevKv: put?.kind === 'put' ? put.response.prevKv : undefined,
        header: header(answer.revision),
      };
    }),
    DeleteRange: unary(codecs.DeleteRange, async (request) => {
      const answer = await backend.txn(unconditional({ kind: 'deleteRange', request }));
      if (!answer.ok) throw failed(answer.error);
      const deleted = answer.value.responses[0];
      if (deleted?.kind !== 'deleteRange') throw new Error('a delete answered as something else');
      return { ...deleted.response, header: header(answer.revision) };
    }),
  });
  grpc.addService('etcdserverpb.Watch', {
    Watch: bidiStreaming({ decode: decodeWatchRequest, encode: encodeWatchResponse }, (requests, call) =>
      serveWatch(backend, header, requests, call),
    ),
  });
  grpc.addService('etcdserverpb.Lease', leaseMethods(backend, header));
}

function leaseMethods(backend: MemoryConcurrencyBackend, header: HeaderAt) {
  const ttls = new Map<bigint, number>();
  return {
    LeaseGrant: unary({ decode: decodeGrantRequest, encode: encodeLeaseAnswer }, async (request) => {
      const id = backend.grant(request.id === 0n ? undefined : request.id);
      ttls.set(id, request.ttl);
      return { header: header(backend.revision), id, ttl: request.ttl };
    }),
    LeaseRevoke: unary({ decode: decodeIdRequest, encode: encodeLeaseAnswer }, async ({ id }) => {
      await backend.expireLease(id);
      return { header: header(backend.revision), id: 0n, ttl: 0 };
    }),
    LeaseKeepAlive: bidiStreaming(
      { decode: decodeIdRequest, encode: encodeLeaseAnswer },
      async (requests, call) => {
        for await (const { id } of requests) {
          const ttl = backend.leases.has(id) ? (ttls.get(id) ?? 0) : 0;
          await call.send({ header: header(backend.revision), id, ttl });
        }
      },
    ),
  };
}

// ---- Watch ----

interface WatchRequest {
  readonly create?: { key: Uint8Array; rangeEnd: Uint8Array; startRevision: number };
  readonly cancelId?: number;
}

interface WatchResponse {
  readonly header: ResponseHeader;
  readonly watchId: number;
  readonly created?: boolean;
  readonly canceled?: boolean;
  readonly events?: readonly KvEvent[];
}

/** One Watch stream: each created watch pumps its events into the stream, one send at a time. */
async function serveWatch(
  backend: MemoryConcurrencyBackend,
  header: HeaderAt,
  requests: AsyncIterable<WatchRequest>,
  call: ServerStreamCall<WatchResponse>,
): Promise<void> {
  let sending = Promise.resolve();
  const send = (response: WatchResponse) => {
    sending = sending.then(() => call.send(response)).catch(() => undefined);
    return sending;
  };
  const watches = new Map<number, AbortController>();
  let nextId = 1;
  for await (const request of requests) {
    if (request.create !== undefined) {
      const id = nextId++;
      const controller = new AbortController();
      call.signal.addEventListener('abort', () => controller.abort(), { once: true });
      watches.set(id, controller);
      const { key, rangeEnd, startRevision } = request.create;
      const from = startRevision > 0 ? startRevision : backend.revision + 1;
      await send({ header: header(backend.revision), watchId: id, created: true });
      void (async () => {
        for await (const update of backend.watch(key, rangeEnd, from, controller.signal)) {
          if (update.kind === 'canceled') break;
          await send({ header: header(backend.revision), watchId: id, events: update.events });
        }
      })();
    } else if (request.cancelId !== undefined) {
      watches.get(request.cancelId)?.abort();
      watches.delete(request.cancelId);
      await send({ header: header(backend.revision), watchId: request.cancelId, canceled: true });
    }
  }
  for (const controller of watches.values()) controller.abort();
}

function decodeWatchRequest(bytes: Uint8Array): WatchRequest {
  const reader = new ProtoReader(bytes);
  let request: WatchRequest = {};
  while (!reader.done()) {
    const tag = reader.tag();
    if (tag === fieldTag(1, LENGTH_DELIMITED)) {
      const create = reader.message();
      let key = EMPTY_BYTES;
      let rangeEnd = EMPTY_BYTES;
      let startRevision = 0;
      while (!create.done()) {
        const field = create.tag();
        if (field === fieldTag(1, LENGTH_DELIMITED)) key = create.bytes();
        else if (field === fieldTag(2, LENGTH_DELIMITED)) rangeEnd = create.bytes();
        else if (field === fieldTag(3, VARINT)) startRevision = create.int64();
        else create.skip(field);
      }
      request = { create: { key, rangeEnd, startRevision } };
    } else if (tag === fieldTag(2, LENGTH_DELIMITED)) {
      const cancel = reader.message();
      let cancelId = 0;
      while (!cancel.done()) {
        const field = cancel.tag();
        if (field === fieldTag(1, VARINT)) cancelId = cancel.int64();
        else cancel.skip(field);
      }
      request = { cancelId };
    } else reader.skip(tag);
  }
  return request;
}

function encodeWatchResponse(response: WatchResponse): Uint8Array {
  const writer = new ProtoWriter();
  writer.bytesFieldAlways(1, encodeResponseHeader(response.header));
  writer.int64Field(2, response.watchId);
  writer.boolField(3, response.created ?? false);
  writer.boolField(4, response.canceled ?? false);
  for (const event of response.events ?? []) writer.bytesFieldAlways(11, encodeEvent(event));
  return writer.finish();
}

// ---- Lease (LeaseGrantRequest is {TTL = 1, ID = 2}; Revoke and KeepAlive requests are {ID = 1}) ----

function decodeGrantRequest(bytes: Uint8Array): { ttl: number; id: bigint } {
  const reader = new ProtoReader(bytes);
  let ttl = 0;
  let id = 0n;
  while (!reader.done()) {
    const tag = reader.tag();
    if (tag === fieldTag(1, VARINT)) ttl = reader.int64();
    else if (tag === fieldTag(2, VARINT)) id = reader.int64BigInt();
    else reader.skip(tag);
  }
  return { ttl, id };
}

function decodeIdRequest(bytes: Uint8Array): { id: bigint } {
  const reader = new ProtoReader(bytes);
  let id = 0n;
  while (!reader.done()) {
    const tag = reader.tag();
    if (tag === fieldTag(1, VARINT)) id = reader.int64BigInt();
    else reader.skip(tag);
  }
  return { id };
}

/** LeaseGrantResponse and LeaseKeepAliveResponse share {header = 1, ID = 2, TTL = 3}. */
function encodeLeaseAnswer(response: { header: ResponseHeader; id: bigint; ttl: number }): Uint8Array {
  const writer = new ProtoWriter();
  writer.bytesFieldAlways(1, encodeResponseHeader(response.header));
  writer.int64BigIntField(2, response.id);
  writer.int64Field(3, response.ttl);
  return writer.finish();
}
