// Encoders and decoders for etcd's Maintenance and Cluster messages (admin.proto beside this file),
// in the style of ../proto/messages.ts: encoders leave proto3 defaults out, as Go does (embedded
// messages are written whenever present); decoders give absent fields their defaults, skip unknown
// fields, and throw ProtoDecodeError on malformed input. Status, Member and MemberList reuse the
// codecs of ../proto/messages.ts, so both modules put the same bytes on the wire.
import type { ResponseHeader } from '@synod/state';
import {
  decodeHeaderOnlyResponse,
  decodeMember,
  decodeMemberListRequest,
  decodeMemberListResponse,
  decodeResponseHeader,
  decodeStatusRequest,
  decodeStatusResponse,
  encodeHeaderOnlyResponse,
  encodeMember,
  encodeMemberListResponse,
  encodeStatusResponse,
  type HeaderOnlyResponse,
  writeResponseHeaderField,
} from '../proto/messages.js';
import type { Member } from '../proto/types.js';
import {
  decodeWith,
  encodeWith,
  fieldTag,
  type ProtoReader,
  type ProtoWriter,
  UnknownEnumValueError,
  WireType,
} from '../proto/wire.js';

export { decodeHeaderOnlyResponse, encodeHeaderOnlyResponse, type HeaderOnlyResponse };

const VARINT = WireType.VARINT;
const LENGTH_DELIMITED = WireType.LENGTH_DELIMITED;
const EMPTY_BYTES: Uint8Array = new Uint8Array(0);
const HEADER_FIELD = fieldTag(1, LENGTH_DELIMITED);

/** etcdserverpb.AlarmType; NONE in a request means "any alarm". */
export type AlarmType = 'NONE' | 'NOSPACE' | 'CORRUPT';
export type AlarmAction = 'GET' | 'ACTIVATE' | 'DEACTIVATE';
const ALARM_TYPES: readonly AlarmType[] = ['NONE', 'NOSPACE', 'CORRUPT'];
const ALARM_ACTIONS: readonly AlarmAction[] = ['GET', 'ACTIVATE', 'DEACTIVATE'];

export interface AlarmRequest {
  readonly action: AlarmAction;
  /** 0n: every member (GET). */
  readonly memberId: bigint;
  readonly alarm: AlarmType;
}

export interface AlarmMember {
  readonly memberId: bigint;
  readonly alarm: AlarmType;
}

export interface AlarmResponse {
  readonly header: ResponseHeader | undefined;
  readonly alarms: readonly AlarmMember[];
}

/** Responses whose only field is the header (Defragment, MoveLeader). */

/** Requests without fields (Defragment, Hash, Snapshot, Status). */
export type EmptyRequest = Readonly<Record<string, never>>;

export interface HashResponse {
  readonly header: ResponseHeader | undefined;
  /** uint32 */
  readonly hash: number;
}

export interface HashKvRequest {
  /** 0: the current revision. */
  readonly revision: number;
}

export interface HashKvResponse {
  readonly header: ResponseHeader | undefined;
  /** uint32 */
  readonly hash: number;
  /** The store's last compaction (-1 when never compacted): compare hashes only when equal. */
  readonly compactRevision: number;
}

export interface SnapshotResponse {
  /** Sent on the first chunk only. */
  readonly header: ResponseHeader | undefined;
  /** Bytes still to come after this chunk (0 on the last data chunk and on the digest). */
  readonly remainingBytes: number;
  readonly blob: Uint8Array;
}

export interface MoveLeaderRequest {
  readonly targetId: bigint;
}

export interface MemberAddRequest {
  readonly peerURLs: readonly string[];
  readonly isLearner: boolean;
}

export interface MemberAddResponse {
  readonly header: ResponseHeader | undefined;
  readonly member: Member | undefined;
  readonly members: readonly Member[];
}

/** MemberRemove and MemberPromote name one member. */
export interface MemberIdRequest {
  readonly id: bigint;
}

export interface MemberUpdateRequest {
  readonly id: bigint;
  readonly peerURLs: readonly string[];
}

