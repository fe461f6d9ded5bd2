// Encoders and decoders for the etcd v3 messages Synod serves (rpc.proto and kv.proto beside this
// file), mapping the wire to @synod/state's types and ours (types.ts). Encoders leave proto3
// defaults out, as Go does; decoders give absent fields their defaults (enums their zero name),
// skip unknown fields, and throw ProtoDecodeError on anything malformed.
import type {
  CompactionRequest,
  Compare,
  CompareResult,
  CompareTarget,
  DeleteRangeRequest,
  EventType,
  KeyValue,
  KvEvent,
  PutRequest,
  RangeRequest,
  RequestOp,
  ResponseHeader,
  ResponseOp,
  SortOrder,
  SortTarget,
  TxnRequest,
} from '@synod/state';
import { ETCD_ERRORS } from '@synod/state';
import { GrpcError, GrpcStatus } from '../../grpc/status.js';
import type {
  CompactionResponse,
  DeleteRangeResponseMessage,
  Member,
  MemberListRequest,
  MemberListResponse,
  PutResponseMessage,
  RangeResponseMessage,
  StatusRequest,
  StatusResponse,
  TxnResponseMessage,
} from './types.js';
import {
  decodeWith,
  encodeWith,
  fieldTag,
  ProtoDecodeError,
  type ProtoReader,
  type ProtoWriter,
  UnknownEnumValueError,
  WireType,
} from './wire.js';

const VARINT = WireType.VARINT;
const LENGTH_DELIMITED = WireType.LENGTH_DELIMITED;
const EMPTY_BYTES: Uint8Array = new Uint8Array(0);

// ---- enums: names indexed by their wire number ----

const SORT_ORDERS: readonly SortOrder[] = ['NONE', 'ASCEND', 'DESCEND'];
const SORT_TARGETS: readonly SortTarget[] = ['KEY', 'VERSION', 'CREATE', 'MOD', 'VALUE'];
const COMPARE_RESULTS: readonly CompareResult[] = ['EQUAL', 'GREATER', 'LESS', 'NOT_EQUAL'];
const COMPARE_TARGETS: readonly CompareTarget[] = ['VERSION', 'CREATE', 'MOD', 'VALUE', 'LEASE'];
const EVENT_TYPES: readonly EventType[] = ['PUT', 'DELETE'];

function enumNumbers<Name extends string>(names: readonly Name[]): ReadonlyMap<Name, number> {
  return new Map(names.map((name, number) => [name, number]));
}

const SORT_ORDER_NUMBERS = enumNumbers(SORT_ORDERS);
const SORT_TARGET_NUMBERS = enumNumbers(SORT_TARGETS);
const COMPARE_RESULT_NUMBERS = enumNumbers(COMPARE_RESULTS);
const COMPARE_TARGET_NUMBERS = enumNumbers(COMPARE_TARGETS);
const EVENT_TYPE_NUMBERS = enumNumbers(EVENT_TYPES);

function readEnum<Name extends string>(reader: ProtoReader, names: readonly Name[], field: string): Name {
  const at = reader.offset;
  const value = reader.enumValue();
  const name = names[value];
  if (name === undefined) throw new UnknownEnumValueError(field, value, at);
  return name;
}

function enumNumber<Name extends string>(
  numbers: ReadonlyMap<Name, number>,
  name: Name,
  field: string,
): number {
  const number = numbers.get(name);
  if (number === undefined) throw new TypeError(`${JSON.stringify(name)} is not a value of ${field}`);
  return number;
}

// ---- etcdserverpb.ResponseHeader ----

const HEADER = {
  clusterId: fieldTag(1, VARINT),
  memberId: fieldTag(2, VARINT),
  revision: fieldTag(3, VARINT),
  raftTerm: fieldTag(4, VARINT),
} as const;

function readHeader(reader: ProtoReader): ResponseHeader {
  let clusterId = 0n;
  let memberId = 0n;
  let revision = 0;
  let raftTerm = 0;
  while (!reader.done()) {
    const tag = reader.tag();
    if (tag === HEADER.clusterId) clusterId = reader.uint64BigInt();
    else if (tag === HEADER.memberId) memberId = reader.uint64BigInt();
    else if (tag === HEADER.revision) revision = reader.int64();
    else if (tag === HEADER.raftTerm) raftTerm = reader.uint64();
    else reader.skip(tag);
  }
  return { clusterId, memberId, revision, raftTerm };
}

function writeHeader(writer: ProtoWriter, fieldNumber: number, header: ResponseHeader | undefined): void {
  if (header === undefined) return;
  const start = writer.beginMessage(fieldNumber);
  writer.uint64BigIntField(1, header.clusterId);
  writer.uint64BigIntField(2, header.memberId);
  writer.int64Field(3, header.revision);
  writer.uint64Field(4, header.raftTerm);
  writer.endMessage(start);
}

// ---- mvccpb.KeyValue and mvccpb.Event ----

