// The etcd message codecs: round trips for every message, byte-level agreement with protobufjs
// loading our .proto files (both directions), and fuzzing of every decoder. fast-check prints
// the seed and the shrunk input of any failure.
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type {
  Compare,
  CompareTarget,
  KeyValue,
  KvEvent,
  RequestOp,
  ResponseHeader,
  ResponseOp,
  TxnRequest,
  TxnResponse,
} from '@synod/state';
import fc from 'fast-check';
import protobuf from 'protobufjs';
import { GrpcError, GrpcStatus } from '../../grpc/status.js';
import * as codec from './messages.js';
import type { Member } from './types.js';
import { ProtoDecodeError, UnknownEnumValueError } from './wire.js';

const PROTO_DIR = dirname(fileURLToPath(import.meta.url));

// ---- arbitraries: every field over its whole range ----

/** Plain-prototype records, as decoders build them (deepEqual compares prototypes). */
function record<T>(model: { [K in keyof T]: fc.Arbitrary<T[K]> }): fc.Arbitrary<T> {
  return fc.record(model, { noNullPrototype: true });
}

const bytes = fc.uint8Array({ maxLength: 12 });
const int64 = fc.maxSafeInteger();
const uint64 = fc.maxSafeNat();
const int64Id = fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n });
const uint64Id = fc.bigInt({ min: 0n, max: 2n ** 64n - 1n });
const text = fc.string({ maxLength: 12, unit: 'grapheme' });

const header: fc.Arbitrary<ResponseHeader> = record({
  clusterId: uint64Id,
  memberId: uint64Id,
  revision: int64,
  raftTerm: uint64,
});
const optionalHeader = fc.option(header, { nil: undefined });
const keyValue: fc.Arbitrary<KeyValue> = record({
  key: bytes,
  createRevision: int64,
  modRevision: int64,
  version: int64,
  value: bytes,
  lease: int64Id,
});
const optionalKeyValue = fc.option(keyValue, { nil: undefined });
const event: fc.Arbitrary<KvEvent> = record({
  type: fc.constantFrom('PUT', 'DELETE'),
  kv: keyValue,
  prevKv: optionalKeyValue,
});
const rangeRequest = record({
  key: bytes,
  rangeEnd: bytes,
  limit: int64,
  revision: int64,
  sortOrder: fc.constantFrom('NONE', 'ASCEND', 'DESCEND'),
  sortTarget: fc.constantFrom('KEY', 'VERSION', 'CREATE', 'MOD', 'VALUE'),
  serializable: fc.boolean(),
  keysOnly: fc.boolean(),
  countOnly: fc.boolean(),
  minModRevision: int64,
  maxModRevision: int64,
  minCreateRevision: int64,
  maxCreateRevision: int64,
});
const rangeResponse = record({
  kvs: fc.array(keyValue, { maxLength: 3 }),
  more: fc.boolean(),
  count: int64,
});
const putRequest = record({
  key: bytes,
  value: bytes,
  lease: int64Id,
  prevKv: fc.boolean(),
  ignoreValue: fc.boolean(),
  ignoreLease: fc.boolean(),
});
const putResponse = record({ prevKv: optionalKeyValue });
const deleteRangeRequest = record({ key: bytes, rangeEnd: bytes, prevKv: fc.boolean() });
const deleteRangeResponse = record({ deleted: int64, prevKvs: fc.array(keyValue, { maxLength: 3 }) });

/** A Compare as clients build it: only the operand its target names is set. */
const compare: fc.Arbitrary<Compare> = fc
  .record({
    result: fc.constantFrom('EQUAL', 'GREATER', 'LESS', 'NOT_EQUAL'),
    target: fc.constantFrom<CompareTarget>('VERSION', 'CREATE', 'MOD', 'VALUE', 'LEASE'),
    key: bytes,
    rangeEnd: bytes,
    number: int64,
    value: bytes,
    lease: int64Id,
  })
  .map(({ number, value, lease, ...rest }) => ({
    ...rest,
    version: rest.target === 'VERSION' ? number : 0,
    createRevision: rest.target === 'CREATE' ? number : 0,
    modRevision: rest.target === 'MOD' ? number : 0,
    value: rest.target === 'VALUE' ? value : new Uint8Array(0),
    lease: rest.target === 'LEASE' ? lease : 0n,
  }));