/** MemberRemove, MemberUpdate and MemberPromote answer with the member list after the change. */
export interface MembersResponse {
  readonly header: ResponseHeader | undefined;
  readonly members: readonly Member[];
}

// ---- shared pieces ----

function readEnum<Name extends string>(reader: ProtoReader, names: readonly Name[], field: string): Name {
  const at = reader.offset;
  const value = reader.enumValue();
  const name = names[value];
  if (name === undefined) throw new UnknownEnumValueError(field, value, at);
  return name;
}

function enumNumber<Name extends string>(names: readonly Name[], name: Name): number {
  const number = names.indexOf(name);
  if (number < 0) throw new TypeError(`${JSON.stringify(name)} is not one of ${names.join(', ')}`);
  return number;
}

function writeMembers(writer: ProtoWriter, fieldNumber: number, members: readonly Member[]): void {
  for (const member of members) writer.bytesFieldAlways(fieldNumber, encodeMember(member));
}

// ---- Alarm ----

const ALARM_REQUEST = {
  action: fieldTag(1, VARINT),
  memberId: fieldTag(2, VARINT),
  alarm: fieldTag(3, VARINT),
} as const;

function readAlarmRequest(reader: ProtoReader): AlarmRequest {
  let action: AlarmAction = 'GET';
  let memberId = 0n;
  let alarm: AlarmType = 'NONE';
  while (!reader.done()) {
    const tag = reader.tag();
    if (tag === ALARM_REQUEST.action) action = readEnum(reader, ALARM_ACTIONS, 'AlarmRequest.action');
    else if (tag === ALARM_REQUEST.memberId) memberId = reader.uint64BigInt();
    else if (tag === ALARM_REQUEST.alarm) alarm = readEnum(reader, ALARM_TYPES, 'AlarmRequest.alarm');
    else reader.skip(tag);
  }
  return { action, memberId, alarm };
}

function readAlarmMember(reader: ProtoReader): AlarmMember {
  let memberId = 0n;
  let alarm: AlarmType = 'NONE';
  while (!reader.done()) {
    const tag = reader.tag();
    if (tag === fieldTag(1, VARINT)) memberId = reader.uint64BigInt();
    else if (tag === fieldTag(2, VARINT)) alarm = readEnum(reader, ALARM_TYPES, 'AlarmMember.alarm');
    else reader.skip(tag);
  }
  return { memberId, alarm };
}

function readAlarmResponse(reader: ProtoReader): AlarmResponse {
  let header: ResponseHeader | undefined;
  const alarms: AlarmMember[] = [];
  while (!reader.done()) {
    const tag = reader.tag();
    if (tag === HEADER_FIELD) header = decodeResponseHeader(reader.bytes());
    else if (tag === fieldTag(2, LENGTH_DELIMITED)) alarms.push(readAlarmMember(reader.message()));
    else reader.skip(tag);
  }
  return { header, alarms };
}

function writeAlarmResponse(writer: ProtoWriter, response: AlarmResponse): void {
  writeResponseHeaderField(writer, response.header);
  for (const alarm of response.alarms) {
    const start = writer.beginMessage(2);
    writer.uint64BigIntField(1, alarm.memberId);
    writer.enumField(2, enumNumber(ALARM_TYPES, alarm.alarm));
    writer.endMessage(start);
  }
}

// ---- Hash, HashKV ----

function readHashResponse(reader: ProtoReader): HashResponse {
  let header: ResponseHeader | undefined;
  let hash = 0;
  while (!reader.done()) {
    const tag = reader.tag();
    if (tag === HEADER_FIELD) header = decodeResponseHeader(reader.bytes());
    else if (tag === fieldTag(2, VARINT)) hash = reader.uint32();
    else reader.skip(tag);
  }
  return { header, hash };
}

function readHashKvRequest(reader: ProtoReader): HashKvRequest {
  let revision = 0;
  while (!reader.done()) {
    const tag = reader.tag();
    if (tag === fieldTag(1, VARINT)) revision = reader.int64();
    else reader.skip(tag);
  }
  return { revision };
}