const KEY_VALUE = {
  key: fieldTag(1, LENGTH_DELIMITED),
  createRevision: fieldTag(2, VARINT),
  modRevision: fieldTag(3, VARINT),
  version: fieldTag(4, VARINT),
  value: fieldTag(5, LENGTH_DELIMITED),
  lease: fieldTag(6, VARINT),
} as const;

function readKeyValue(reader: ProtoReader): KeyValue {
  let key = EMPTY_BYTES;
  let createRevision = 0;
  let modRevision = 0;
  let version = 0;
  let value = EMPTY_BYTES;
  let lease = 0n;
  while (!reader.done()) {
    const tag = reader.tag();
    if (tag === KEY_VALUE.key) key = reader.bytes();
    else if (tag === KEY_VALUE.createRevision) createRevision = reader.int64();
    else if (tag === KEY_VALUE.modRevision) modRevision = reader.int64();
    else if (tag === KEY_VALUE.version) version = reader.int64();
    else if (tag === KEY_VALUE.value) value = reader.bytes();
    else if (tag === KEY_VALUE.lease) lease = reader.int64BigInt();
    else reader.skip(tag);
  }
  return { key, createRevision, modRevision, version, value, lease };
}

function writeKeyValueFields(writer: ProtoWriter, kv: KeyValue): void {
  writer.bytesField(1, kv.key);
  writer.int64Field(2, kv.createRevision);
  writer.int64Field(3, kv.modRevision);
  writer.int64Field(4, kv.version);
  writer.bytesField(5, kv.value);
  writer.int64BigIntField(6, kv.lease);
}

function writeKeyValue(writer: ProtoWriter, fieldNumber: number, kv: KeyValue): void {
  const start = writer.beginMessage(fieldNumber);
  writeKeyValueFields(writer, kv);
  writer.endMessage(start);
}

const EMPTY_KEY_VALUE: KeyValue = {
  key: EMPTY_BYTES,
  createRevision: 0,
  modRevision: 0,
  version: 0,
  value: EMPTY_BYTES,
  lease: 0n,
};

const EVENT = {
  type: fieldTag(1, VARINT),
  kv: fieldTag(2, LENGTH_DELIMITED),
  prevKv: fieldTag(3, LENGTH_DELIMITED),
} as const;

function readEvent(reader: ProtoReader): KvEvent {
  let type: EventType = 'PUT';
  let kv = EMPTY_KEY_VALUE;
  let prevKv: KeyValue | undefined;
  while (!reader.done()) {
    const tag = reader.tag();
    if (tag === EVENT.type) type = readEnum(reader, EVENT_TYPES, 'Event.type');
    else if (tag === EVENT.kv) kv = readKeyValue(reader.message());
    else if (tag === EVENT.prevKv) prevKv = readKeyValue(reader.message());
    else reader.skip(tag);
  }
  return { type, kv, prevKv };
}

function writeEventFields(writer: ProtoWriter, event: KvEvent): void {
  writer.enumField(1, enumNumber(EVENT_TYPE_NUMBERS, event.type, 'Event.type'));
  writeKeyValue(writer, 2, event.kv);
  if (event.prevKv !== undefined) writeKeyValue(writer, 3, event.prevKv);
}

// ---- RangeRequest / RangeResponse ----

const RANGE_REQUEST = {
  key: fieldTag(1, LENGTH_DELIMITED),
  rangeEnd: fieldTag(2, LENGTH_DELIMITED),
  limit: fieldTag(3, VARINT),
  revision: fieldTag(4, VARINT),
  sortOrder: fieldTag(5, VARINT),
  sortTarget: fieldTag(6, VARINT),
  serializable: fieldTag(7, VARINT),
  keysOnly: fieldTag(8, VARINT),
  countOnly: fieldTag(9, VARINT),
  minModRevision: fieldTag(10, VARINT),
  maxModRevision: fieldTag(11, VARINT),
  minCreateRevision: fieldTag(12, VARINT),
  maxCreateRevision: fieldTag(13, VARINT),
} as const;

function readRangeRequest(reader: ProtoReader): RangeRequest {
  let key = EMPTY_BYTES;
  let rangeEnd = EMPTY_BYTES;
  let limit = 0;
  let revision = 0;
  let sortOrder: SortOrder = 'NONE';
  let sortTarget: SortTarget = 'KEY';
  let serializable = false;
  let keysOnly = false;
  let countOnly = false;
  let minModRevision = 0;
  let maxModRevision = 0;
  let minCreateRevision = 0;
  let maxCreateRevision = 0;
  while (!reader.done()) {
    const tag = reader.tag();
    if (tag === RANGE_REQUEST.key) key = reader.bytes();
    else if (tag === RANGE_REQUEST.rangeEnd) rangeEnd = reader.bytes();
    else if (tag === RANGE_REQUEST.limit) limit = reader.int64();
    else if (tag === RANGE_REQUEST.revision) revision = reader.int64();
    else if (tag === RANGE_REQUEST.sortOrder)
      sortOrder = readEnum(reader, SORT_ORDERS, 'RangeRequest.sort_order');
    else if (tag === RANGE_REQUEST.sortTarget)
      sortTarget = readEnum(reader, SORT_TARGETS, 'RangeRequest.sort_target');
    else if (tag === RANGE_REQUEST.serializable) serializable = reader.bool();
    else if (tag === RANGE_REQUEST.keysOnly) keysOnly = reader.bool();
    else if (tag === RANGE_REQUEST.countOnly) countOnly = reader.bool();
    else if (tag === RANGE_REQUEST.minModRevision) minModRevision = reader.int64();
    else if (tag === RANGE_REQUEST.maxModRevision) maxModRevision = reader.int64();
    else if (tag === RANGE_REQUEST.minCreateRevision) minCreateRevision = reader.int64();
    else if (tag === RANGE_REQUEST.maxCreateRevision) maxCreateRevision = reader.int64();
    else reader.skip(tag);
  }
  return {
    key,
    rangeEnd,
    limit,
    revision,
    sortOrder,
    sortTarget,
    serializable,
    keysOnly,
    countOnly,
    minModRevision,
    maxModRevision,
    minCreateRevision,
    maxCreateRevision,
  };
}