const { txnRequest, txnResponse } = fc.letrec<{
  requestOp: RequestOp;
  txnRequest: TxnRequest;
  responseOp: ResponseOp;
  txnResponse: TxnResponse;
}>((tie) => ({
  requestOp: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    record({ kind: fc.constant('range' as const), request: rangeRequest }),
    record({ kind: fc.constant('put' as const), request: putRequest }),
    record({ kind: fc.constant('deleteRange' as const), request: deleteRangeRequest }),
    record({ kind: fc.constant('txn' as const), request: tie('txnRequest') }),
  ),
  txnRequest: record({
    compare: fc.array(compare, { maxLength: 2 }),
    success: fc.array(tie('requestOp'), { maxLength: 2 }),
    failure: fc.array(tie('requestOp'), { maxLength: 2 }),
  }),
  responseOp: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    record({ kind: fc.constant('range' as const), response: rangeResponse }),
    record({ kind: fc.constant('put' as const), response: putResponse }),
    record({ kind: fc.constant('deleteRange' as const), response: deleteRangeResponse }),
    record({ kind: fc.constant('txn' as const), response: tie('txnResponse') }),
  ),
  txnResponse: record({
    succeeded: fc.boolean(),
    responses: fc.array(tie('responseOp'), { maxLength: 2 }),
  }),
}));

const member: fc.Arbitrary<Member> = record({
  id: uint64Id,
  name: text,
  peerURLs: fc.array(text, { maxLength: 2 }),
  clientURLs: fc.array(text, { maxLength: 2 }),
  isLearner: fc.boolean(),
});
const statusResponse = record({
  header: optionalHeader,
  version: text,
  dbSize: int64,
  leader: uint64Id,
  raftIndex: uint64,
  raftTerm: uint64,
  raftAppliedIndex: uint64,
  errors: fc.array(text, { maxLength: 2 }),
  dbSizeInUse: int64,
  isLearner: fc.boolean(),
});

const withHeader = <T extends object>(body: fc.Arbitrary<T>) =>
  fc.tuple(optionalHeader, body).map(([h, b]) => ({ header: h, ...b }));

// ---- conversion to and from protobufjs objects (camelCase field names, int64 as strings) ----

type Plain = Record<string, unknown>;
const str = (value: bigint | number): string => String(value);
const num = (value: unknown): number => Number(value ?? 0);
const big = (value: unknown): bigint => BigInt(String(value ?? 0));
const buf = (value: unknown): Uint8Array => new Uint8Array((value as Uint8Array | undefined) ?? []);
const opt = <T>(value: unknown, convert: (plain: Plain) => T): T | undefined =>
  value === null || value === undefined ? undefined : convert(value as Plain);