function readHashKvResponse(reader: ProtoReader): HashKvResponse {
  let header: ResponseHeader | undefined;
  let hash = 0;
  let compactRevision = 0;
  while (!reader.done()) {
    const tag = reader.tag();
    if (tag === HEADER_FIELD) header = decodeResponseHeader(reader.bytes());
    else if (tag === fieldTag(2, VARINT)) hash = reader.uint32();
    else if (tag === fieldTag(3, VARINT)) compactRevision = reader.int64();
    else reader.skip(tag);
  }
  return { header, hash, compactRevision };
}

// ---- Snapshot ----

function readSnapshotResponse(reader: ProtoReader): SnapshotResponse {
  let header: ResponseHeader | undefined;
  let remainingBytes = 0;
  let blob = EMPTY_BYTES;
  while (!reader.done()) {
    const tag = reader.tag();
    if (tag === HEADER_FIELD) header = decodeResponseHeader(reader.bytes());
    else if (tag === fieldTag(2, VARINT)) remainingBytes = reader.uint64();
    else if (tag === fieldTag(3, LENGTH_DELIMITED)) blob = reader.bytes();
    else reader.skip(tag);
  }
  return { header, remainingBytes, blob };
}

// ---- MoveLeader and the Cluster requests naming a member ----

function readIdRequest(reader: ProtoReader): MemberIdRequest {
  let id = 0n;
  while (!reader.done()) {
    const tag = reader.tag();
    if (tag === fieldTag(1, VARINT)) id = reader.uint64BigInt();
    else reader.skip(tag);
  }
  return { id };
}

function readMemberAddRequest(reader: ProtoReader): MemberAddRequest {
  const peerURLs: string[] = [];
  let isLearner = false;
  while (!reader.done()) {
    const tag = reader.tag();
    if (tag === fieldTag(1, LENGTH_DELIMITED)) peerURLs.push(reader.string());
    else if (tag === fieldTag(2, VARINT)) isLearner = reader.bool();
    else reader.skip(tag);
  }
  return { peerURLs, isLearner };
}

function readMemberAddResponse(reader: ProtoReader): MemberAddResponse {
  let header: ResponseHeader | undefined;
  let member: Member | undefined;
  const members: Member[] = [];
  while (!reader.done()) {
    const tag = reader.tag();
    if (tag === HEADER_FIELD) header = decodeResponseHeader(reader.bytes());
    else if (tag === fieldTag(2, LENGTH_DELIMITED)) member = decodeMember(reader.bytes());
    else if (tag === fieldTag(3, LENGTH_DELIMITED)) members.push(decodeMember(reader.bytes()));
    else reader.skip(tag);
  }
  return { header, member, members };
}

function readMemberUpdateRequest(reader: ProtoReader): MemberUpdateRequest {
  let id = 0n;
  const peerURLs: string[] = [];
  while (!reader.done()) {
    const tag = reader.tag();
    if (tag === fieldTag(1, VARINT)) id = reader.uint64BigInt();
    else if (tag === fieldTag(2, LENGTH_DELIMITED)) peerURLs.push(reader.string());
    else reader.skip(tag);
  }
  return { id, peerURLs };
}

// ---- public entry points ----

export const decodeAlarmRequest = decodeWith(readAlarmRequest);
export const encodeAlarmRequest = encodeWith<AlarmRequest>((writer, request) => {
  writer.enumField(1, enumNumber(ALARM_ACTIONS, request.action));
  writer.uint64BigIntField(2, request.memberId);
  writer.enumField(3, enumNumber(ALARM_TYPES, request.alarm));
});
export const decodeAlarmResponse = decodeWith(readAlarmResponse);
export const encodeAlarmResponse = encodeWith(writeAlarmResponse);

const decodeEmpty = decodeStatusRequest as (bytes: Uint8Array) => EmptyRequest;