function writeRangeRequestFields(writer: ProtoWriter, request: RangeRequest): void {
  writer.bytesField(1, request.key);
  writer.bytesField(2, request.rangeEnd);
  writer.int64Field(3, request.limit);
  writer.int64Field(4, request.revision);
  writer.enumField(5, enumNumber(SORT_ORDER_NUMBERS, request.sortOrder, 'RangeRequest.sort_order'));
  writer.enumField(6, enumNumber(SORT_TARGET_NUMBERS, request.sortTarget, 'RangeRequest.sort_target'));
  writer.boolField(7, request.serializable);
  writer.boolField(8, request.keysOnly);
  writer.boolField(9, request.countOnly);
  writer.int64Field(10, request.minModRevision);
  writer.int64Field(11, request.maxModRevision);
  writer.int64Field(12, request.minCreateRevision);
  writer.int64Field(13, request.maxCreateRevision);
}

const RANGE_RESPONSE = {
  header: fieldTag(1, LENGTH_DELIMITED),
  kvs: fieldTag(2, LENGTH_DELIMITED),
  more: fieldTag(3, VARINT),
  count: fieldTag(4, VARINT),
} as const;

function readRangeResponse(reader: ProtoReader): RangeResponseMessage {
  let header: ResponseHeader | undefined;
  const kvs: KeyValue[] = [];
  let more = false;
  let count = 0;
  while (!reader.done()) {
    const tag = reader.tag();
    if (tag === RANGE_RESPONSE.header) header = readHeader(reader.message());
    else if (tag === RANGE_RESPONSE.kvs) kvs.push(readKeyValue(reader.message()));
    else if (tag === RANGE_RESPONSE.more) more = reader.bool();
    else if (tag === RANGE_RESPONSE.count) count = reader.int64();
    else reader.skip(tag);
  }
  return { header, kvs, more, count };
}

function writeRangeResponseFields(writer: ProtoWriter, response: RangeResponseMessage): void {
  writeHeader(writer, 1, response.header);
  for (const kv of response.kvs) writeKeyValue(writer, 2, kv);
  writer.boolField(3, response.more);
  writer.int64Field(4, response.count);
}

// ---- PutRequest / PutResponse ----

const PUT_REQUEST = {
  key: fieldTag(1, LENGTH_DELIMITED),
  value: fieldTag(2, LENGTH_DELIMITED),
  lease: fieldTag(3, VARINT),
  prevKv: fieldTag(4, VARINT),
  ignoreValue: fieldTag(5, VARINT),
  ignoreLease: fieldTag(6, VARINT),
} as const;

function readPutRequest(reader: ProtoReader): PutRequest {
  let key = EMPTY_BYTES;
  let value = EMPTY_BYTES;
  let lease = 0n;
  let prevKv = false;
  let ignoreValue = false;
  let ignoreLease = false;
  while (!reader.done()) {
    const tag = reader.tag();
    if (tag === PUT_REQUEST.key) key = reader.bytes();
    else if (tag === PUT_REQUEST.value) value = reader.bytes();
    else if (tag === PUT_REQUEST.lease) lease = reader.int64BigInt();
    else if (tag === PUT_REQUEST.prevKv) prevKv = reader.bool();
    else if (tag === PUT_REQUEST.ignoreValue) ignoreValue = reader.bool();
    else if (tag === PUT_REQUEST.ignoreLease) ignoreLease = reader.bool();
    else reader.skip(tag);
  }
  return { key, value, lease, prevKv, ignoreValue, ignoreLease };
}

function writePutRequestFields(writer: ProtoWriter, request: PutRequest): void {
  writer.bytesField(1, request.key);
  writer.bytesField(2, request.value);
  writer.int64BigIntField(3, request.lease);
  writer.boolField(4, request.prevKv);
  writer.boolField(5, request.ignoreValue);
  writer.boolField(6, request.ignoreLease);
}