const toPb = {
  header: (h: ResponseHeader): Plain => ({ ...h, clusterId: str(h.clusterId), memberId: str(h.memberId) }),
  keyValue: (kv: KeyValue): Plain => ({ ...kv, lease: str(kv.lease) }),
  withHeader: (message: { header: ResponseHeader | undefined }): Plain =>
    message.header === undefined ? {} : { header: toPb.header(message.header) },
  compare(c: Compare): Plain {
    const operand: Record<CompareTarget, Plain> = {
      VERSION: { version: c.version },
      CREATE: { createRevision: c.createRevision },
      MOD: { modRevision: c.modRevision },
      VALUE: { value: c.value },
      LEASE: { lease: str(c.lease) },
    };
    return { result: c.result, target: c.target, key: c.key, rangeEnd: c.rangeEnd, ...operand[c.target] };
  },
  putRequest: (p: { lease: bigint }): Plain => ({ ...p, lease: str(p.lease) }),
  txnRequest: (t: TxnRequest): Plain => ({
    compare: t.compare.map(toPb.compare),
    success: t.success.map(toPb.requestOp),
    failure: t.failure.map(toPb.requestOp),
  }),
  requestOp(op: RequestOp): Plain {
    if (op.kind === 'range') return { requestRange: op.request };
    if (op.kind === 'put') return { requestPut: toPb.putRequest(op.request) };
    if (op.kind === 'deleteRange') return { requestDeleteRange: op.request };
    return { requestTxn: toPb.txnRequest(op.request) };
  },
  txnResponse: (t: TxnResponse): Plain => ({
    succeeded: t.succeeded,
    responses: t.responses.map(toPb.responseOp),
  }),
  responseOp(op: ResponseOp): Plain {
    if (op.kind === 'range')
      return { responseRange: { ...op.response, kvs: op.response.kvs.map(toPb.keyValue) } };
    if (op.kind === 'put') {
      const prevKv = op.response.prevKv;
      return { responsePut: prevKv === undefined ? {} : { prevKv: toPb.keyValue(prevKv) } };
    }
    if (op.kind === 'deleteRange') {
      return { responseDeleteRange: { ...op.response, prevKvs: op.response.prevKvs.map(toPb.keyValue) } };
    }
    return { responseTxn: toPb.txnResponse(op.response) };
  },
  member: (m: Member): Plain => ({
    ID: str(m.id),
    name: m.name,
    peerURLs: m.peerURLs,
    clientURLs: m.clientURLs,
    isLearner: m.isLearner,
  }),
};

const fromPb = {
  header: (p: Plain): ResponseHeader => ({
    clusterId: big(p.clusterId),
    memberId: big(p.memberId),
    revision: num(p.revision),
    raftTerm: num(p.raftTerm),
  }),
  keyValue: (p: Plain): KeyValue => ({
    key: buf(p.key),
    createRevision: num(p.createRevision),
    modRevision: num(p.modRevision),
    version: num(p.version),
    value: buf(p.value),
    lease: big(p.lease),
  }),
  event: (p: Plain): KvEvent => ({
    type: p.type as KvEvent['type'],
    kv: opt(p.kv, fromPb.keyValue) ?? fromPb.keyValue({}),
    prevKv: opt(p.prevKv, fromPb.keyValue),
  }),
  rangeRequest: (p: Plain) => ({
    key: buf(p.key),
    rangeEnd: buf(p.rangeEnd),
    limit: num(p.limit),
    revision: num(p.revision),
    sortOrder: p.sortOrder as 'NONE',
    sortTarget: p.sortTarget as 'KEY',
    serializable: Boolean(p.serializable),
    keysOnly: Boolean(p.keysOnly),
    countOnly: Boolean(p.countOnly),
    minModRevision: num(p.minModRevision),
    maxModRevision: num(p.maxModRevision),
    minCreateRevision: num(p.minCreateRevision),
    maxCreateRevision: num(p.maxCreateRevision),
  }),
  rangeResponse: (p: Plain) => ({
    kvs: (p.kvs as Plain[]).map(fromPb.keyValue),
    more: Boolean(p.more),
    count: num(p.count),
  }),
  putRequest: (p: Plain) => ({
    key: buf(p.key),
    value: buf(p.value),
    lease: big(p.lease),
    prevKv: Boolean(p.prevKv),
    ignoreValue: Boolean(p.ignoreValue),
    ignoreLease: Boolean(p.ignoreLease),
  }),
  putResponse: (p: Plain) => ({ prevKv: opt(p.prevKv, fromPb.keyValue) }),
  deleteRangeRequest: (p: Plain) => ({
    key: buf(p.key),
    rangeEnd: buf(p.rangeEnd),
    prevKv: Boolean(p.prevKv),
  }),
  deleteRangeResponse: (p: Plain) => ({
    deleted: num(p.deleted),
    prevKvs: (p.prevKvs as Plain[]).map(fromPb.keyValue),
  }),
  compare: (p: Plain): Compare => ({
    result: p.result as Compare['result'],
    target: p.target as Compare['target'],
    key: buf(p.key),
    rangeEnd: buf(p.rangeEnd),
    version: num(p.version),
    createRevision: num(p.createRevision),
    modRevision: num(p.modRevision),
    value: buf(p.value),
    lease: big(p.lease),
  }),
  requestOp(p: Plain): RequestOp {
    if (p.request === 'requestRange')
      return { kind: 'range', request: fromPb.rangeRequest(p.requestRange as Plain) };
    if (p.request === 'requestPut') return { kind: 'put', request: fromPb.putRequest(p.requestPut as Plain) };
    if (p.request === 'requestDeleteRange') {
      return { kind: 'deleteRange', request: fromPb.deleteRangeRequest(p.requestDeleteRange as Plain) };
    }
    return { kind: 'txn', request: fromPb.txnRequest(p.requestTxn as Plain) };
  },
  txnRequest: (p: Plain): TxnRequest => ({
    compare: (p.compare as Plain[]).map(fromPb.compare),
    success: (p.success as Plain[]).map(fromPb.requestOp),
    failure: (p.failure as Plain[]).map(fromPb.requestOp),
  }),
  responseOp(p: Plain): ResponseOp {
    if (p.response === 'responseRange') {
      return { kind: 'range', response: fromPb.rangeResponse(p.responseRange as Plain) };
    }
    if (p.response === 'responsePut')
      return { kind: 'put', response: fromPb.putResponse(p.responsePut as Plain) };
    if (p.response === 'responseDeleteRange') {
      return { kind: 'deleteRange', response: fromPb.deleteRangeResponse(p.responseDeleteRange as Plain) };
    }
    return { kind: 'txn', response: fromPb.txnResponse(p.responseTxn as Plain) };
  },
  txnResponse: (p: Plain): TxnResponse => ({
    succeeded: Boolean(p.succeeded),
    responses: (p.responses as Plain[]).map(fromPb.responseOp),
  }),
  member: (p: Plain): Member => ({
    id: big(p.ID),
    name: String(p.name),
    peerURLs: p.peerURLs as string[],
    clientURLs: p.clientURLs as string[],
    isLearner: Boolean(p.isLearner),
  }),
  withHeader: <T>(p: Plain, body: (p: Plain) => T) => ({ header: opt(p.header, fromPb.header), ...body(p) }),
};