export const decodeHashResponse = decodeWith(readHashResponse);
export const encodeHashResponse = encodeWith<HashResponse>((writer, response) => {
  writeResponseHeaderField(writer, response.header);
  writer.uint64Field(2, response.hash);
});
export const decodeHashKvRequest = decodeWith(readHashKvRequest);
export const encodeHashKvRequest = encodeWith<HashKvRequest>((writer, request) =>
  writer.int64Field(1, request.revision),
);
export const decodeHashKvResponse = decodeWith(readHashKvResponse);
export const encodeHashKvResponse = encodeWith<HashKvResponse>((writer, response) => {
  writeResponseHeaderField(writer, response.header);
  writer.uint64Field(2, response.hash);
  writer.int64Field(3, response.compactRevision);
});

export const decodeSnapshotResponse = decodeWith(readSnapshotResponse);
export const encodeSnapshotResponse = encodeWith<SnapshotResponse>((writer, response) => {
  writeResponseHeaderField(writer, response.header);
  writer.uint64Field(2, response.remainingBytes);
  writer.bytesField(3, response.blob);
});

export const decodeMoveLeaderRequest = decodeWith((reader) => ({ targetId: readIdRequest(reader).id }));
export const encodeMoveLeaderRequest = encodeWith<MoveLeaderRequest>((writer, request) =>
  writer.uint64BigIntField(1, request.targetId),
);

export const decodeMemberAddRequest = decodeWith(readMemberAddRequest);
export const encodeMemberAddRequest = encodeWith<MemberAddRequest>((writer, request) => {
  for (const url of request.peerURLs) writer.stringFieldAlways(1, url);
  writer.boolField(2, request.isLearner);
});
export const decodeMemberAddResponse = decodeWith(readMemberAddResponse);
export const encodeMemberAddResponse = encodeWith<MemberAddResponse>((writer, response) => {
  writeResponseHeaderField(writer, response.header);
  if (response.member !== undefined) writer.bytesFieldAlways(2, encodeMember(response.member));
  writeMembers(writer, 3, response.members);
});
export const decodeMemberIdRequest = decodeWith(readIdRequest);
export const encodeMemberIdRequest = encodeWith<MemberIdRequest>((writer, request) =>
  writer.uint64BigIntField(1, request.id),
);
export const decodeMemberUpdateRequest = decodeWith(readMemberUpdateRequest);
export const encodeMemberUpdateRequest = encodeWith<MemberUpdateRequest>((writer, request) => {
  writer.uint64BigIntField(1, request.id);
  for (const url of request.peerURLs) writer.stringFieldAlways(2, url);
});
/** MemberRemove, MemberUpdate and MemberPromote responses have MemberListResponse's shape. */
export const decodeMembersResponse = decodeMemberListResponse as (bytes: Uint8Array) => MembersResponse;
export const encodeMembersResponse = encodeMemberListResponse as (response: MembersResponse) => Uint8Array;

/** The codecs of the Maintenance and Cluster methods, in the shape `unary()`/`serverStreaming()` take. */
export const ADMIN_METHOD_CODECS = {
  Maintenance: {
    Alarm: { decode: decodeAlarmRequest, encode: encodeAlarmResponse },
    Status: { decode: decodeEmpty, encode: encodeStatusResponse },
    Defragment: { decode: decodeEmpty, encode: encodeHeaderOnlyResponse },
    Hash: { decode: decodeEmpty, encode: encodeHashResponse },
    HashKV: { decode: decodeHashKvRequest, encode: encodeHashKvResponse },
    Snapshot: { decode: decodeEmpty, encode: encodeSnapshotResponse },
    MoveLeader: { decode: decodeMoveLeaderRequest, encode: encodeHeaderOnlyResponse },
  },
  Cluster: {
    MemberAdd: { decode: decodeMemberAddRequest, encode: encodeMemberAddResponse },
    MemberRemove: { decode: decodeMemberIdRequest, encode: encodeMembersResponse },
    MemberUpdate: { decode: decodeMemberUpdateRequest, encode: encodeMembersResponse },
    MemberList: { decode: decodeMemberListRequest, encode: encodeMemberListResponse },
    MemberPromote: { decode: decodeMemberIdRequest, encode: encodeMembersResponse },
  },
} as const;

export { decodeStatusResponse };