const PUT_RESPONSE = {
  header: fieldTag(1, LENGTH_DELIMITED),
  prevKv: fieldTag(2, LENGTH_DELIMITED),
} as const;

function readPutResponse(reader: ProtoReader): PutResponseMessage {
  let header: ResponseHeader | undefined;
  let prevKv: KeyValue | undefined;
  while (!reader.done()) {
    const tag = reader.tag();
    if (tag === PUT_RESPONSE.header) header = readHeader(reader.message());
    else if (tag === PUT_RESPONSE.prevKv) prevKv = readKeyValue(reader.message());
    else reader.skip(tag);
  }
  return { header, prevKv };
}

function writePutResponseFields(writer: ProtoWriter, response: PutResponseMessage): void {
  writeHeader(writer, 1, response.header);
  if (response.prevKv !== undefined) writeKeyValue(writer, 2, response.prevKv);
}

// ---- DeleteRangeRequest / DeleteRangeResponse ----

const DELETE_RANGE_REQUEST = {
  key: fieldTag(1, LENGTH_DELIMITED),
  rangeEnd: fieldTag(2, LENGTH_DELIMITED),
  prevKv: fieldTag(3, VARINT),
} as const;

function readDeleteRangeRequest(reader: ProtoReader): DeleteRangeRequest {
  let key = EMPTY_BYTES;
  let rangeEnd = EMPTY_BYTES;
  let prevKv = false;
  while (!reader.done()) {
    const tag = reader.tag();
    if (tag === DELETE_RANGE_REQUEST.key) key = reader.bytes();
    else if (tag === DELETE_RANGE_REQUEST.rangeEnd) rangeEnd = reader.bytes();
    else if (tag === DELETE_RANGE_REQUEST.prevKv) prevKv = reader.bool();
    else reader.skip(tag);
  }
  return { key, rangeEnd, prevKv };
}

function writeDeleteRangeRequestFields(writer: ProtoWriter, request: DeleteRangeRequest): void {
  writer.bytesField(1, request.key);
  writer.bytesField(2, request.rangeEnd);
  writer.boolField(3, request.prevKv);
}

const DELETE_RANGE_RESPONSE = {
  header: fieldTag(1, LENGTH_DELIMITED),
  deleted: fieldTag(2, VARINT),
  prevKvs: fieldTag(3, LENGTH_DELIMITED),
} as const;

function readDeleteRangeResponse(reader: ProtoReader): DeleteRangeResponseMessage {
  let header: ResponseHeader | undefined;
  let deleted = 0;
  const prevKvs: KeyValue[] = [];
  while (!reader.done()) {
    const tag = reader.tag();
    if (tag === DELETE_RANGE_RESPONSE.header) header = readHeader(reader.message());
    else if (tag === DELETE_RANGE_RESPONSE.deleted) deleted = reader.int64();
    else if (tag === DELETE_RANGE_RESPONSE.prevKvs) prevKvs.push(readKeyValue(reader.message()));
    else reader.skip(tag);
  }
  return { header, deleted, prevKvs };
}

function writeDeleteRangeResponseFields(writer: ProtoWriter, response: DeleteRangeResponseMessage): void {
  writeHeader(writer, 1, response.header);
  writer.int64Field(2, response.deleted);
  for (const kv of response.prevKvs) writeKeyValue(writer, 3, kv);
}

// ---- Compare ----

const COMPARE = {
  result: fieldTag(1, VARINT),
  target: fieldTag(2, VARINT),
  key: fieldTag(3, LENGTH_DELIMITED),
  version: fieldTag(4, VARINT),
  createRevision: fieldTag(5, VARINT),
  modRevision: fieldTag(6, VARINT),
  value: fieldTag(7, LENGTH_DELIMITED),
  lease: fieldTag(8, VARINT),
  rangeEnd: fieldTag(64, LENGTH_DELIMITED),
} as const;

type CompareOperand = Pick<Compare, 'version' | 'createRevision' | 'modRevision' | 'value' | 'lease'>;

const NO_OPERAND: CompareOperand = {
  version: 0,
  createRevision: 0,
  modRevision: 0,
  value: EMPTY_BYTES,
  lease: 0n,
};

function readCompare(reader: ProtoReader): Compare {
  let result: CompareResult = 'EQUAL';
  let target: CompareTarget = 'VERSION';
  let key = EMPTY_BYTES;
  let rangeEnd = EMPTY_BYTES;
  // target_union is a oneof: the last member on the wire wins and clears the others.
  let operand = NO_OPERAND;
  while (!reader.done()) {
    const tag = reader.tag();
    if (tag === COMPARE.result) result = readEnum(reader, COMPARE_RESULTS, 'Compare.result');
    else if (tag === COMPARE.target) target = readEnum(reader, COMPARE_TARGETS, 'Compare.target');
    else if (tag === COMPARE.key) key = reader.bytes();
    else if (tag === COMPARE.version) operand = { ...NO_OPERAND, version: reader.int64() };
    else if (tag === COMPARE.createRevision) operand = { ...NO_OPERAND, createRevision: reader.int64() };
    else if (tag === COMPARE.modRevision) operand = { ...NO_OPERAND, modRevision: reader.int64() };
    else if (tag === COMPARE.value) operand = { ...NO_OPERAND, value: reader.bytes() };
    else if (tag === COMPARE.lease) operand = { ...NO_OPERAND, lease: reader.int64BigInt() };
    else if (tag === COMPARE.rangeEnd) rangeEnd = reader.bytes();
    else reader.skip(tag);
  }
  return { result, target, key, rangeEnd, ...operand };
}