// ---- the table: one row per message ----

interface MessageCase<T> {
  readonly type: string;
  readonly arbitrary: fc.Arbitrary<T>;
  readonly encode: (message: T) => Uint8Array;
  readonly decode: (bytes: Uint8Array) => T;
  readonly toPb: (message: T) => Plain;
  readonly fromPb: (plain: Plain) => T;
}

function messageCase<T>(row: MessageCase<T>): MessageCase<unknown> {
  return row as unknown as MessageCase<unknown>;
}

const cases: readonly MessageCase<unknown>[] = [
  messageCase({
    type: 'etcdserverpb.ResponseHeader',
    arbitrary: header,
    encode: codec.encodeResponseHeader,
    decode: codec.decodeResponseHeader,
    toPb: toPb.header,
    fromPb: fromPb.header,
  }),
  messageCase({
    type: 'mvccpb.KeyValue',
    arbitrary: keyValue,
    encode: codec.encodeKeyValue,
    decode: codec.decodeKeyValue,
    toPb: toPb.keyValue,
    fromPb: fromPb.keyValue,
  }),
  messageCase({
    type: 'mvccpb.Event',
    arbitrary: event,
    encode: codec.encodeEvent,
    decode: codec.decodeEvent,
    toPb: (e) => ({
      type: e.type,
      kv: toPb.keyValue(e.kv),
      ...(e.prevKv === undefined ? {} : { prevKv: toPb.keyValue(e.prevKv) }),
    }),
    fromPb: fromPb.event,
  }),
  messageCase({
    type: 'etcdserverpb.RangeRequest',
    arbitrary: rangeRequest,
    encode: codec.encodeRangeRequest,
    decode: codec.decodeRangeRequest,
    toPb: (r) => ({ ...r }),
    fromPb: fromPb.rangeRequest,
  }),
  messageCase({
    type: 'etcdserverpb.RangeResponse',
    arbitrary: withHeader(rangeResponse),
    encode: codec.encodeRangeResponse,
    decode: codec.decodeRangeResponse,
    toPb: (r) => ({ ...toPb.withHeader(r), more: r.more, count: r.count, kvs: r.kvs.map(toPb.keyValue) }),
    fromPb: (p) => fromPb.withHeader(p, fromPb.rangeResponse),
  }),
  messageCase({
    type: 'etcdserverpb.PutRequest',
    arbitrary: putRequest,
    encode: codec.encodePutRequest,
    decode: codec.decodePutRequest,
    toPb: toPb.putRequest,
    fromPb: fromPb.putRequest,
  }),
  messageCase({
    type: 'etcdserverpb.PutResponse',
    arbitrary: withHeader(putResponse),
    encode: codec.encodePutResponse,
    decode: codec.decodePutResponse,
    toPb: (r) => ({
      ...toPb.withHeader(r),
      ...(r.prevKv === undefined ? {} : { prevKv: toPb.keyValue(r.prevKv) }),
    }),
    fromPb: (p) => fromPb.withHeader(p, fromPb.putResponse),
  }),
  messageCase({
    type: 'etcdserverpb.DeleteRangeRequest',
    arbitrary: deleteRangeRequest,
    encode: codec.encodeDeleteRangeRequest,
    decode: codec.decodeDeleteRangeRequest,
    toPb: (r) => ({ ...r }),
    fromPb: fromPb.deleteRangeRequest,
  }),
  messageCase({
    type: 'etcdserverpb.DeleteRangeResponse',
    arbitrary: withHeader(deleteRangeResponse),
    encode: codec.encodeDeleteRangeResponse,
    decode: codec.decodeDeleteRangeResponse,
    toPb: (r) => ({ ...toPb.withHeader(r), deleted: r.deleted, prevKvs: r.prevKvs.map(toPb.keyValue) }),
    fromPb: (p) => fromPb.withHeader(p, fromPb.deleteRangeResponse),
  }),
  messageCase({
    type: 'etcdserverpb.Compare',
    arbitrary: compare,
    encode: codec.encodeCompare,
    decode: codec.decodeCompare,
    toPb: toPb.compare,
    fromPb: fromPb.compare,
  }),
  messageCase({
    type: 'etcdserverpb.TxnRequest',
    arbitrary: txnRequest,
    encode: codec.encodeTxnRequest,
    decode: codec.decodeTxnRequest,
    toPb: toPb.txnRequest,
    fromPb: fromPb.txnRequest,
  }),
  messageCase({
    type: 'etcdserverpb.TxnResponse',
    arbitrary: withHeader(txnResponse),
    encode: codec.encodeTxnResponse,
    decode: codec.decodeTxnResponse,
    toPb: (r) => ({ ...toPb.withHeader(r), ...toPb.txnResponse(r) }),
    fromPb: (p) => fromPb.withHeader(p, fromPb.txnResponse),
  }),
  messageCase({
    type: 'etcdserverpb.CompactionRequest',
    arbitrary: record({ revision: int64, physical: fc.boolean() }),
    encode: codec.encodeCompactionRequest,
    decode: codec.decodeCompactionRequest,
    toPb: (r) => ({ ...r }),
    fromPb: (p) => ({ revision: num(p.revision), physical: Boolean(p.physical) }),
  }),
  messageCase({
    type: 'etcdserverpb.CompactionResponse',
    arbitrary: record({ header: optionalHeader }),
    encode: codec.encodeCompactionResponse,
    decode: codec.decodeCompactionResponse,
    toPb: toPb.withHeader,
    fromPb: (p) => fromPb.withHeader(p, () => ({})),
  }),
  messageCase({
    type: 'etcdserverpb.StatusRequest',
    arbitrary: fc.constant({}),
    encode: codec.encodeStatusRequest,
    decode: codec.decodeStatusRequest,
    toPb: () => ({}),
    fromPb: () => ({}),
  }),
  messageCase({
    type: 'etcdserverpb.StatusResponse',
    arbitrary: statusResponse,
    encode: codec.encodeStatusResponse,
    decode: codec.decodeStatusResponse,
    toPb: (s) => ({ ...s, ...toPb.withHeader(s), leader: str(s.leader) }),
    fromPb: (p) =>
      fromPb.withHeader(p, () => ({
        version: String(p.version),
        dbSize: num(p.dbSize),
        leader: big(p.leader),
        raftIndex: num(p.raftIndex),
        raftTerm: num(p.raftTerm),
        raftAppliedIndex: num(p.raftAppliedIndex),
        errors: p.errors as string[],
        dbSizeInUse: num(p.dbSizeInUse),
        isLearner: Boolean(p.isLearner),
      })),
  }),
  messageCase({
    type: 'etcdserverpb.Member',
    arbitrary: member,
    encode: codec.encodeMember,
    decode: codec.decodeMember,
    toPb: toPb.member,
    fromPb: fromPb.member,
  }),
  messageCase({
    type: 'etcdserverpb.MemberListRequest',
    arbitrary: record({ linearizable: fc.boolean() }),
    encode: codec.encodeMemberListRequest,
    decode: codec.decodeMemberListRequest,
    toPb: (r) => ({ ...r }),
    fromPb: (p) => ({ linearizable: Boolean(p.linearizable) }),
  }),
  messageCase({
    type: 'etcdserverpb.MemberListResponse',
    arbitrary: record({ header: optionalHeader, members: fc.array(member, { maxLength: 3 }) }),
    encode: codec.encodeMemberListResponse,
    decode: codec.decodeMemberListResponse,
    toPb: (r) => ({ ...toPb.withHeader(r), members: r.members.map(toPb.member) }),
    fromPb: (p) => fromPb.withHeader(p, () => ({ members: (p.members as Plain[]).map(fromPb.member) })),
  }),
];