/** Writes the operand `target` names, present even when zero: a oneof member's presence is its meaning. */
function writeCompareFields(writer: ProtoWriter, compare: Compare): void {
  writer.enumField(1, enumNumber(COMPARE_RESULT_NUMBERS, compare.result, 'Compare.result'));
  writer.enumField(2, enumNumber(COMPARE_TARGET_NUMBERS, compare.target, 'Compare.target'));
  writer.bytesField(3, compare.key);
  switch (compare.target) {
    case 'VERSION':
      writer.int64FieldAlways(4, compare.version);
      break;
    case 'CREATE':
      writer.int64FieldAlways(5, compare.createRevision);
      break;
    case 'MOD':
      writer.int64FieldAlways(6, compare.modRevision);
      break;
    case 'VALUE':
      writer.bytesFieldAlways(7, compare.value);
      break;
    case 'LEASE':
      writer.int64BigIntFieldAlways(8, compare.lease);
      break;
  }
  writer.bytesField(64, compare.rangeEnd);
}

// ---- RequestOp / ResponseOp (oneofs) ----

const OPERATION = {
  range: fieldTag(1, LENGTH_DELIMITED),
  put: fieldTag(2, LENGTH_DELIMITED),
  deleteRange: fieldTag(3, LENGTH_DELIMITED),
  txn: fieldTag(4, LENGTH_DELIMITED),
} as const;

function readRequestOp(reader: ProtoReader): RequestOp {
  let op: RequestOp | undefined;
  const at = reader.offset;
  while (!reader.done()) {
    const tag = reader.tag();
    if (tag === OPERATION.range) op = { kind: 'range', request: readRangeRequest(reader.message()) };
    else if (tag === OPERATION.put) op = { kind: 'put', request: readPutRequest(reader.message()) };
    else if (tag === OPERATION.deleteRange) {
      op = { kind: 'deleteRange', request: readDeleteRangeRequest(reader.message()) };
    } else if (tag === OPERATION.txn) op = { kind: 'txn', request: readTxnRequest(reader.message()) };
    else reader.skip(tag);
  }
  if (op === undefined) throw new ProtoDecodeError('RequestOp holds no operation', at);
  return op;
}

function writeRequestOpFields(writer: ProtoWriter, op: RequestOp): void {
  switch (op.kind) {
    case 'range':
      writeEmbedded(writer, 1, () => writeRangeRequestFields(writer, op.request));
      break;
    case 'put':
      writeEmbedded(writer, 2, () => writePutRequestFields(writer, op.request));
      break;
    case 'deleteRange':
      writeEmbedded(writer, 3, () => writeDeleteRangeRequestFields(writer, op.request));
      break;
    case 'txn':
      writeEmbedded(writer, 4, () => writeTxnRequestFields(writer, op.request));
      break;
  }
}

function readResponseOp(reader: ProtoReader): ResponseOp {
  let op: ResponseOp | undefined;
  const at = reader.offset;
  while (!reader.done()) {
    const tag = reader.tag();
    if (tag === OPERATION.range)
      op = { kind: 'range', response: withoutHeader(readRangeResponse(reader.message())) };
    else if (tag === OPERATION.put)
      op = { kind: 'put', response: withoutHeader(readPutResponse(reader.message())) };
    else if (tag === OPERATION.deleteRange) {
      op = { kind: 'deleteRange', response: withoutHeader(readDeleteRangeResponse(reader.message())) };
    } else if (tag === OPERATION.txn) {
      op = { kind: 'txn', response: withoutHeader(readTxnResponse(reader.message())) };
    } else reader.skip(tag);
  }
  if (op === undefined) throw new ProtoDecodeError('ResponseOp holds no response', at);
  return op;
}

/** Nested responses are written without a header (see TxnResponseMessage). */
function writeResponseOpFields(writer: ProtoWriter, op: ResponseOp): void {
  switch (op.kind) {
    case 'range':
      writeEmbedded(writer, 1, () => writeRangeResponseFields(writer, { ...op.response, header: undefined }));
      break;
    case 'put':
      writeEmbedded(writer, 2, () => writePutResponseFields(writer, { ...op.response, header: undefined }));
      break;
    case 'deleteRange':
      writeEmbedded(writer, 3, () =>
        writeDeleteRangeResponseFields(writer, { ...op.response, header: undefined }),
      );
      break;
    case 'txn':
      writeEmbedded(writer, 4, () => writeTxnResponseFields(writer, { ...op.response, header: undefined }));
      break;
  }
}

function writeEmbedded(writer: ProtoWriter, fieldNumber: number, writeFields: () => void): void {
  const start = writer.beginMessage(fieldNumber);
  writeFields();
  writer.endMessage(start);
}

function withoutHeader<T extends { readonly header: ResponseHeader | undefined }>(
  message: T,
): Omit<T, 'header'> {
  const { header: _header, ...rest } = message;
  return rest;
}

// ---- TxnRequest / TxnResponse ----

const TXN_REQUEST = {
  compare: fieldTag(1, LENGTH_DELIMITED),
  success: fieldTag(2, LENGTH_DELIMITED),
  failure: fieldTag(3, LENGTH_DELIMITED),
} as const;

function readTxnRequest(reader: ProtoReader): TxnRequest {
  const compare: Compare[] = [];
  const success: RequestOp[] = [];
  const failure: RequestOp[] = [];
  while (!reader.done()) {
    const tag = reader.tag();
    if (tag === TXN_REQUEST.compare) compare.push(readCompare(reader.message()));
    else if (tag === TXN_REQUEST.success) success.push(readRequestOp(reader.message()));
    else if (tag === TXN_REQUEST.failure) failure.push(readRequestOp(reader.message()));
    else reader.skip(tag);
  }
  return { compare, success, failure };
}

function writeTxnRequestFields(writer: ProtoWriter, request: TxnRequest): void {
  for (const compare of request.compare) writeEmbedded(writer, 1, () => writeCompareFields(writer, compare));
  for (const op of request.success) writeEmbedded(writer, 2, () => writeRequestOpFields(writer, op));
  for (const op of request.failure) writeEmbedded(writer, 3, () => writeRequestOpFields(writer, op));
}

const TXN_RESPONSE = {
  header: fieldTag(1, LENGTH_DELIMITED),
  succeeded: fieldTag(2, VARINT),
  responses: fieldTag(3, LENGTH_DELIMITED),
} as const;

function readTxnResponse(reader: ProtoReader): TxnResponseMessage {
  let header: ResponseHeader | undefined;
  let succeeded = false;
  const responses: ResponseOp[] = [];
  while (!reader.done()) {
    const tag = reader.tag();
    if (tag === TXN_RESPONSE.header) header = readHeader(reader.message());
    else if (tag === TXN_RESPONSE.succeeded) succeeded = reader.bool();
    else if (tag === TXN_RESPONSE.responses) responses.push(readResponseOp(reader.message()));
    else reader.skip(tag);
  }
  return { header, succeeded, responses };
}

function writeTxnResponseFields(writer: ProtoWriter, response: TxnResponseMessage): void {
  writeHeader(writer, 1, response.header);
  writer.boolField(2, response.succeeded);
  for (const op of response.responses) writeEmbedded(writer, 3, () => writeResponseOpFields(writer, op));
}

// ---- CompactionRequest / CompactionResponse ----

const COMPACTION_REQUEST = { revision: fieldTag(1, VARINT), physical: fieldTag(2, VARINT) } as const;

function readCompactionRequest(reader: ProtoReader): CompactionRequest {
  let revision = 0;
  let physical = false;
  while (!reader.done()) {
    const tag = reader.tag();
    if (tag === COMPACTION_REQUEST.revision) revision = reader.int64();
    else if (tag === COMPACTION_REQUEST.physical) physical = reader.bool();
    else reader.skip(tag);
  }
  return { revision, physical };
}

/** Responses whose only field is the header (CompactionResponse and friends). */
/** A response that carries only etcd's header (Compact, Defragment, Unlock, …). */
export interface HeaderOnlyResponse {
  readonly header: ResponseHeader | undefined;
}

function readHeaderOnly(reader: ProtoReader): HeaderOnlyResponse {
  let header: ResponseHeader | undefined;
  while (!reader.done()) {
    const tag = reader.tag();
    if (tag === fieldTag(1, LENGTH_DELIMITED)) header = readHeader(reader.message());
    else reader.skip(tag);
  }
  return { header };
}

// ---- Maintenance: StatusRequest / StatusResponse ----

const STATUS_RESPONSE = {
  header: fieldTag(1, LENGTH_DELIMITED),
  version: fieldTag(2, LENGTH_DELIMITED),
  dbSize: fieldTag(3, VARINT),
  leader: fieldTag(4, VARINT),
  raftIndex: fieldTag(5, VARINT),
  raftTerm: fieldTag(6, VARINT),
  raftAppliedIndex: fieldTag(7, VARINT),
  errors: fieldTag(8, LENGTH_DELIMITED),
  dbSizeInUse: fieldTag(9, VARINT),
  isLearner: fieldTag(10, VARINT),
} as const;