function loadProtos(): protobuf.Root {
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => join(PROTO_DIR, target.replace(/^.*\//, ''));
  root.loadSync('rpc.proto');
  return root;
}

const TO_OBJECT: protobuf.IConversionOptions = {
  longs: String,
  enums: String,
  defaults: true,
  arrays: true,
  oneofs: true,
};
const RUNS = 200;

describe('etcd message codecs', () => {
  const root = loadProtos();

  for (const row of cases) {
    const name = row.type.split('.')[1]!;
    const pbType = root.lookupType(row.type);

    test(`${name}: decoding what was encoded gives the message back`, () => {
      fc.assert(
        fc.property(row.arbitrary, (message) => {
          assert.deepEqual(row.decode(row.encode(message)), message);
        }),
        { numRuns: RUNS },
      );
    });

    test(`${name}: protobufjs reads our bytes as the same message and re-encodes them byte for byte`, () => {
      fc.assert(
        fc.property(row.arbitrary, (message) => {
          const ours = row.encode(message);
          const decoded = pbType.decode(ours);
          assert.deepEqual(row.fromPb(pbType.toObject(decoded, TO_OBJECT)), message);
          assert.deepEqual(Buffer.from(pbType.encode(decoded).finish()), Buffer.from(ours));
        }),
        { numRuns: RUNS },
      );
    });

    test(`${name}: we read protobufjs's bytes as the same message`, () => {
      fc.assert(
        fc.property(row.arbitrary, (message) => {
          const theirs = pbType.encode(pbType.fromObject(row.toPb(message))).finish();
          assert.deepEqual(row.decode(theirs), message);
        }),
        { numRuns: RUNS },
      );
    });

    test(`${name}: random and mutated bytes never crash the decoder, only throw ProtoDecodeError`, () => {
      const mutated = fc
        .tuple(row.arbitrary, fc.nat(), fc.integer({ min: 0, max: 255 }), fc.boolean())
        .map(([message, position, byte, cut]) => {
          const encoded = Uint8Array.from(row.encode(message));
          if (encoded.length === 0) return encoded;
          const at = position % encoded.length;
          if (cut) return encoded.subarray(0, at);
          encoded[at] = byte;
          return encoded;
        });
      fc.assert(
        fc.property(fc.oneof(fc.uint8Array({ maxLength: 64 }), mutated), (input) => {
          try {
            row.decode(input);
          } catch (error) {
            if (!(error instanceof ProtoDecodeError)) throw error;
          }
        }),
        { numRuns: RUNS * 5 },
      );
    });
  }

  test('absent fields decode to their defaults, enums to their zero names', () => {
    assert.deepEqual(codec.decodeRangeRequest(new Uint8Array(0)), {
      key: new Uint8Array(0),
      rangeEnd: new Uint8Array(0),
      limit: 0,
      revision: 0,
      sortOrder: 'NONE',
      sortTarget: 'KEY',
      serializable: false,
      keysOnly: false,
      countOnly: false,
      minModRevision: 0,
      maxModRevision: 0,
      minCreateRevision: 0,
      maxCreateRevision: 0,
    });
    assert.deepEqual(codec.decodeEvent(new Uint8Array(0)).type, 'PUT');
    assert.equal(codec.decodeCompare(new Uint8Array(0)).result, 'EQUAL');
  });

  test('a Compare operand of zero is still written: its presence is what the oneof says', () => {
    const zeroVersion: Compare = {
      result: 'EQUAL',
      target: 'VERSION',
      key: new Uint8Array([0x6b]),
      rangeEnd: new Uint8Array(0),
      version: 0,
      createRevision: 0,
      modRevision: 0,
      value: new Uint8Array(0),
      lease: 0n,
    };
    assert.equal(Buffer.from(codec.encodeCompare(zeroVersion)).toString('hex'), '1a016b2000');
  });

  test('the last oneof member on the wire wins', () => {
    // target_union: value "x" (field 7), then create_revision 5 (field 5).
    const decoded = codec.decodeCompare(new Uint8Array([0x10, 0x01, 0x3a, 0x01, 0x78, 0x28, 0x05]));
    assert.equal(decoded.target, 'CREATE');
    assert.equal(decoded.createRevision, 5);
    assert.deepEqual(decoded.value, new Uint8Array(0));
  });

  test('an enum value etcd does not define is a typed error naming the field', () => {
    assert.throws(
      () => codec.decodeRangeRequest(new Uint8Array([0x28, 0x07])),
      (error: unknown) =>
        error instanceof UnknownEnumValueError &&
        error.field === 'RangeRequest.sort_order' &&
        error.value === 7,
    );
  });

  test('the server codecs answer an unknown sort option as etcd does, in a Range and inside a Txn', () => {
    const isInvalidSortOption = (error: unknown): boolean =>
      error instanceof GrpcError &&
      error.code === GrpcStatus.INVALID_ARGUMENT &&
      error.message === 'etcdserver: invalid sort option';
    const badRange = [0x30, 0x09];
    assert.throws(
      () => codec.ETCD_METHOD_CODECS.KV.Range.decode(new Uint8Array(badRange)),
      isInvalidSortOption,
    );
    const txn = new Uint8Array([0x12, 0x04, 0x0a, 0x02, ...badRange]);
    assert.throws(() => codec.ETCD_METHOD_CODECS.KV.Txn.decode(txn), isInvalidSortOption);
  });

  test('a RequestOp holding no operation is refused', () => {
    assert.throws(() => codec.decodeRequestOp(new Uint8Array(0)), ProtoDecodeError);
  });

  test('fields added by later etcd versions are skipped (StatusResponse.storageVersion, dbSizeQuota)', () => {
    const pbType = loadProtos().lookupType('etcdserverpb.StatusResponse');
    const known = pbType.encode(pbType.fromObject({ version: '3.4.0', isLearner: true })).finish();
    const later = Buffer.concat([known, Buffer.from([0x5a, 0x03, 0x33, 0x2e, 0x36, 0x60, 0x80, 0x01])]);
    const decoded = codec.decodeStatusResponse(later);
    assert.equal(decoded.version, '3.4.0');
    assert.equal(decoded.isLearner, true);
  });
});