function readStatusResponse(reader: ProtoReader): StatusResponse {
  let header: ResponseHeader | undefined;
  let version = '';
  let dbSize = 0;
  let leader = 0n;
  let raftIndex = 0;
  let raftTerm = 0;
  let raftAppliedIndex = 0;
  const errors: string[] = [];
  let dbSizeInUse = 0;
  let isLearner = false;
  while (!reader.done()) {
    const tag = reader.tag();
    if (tag === STATUS_RESPONSE.header) header = readHeader(reader.message());
    else if (tag === STATUS_RESPONSE.version) version = reader.string();
    else if (tag === STATUS_RESPONSE.dbSize) dbSize = reader.int64();
    else if (tag === STATUS_RESPONSE.leader) leader = reader.uint64BigInt();
    else if (tag === STATUS_RESPONSE.raftIndex) raftIndex = reader.uint64();
    else if (tag === STATUS_RESPONSE.raftTerm) raftTerm = reader.uint64();
    else if (tag === STATUS_RESPONSE.raftAppliedIndex) raftAppliedIndex = reader.uint64();
    else if (tag === STATUS_RESPONSE.errors) errors.push(reader.string());
    else if (tag === STATUS_RESPONSE.dbSizeInUse) dbSizeInUse = reader.int64();
    else if (tag === STATUS_RESPONSE.isLearner) isLearner = reader.bool();
    else reader.skip(tag);
  }
  return {
    header,
    version,
    dbSize,
    leader,
    raftIndex,
    raftTerm,
    raftAppliedIndex,
    errors,
    dbSizeInUse,
    isLearner,
  };
}

function writeStatusResponseFields(writer: ProtoWriter, response: StatusResponse): void {
  writeHeader(writer, 1, response.header);
  writer.stringField(2, response.version);
  writer.int64Field(3, response.dbSize);
  writer.uint64BigIntField(4, response.leader);
  writer.uint64Field(5, response.raftIndex);
  writer.uint64Field(6, response.raftTerm);
  writer.uint64Field(7, response.raftAppliedIndex);
  for (const error of response.errors) writer.stringFieldAlways(8, error);
  writer.int64Field(9, response.dbSizeInUse);
  writer.boolField(10, response.isLearner);
}

// ---- Cluster: Member, MemberListRequest / MemberListResponse ----

const MEMBER = {
  id: fieldTag(1, VARINT),
  name: fieldTag(2, LENGTH_DELIMITED),
  peerURLs: fieldTag(3, LENGTH_DELIMITED),
  clientURLs: fieldTag(4, LENGTH_DELIMITED),
  isLearner: fieldTag(5, VARINT),
} as const;

function readMember(reader: ProtoReader): Member {
  let id = 0n;
  let name = '';
  const peerURLs: string[] = [];
  const clientURLs: string[] = [];
  let isLearner = false;
  while (!reader.done()) {
    const tag = reader.tag();
    if (tag === MEMBER.id) id = reader.uint64BigInt();
    else if (tag === MEMBER.name) name = reader.string();
    else if (tag === MEMBER.peerURLs) peerURLs.push(reader.string());
    else if (tag === MEMBER.clientURLs) clientURLs.push(reader.string());
    else if (tag === MEMBER.isLearner) isLearner = reader.bool();
    else reader.skip(tag);
  }
  return { id, name, peerURLs, clientURLs, isLearner };
}

function writeMemberFields(writer: ProtoWriter, member: Member): void {
  writer.uint64BigIntField(1, member.id);
  writer.stringField(2, member.name);
  for (const url of member.peerURLs) writer.stringFieldAlways(3, url);
  for (const url of member.clientURLs) writer.stringFieldAlways(4, url);
  writer.boolField(5, member.isLearner);
}

function readMemberListRequest(reader: ProtoReader): MemberListRequest {
  let linearizable = false;
  while (!reader.done()) {
    const tag = reader.tag();
    if (tag === fieldTag(1, VARINT)) linearizable = reader.bool();
    else reader.skip(tag);
  }
  return { linearizable };
}

function readMemberListResponse(reader: ProtoReader): MemberListResponse {
  let header: ResponseHeader | undefined;
  const members: Member[] = [];
  while (!reader.done()) {
    const tag = reader.tag();
    if (tag === fieldTag(1, LENGTH_DELIMITED)) header = readHeader(reader.message());
    else if (tag === fieldTag(2, LENGTH_DELIMITED)) members.push(readMember(reader.message()));
    else reader.skip(tag);
  }
  return { header, members };
}

function readEmpty(reader: ProtoReader): StatusRequest {
  while (!reader.done()) reader.skip(reader.tag());
  return {};
}

// ---- public entry points: bytes in, values out, and back ----

export const decodeResponseHeader = decodeWith(readHeader);
export const encodeResponseHeader = encodeWith<ResponseHeader>((writer, header) => {
  writer.uint64BigIntField(1, header.clusterId);
  writer.uint64BigIntField(2, header.memberId);
  writer.int64Field(3, header.revision);
  writer.uint64Field(4, header.raftTerm);
});
export const decodeKeyValue = decodeWith(readKeyValue);
export const encodeKeyValue = encodeWith(writeKeyValueFields);
export const decodeEvent = decodeWith(readEvent);
export const encodeEvent = encodeWith(writeEventFields);
export const decodeRangeRequest = decodeWith(readRangeRequest);
export const encodeRangeRequest = encodeWith(writeRangeRequestFields);
export const decodeRangeResponse = decodeWith(readRangeResponse);
export const encodeRangeResponse = encodeWith(writeRangeResponseFields);
export const decodePutRequest = decodeWith(readPutRequest);
export const encodePutRequest = encodeWith(writePutRequestFields);
export const decodePutResponse = decodeWith(readPutResponse);
export const encodePutResponse = encodeWith(writePutResponseFields);
export const decodeDeleteRangeRequest = decodeWith(readDeleteRangeRequest);
export const encodeDeleteRangeRequest = encodeWith(writeDeleteRangeRequestFields);
export const decodeDeleteRangeResponse = decodeWith(readDeleteRangeResponse);
export const encodeDeleteRangeResponse = encodeWith(writeDeleteRangeResponseFields);
export const decodeCompare = decodeWith(readCompare);
export const encodeCompare = encodeWith(writeCompareFields);
export const decodeRequestOp = decodeWith(readRequestOp);
export const encodeRequestOp = encodeWith(writeRequestOpFields);
export const decodeResponseOp = decodeWith(readResponseOp);
export const encodeResponseOp = encodeWith(writeResponseOpFields);
export const decodeTxnRequest = decodeWith(readTxnRequest);
export const encodeTxnRequest = encodeWith(writeTxnRequestFields);
export const decodeTxnResponse = decodeWith(readTxnResponse);
export const encodeTxnResponse = encodeWith(writeTxnResponseFields);
export const decodeCompactionRequest = decodeWith(readCompactionRequest);
export const encodeCompactionRequest = encodeWith<CompactionRequest>((writer, request) => {
  writer.int64Field(1, request.revision);
  writer.boolField(2, request.physical);
});
/** Writes a response's header as field 1, where every etcd response has it. */
export function writeResponseHeaderField(writer: ProtoWriter, header: ResponseHeader | undefined): void {
  writeHeader(writer, 1, header);
}

export const decodeHeaderOnlyResponse = decodeWith<HeaderOnlyResponse>(readHeaderOnly);
export const encodeHeaderOnlyResponse = encodeWith<HeaderOnlyResponse>((writer, response) =>
  writeResponseHeaderField(writer, response.header),
);
export const decodeCompactionResponse = decodeWith<CompactionResponse>(readHeaderOnly);
export const encodeCompactionResponse = encodeWith<CompactionResponse>((writer, response) =>
  writeHeader(writer, 1, response.header),
);
export const decodeStatusRequest = decodeWith(readEmpty);
export const encodeStatusRequest = (_request: StatusRequest): Uint8Array => EMPTY_BYTES;
export const decodeStatusResponse = decodeWith(readStatusResponse);
export const encodeStatusResponse = encodeWith(writeStatusResponseFields);
export const decodeMember = decodeWith(readMember);
export const encodeMember = encodeWith(writeMemberFields);
export const decodeMemberListRequest = decodeWith(readMemberListRequest);
export const encodeMemberListRequest = encodeWith<MemberListRequest>((writer, request) =>
  writer.boolField(1, request.linearizable),
);
export const decodeMemberListResponse = decodeWith(readMemberListResponse);
export const encodeMemberListResponse = encodeWith<MemberListResponse>((writer, response) => {
  writeHeader(writer, 1, response.header);
  for (const member of response.members) writeEmbedded(writer, 2, () => writeMemberFields(writer, member));
});

/**
 * etcd decodes an unknown sort order or target (proto3 enums are open) and then refuses it with its
 * own message (checkRangeRequest, also for ranges inside a Txn); clients see that, not a decode error.
 */
function withEtcdSortOptionError<T>(decode: (bytes: Uint8Array) => T): (bytes: Uint8Array) => T {
  return (bytes) => {
    try {
      return decode(bytes);
    } catch (error) {
      if (error instanceof UnknownEnumValueError && error.field.startsWith('RangeRequest.sort_')) {
        throw new GrpcError(GrpcStatus.INVALID_ARGUMENT, ETCD_ERRORS.invalidSortOption.message);
      }
      throw error;
    }
  };
}

/** The codecs of the etcd methods served so far, in the shape `unary()` takes. */
export const ETCD_METHOD_CODECS = {
  KV: {
    Range: { decode: withEtcdSortOptionError(decodeRangeRequest), encode: encodeRangeResponse },
    Put: { decode: decodePutRequest, encode: encodePutResponse },
    DeleteRange: { decode: decodeDeleteRangeRequest, encode: encodeDeleteRangeResponse },
    Txn: { decode: withEtcdSortOptionError(decodeTxnRequest), encode: encodeTxnResponse },
    Compact: { decode: decodeCompactionRequest, encode: encodeCompactionResponse },
  },
  Maintenance: {
    Status: { decode: decodeStatusRequest, encode: encodeStatusResponse },
  },
  Cluster: {
    MemberList: { decode: decodeMemberListRequest, encode: encodeMemberListResponse },
  },
} as const;
