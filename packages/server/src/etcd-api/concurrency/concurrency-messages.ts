// Encoders and decoders for etcd's Lock and Election messages (v3lock.proto and v3election.proto
// beside this file), in the style of ../proto/messages.ts: encoders leave proto3 defaults out, as
// Go does (an embedded header, key-value or leader key is written whenever present); decoders give
// absent fields their defaults, skip unknown fields, and throw ProtoDecodeError on malformed input.
// Lease ids are int64 across the whole range: bigint. Revisions stay below 2^53: number.
import type { KeyValue, ResponseHeader } from '@synod/state';
import {
  decodeHeaderOnlyResponse,
  decodeKeyValue,
  decodeResponseHeader,
  encodeHeaderOnlyResponse,
  encodeKeyValue,
  type HeaderOnlyResponse,
  writeResponseHeaderField,
} from '../proto/messages.js';
import {
  decodeWith,
  encodeWith,
  fieldTag,
  type ProtoReader,
  type ProtoWriter,
  WireType,
} from '../proto/wire.js';

export { decodeHeaderOnlyResponse, encodeHeaderOnlyResponse, type HeaderOnlyResponse };

const VARINT = WireType.VARINT;
const LENGTH_DELIMITED = WireType.LENGTH_DELIMITED;
const EMPTY_BYTES: Uint8Array = new Uint8Array(0);

export interface LockRequest {
  readonly name: Uint8Array;
  /** 0n: the server grants a lease (etcd's session default, 60 s) and never renews it. */
  readonly lease: bigint;
}

export interface LockResponse {
  readonly header: ResponseHeader | undefined;
  /** The ownership key, `name/<lease id in hex>`. */
  readonly key: Uint8Array;
}

export interface UnlockRequest {
  readonly key: Uint8Array;
}

export type UnlockResponse = HeaderOnlyResponse;

export interface CampaignRequest {
  readonly name: Uint8Array;
  readonly lease: bigint;
  readonly value: Uint8Array;
}

/** One term of leadership: the candidate key and its create revision (the fencing token). */
export interface LeaderKey {
  readonly name: Uint8Array;
  readonly key: Uint8Array;
  readonly rev: number;
  readonly lease: bigint;
}

export interface CampaignResponse {
  readonly header: ResponseHeader | undefined;
  readonly leader: LeaderKey | undefined;
}

export interface ProclaimRequest {
  /** undefined when the client left it out (etcd refuses that: `"leader" field must be provided`). */
  readonly leader: LeaderKey | undefined;
  readonly value: Uint8Array;
}

export type ProclaimResponse = HeaderOnlyResponse;

export interface LeaderRequest {
  readonly name: Uint8Array;
}

export interface LeaderResponse {
  readonly header: ResponseHeader | undefined;
  readonly kv: KeyValue | undefined;
}

export interface ResignRequest {
  readonly leader: LeaderKey | undefined;
}

export type ResignResponse = HeaderOnlyResponse;

// ---- shared pieces ----

const HEADER_FIELD = fieldTag(1, LENGTH_DELIMITED);

// ---- v3lockpb ----

const LOCK_REQUEST = { name: fieldTag(1, LENGTH_DELIMITED), lease: fieldTag(2, VARINT) } as const;

function readLockRequest(reader: ProtoReader): LockRequest {
  let name = EMPTY_BYTES;
  let lease = 0n;
  while (!reader.done()) {
    const tag = reader.tag();
    if (tag === LOCK_REQUEST.name) name = reader.bytes();
    else if (tag === LOCK_REQUEST.lease) lease = reader.int64BigInt();
    else reader.skip(tag);
  }
  return { name, lease };
}

function readLockResponse(reader: ProtoReader): LockResponse {
  let header: ResponseHeader | undefined;
  let key = EMPTY_BYTES;
  while (!reader.done()) {
    const tag = reader.tag();
    if (tag === HEADER_FIELD) header = decodeResponseHeader(reader.bytes());
    else if (tag === fieldTag(2, LENGTH_DELIMITED)) key = reader.bytes();
    else reader.skip(tag);
  }
  return { header, key };
}

/** UnlockRequest has one field, `key = 1`. */
function readKeyOnly(reader: ProtoReader): UnlockRequest {
  let key = EMPTY_BYTES;
  while (!reader.done()) {
    const tag = reader.tag();
    if (tag === fieldTag(1, LENGTH_DELIMITED)) key = reader.bytes();
    else reader.skip(tag);
  }
  return { key };
}

// ---- v3electionpb ----

const LEADER_KEY = {
  name: fieldTag(1, LENGTH_DELIMITED),
  key: fieldTag(2, LENGTH_DELIMITED),
  rev: fieldTag(3, VARINT),
  lease: fieldTag(4, VARINT),
} as const;

function readLeaderKey(reader: ProtoReader): LeaderKey {
  let name = EMPTY_BYTES;
  let key = EMPTY_BYTES;
  let rev = 0;
  let lease = 0n;
  while (!reader.done()) {
    const tag = reader.tag();
    if (tag === LEADER_KEY.name) name = reader.bytes();
    else if (tag === LEADER_KEY.key) key = reader.bytes();
    else if (tag === LEADER_KEY.rev) rev = reader.int64();
    else if (tag === LEADER_KEY.lease) lease = reader.int64BigInt();
    else reader.skip(tag);
  }
  return { name, key, rev, lease };
}

function writeLeaderKey(writer: ProtoWriter, fieldNumber: number, leader: LeaderKey | undefined): void {
  if (leader === undefined) return;
  const start = writer.beginMessage(fieldNumber);
  writer.bytesField(1, leader.name);
  writer.bytesField(2, leader.key);
  writer.int64Field(3, leader.rev);
  writer.int64BigIntField(4, leader.lease);
  writer.endMessage(start);
}

const CAMPAIGN_REQUEST = {
  name: fieldTag(1, LENGTH_DELIMITED),
  lease: fieldTag(2, VARINT),
  value: fieldTag(3, LENGTH_DELIMITED),
} as const;

function readCampaignRequest(reader: ProtoReader): CampaignRequest {
  let name = EMPTY_BYTES;
  let lease = 0n;
  let value = EMPTY_BYTES;
  while (!reader.done()) {
    const tag = reader.tag();
    if (tag === CAMPAIGN_REQUEST.name) name = reader.bytes();
    else if (tag === CAMPAIGN_REQUEST.lease) lease = reader.int64BigInt();
    else if (tag === CAMPAIGN_REQUEST.value) value = reader.bytes();
    else reader.skip(tag);
  }
  return { name, lease, value };
}

function readCampaignResponse(reader: ProtoReader): CampaignResponse {
  let header: ResponseHeader | undefined;
  let leader: LeaderKey | undefined;
  while (!reader.done()) {
    const tag = reader.tag();
    if (tag === HEADER_FIELD) header = decodeResponseHeader(reader.bytes());
    else if (tag === fieldTag(2, LENGTH_DELIMITED)) leader = readLeaderKey(reader.message());
    else reader.skip(tag);
  }
  return { header, leader };
}

function readProclaimRequest(reader: ProtoReader): ProclaimRequest {
  let leader: LeaderKey | undefined;
  let value = EMPTY_BYTES;
  while (!reader.done()) {
    const tag = reader.tag();
    if (tag === fieldTag(1, LENGTH_DELIMITED)) leader = readLeaderKey(reader.message());
    else if (tag === fieldTag(2, LENGTH_DELIMITED)) value = reader.bytes();
    else reader.skip(tag);
  }
  return { leader, value };
}

function readLeaderRequest(reader: ProtoReader): LeaderRequest {
  let name = EMPTY_BYTES;
  while (!reader.done()) {
    const tag = reader.tag();
    if (tag === fieldTag(1, LENGTH_DELIMITED)) name = reader.bytes();
    else reader.skip(tag);
  }
  return { name };
}

function readLeaderResponse(reader: ProtoReader): LeaderResponse {
  let header: ResponseHeader | undefined;
  let kv: KeyValue | undefined;
  while (!reader.done()) {
    const tag = reader.tag();
    if (tag === HEADER_FIELD) header = decodeResponseHeader(reader.bytes());
    else if (tag === fieldTag(2, LENGTH_DELIMITED)) kv = decodeKeyValue(reader.bytes());
    else reader.skip(tag);
  }
  return { header, kv };
}

function readResignRequest(reader: ProtoReader): ResignRequest {
  let leader: LeaderKey | undefined;
  while (!reader.done()) {
    const tag = reader.tag();
    if (tag === fieldTag(1, LENGTH_DELIMITED)) leader = readLeaderKey(reader.message());
    else reader.skip(tag);
  }
  return { leader };
}

// ---- public entry points ----

export const decodeLockRequest = decodeWith(readLockRequest);
export const encodeLockRequest = encodeWith<LockRequest>((writer, request) => {
  writer.bytesField(1, request.name);
  writer.int64BigIntField(2, request.lease);
});
export const decodeLockResponse = decodeWith(readLockResponse);
export const encodeLockResponse = encodeWith<LockResponse>((writer, response) => {
  writeResponseHeaderField(writer, response.header);
  writer.bytesField(2, response.key);
});
export const decodeUnlockRequest = decodeWith(readKeyOnly);
export const encodeUnlockRequest = encodeWith<UnlockRequest>((writer, request) =>
  writer.bytesField(1, request.key),
);
/** Unlock, Proclaim and Resign answer with a header only. */

export const decodeCampaignRequest = decodeWith(readCampaignRequest);
export const encodeCampaignRequest = encodeWith<CampaignRequest>((writer, request) => {
  writer.bytesField(1, request.name);
  writer.int64BigIntField(2, request.lease);
  writer.bytesField(3, request.value);
});
export const decodeCampaignResponse = decodeWith(readCampaignResponse);
export const encodeCampaignResponse = encodeWith<CampaignResponse>((writer, response) => {
  writeResponseHeaderField(writer, response.header);
  writeLeaderKey(writer, 2, response.leader);
});
export const decodeProclaimRequest = decodeWith(readProclaimRequest);
export const encodeProclaimRequest = encodeWith<ProclaimRequest>((writer, request) => {
  writeLeaderKey(writer, 1, request.leader);
  writer.bytesField(2, request.value);
});
export const decodeLeaderRequest = decodeWith(readLeaderRequest);
export const encodeLeaderRequest = encodeWith<LeaderRequest>((writer, request) =>
  writer.bytesField(1, request.name),
);
export const decodeLeaderResponse = decodeWith(readLeaderResponse);
export const encodeLeaderResponse = encodeWith<LeaderResponse>((writer, response) => {
  writeResponseHeaderField(writer, response.header);
  if (response.kv !== undefined) writer.bytesFieldAlways(2, encodeKeyValue(response.kv));
});
export const decodeResignRequest = decodeWith(readResignRequest);
export const encodeResignRequest = encodeWith<ResignRequest>((writer, request) =>
  writeLeaderKey(writer, 1, request.leader),
);

/** The codecs of the Lock and Election methods, in the shape `unary()`/`serverStreaming()` take. */
export const CONCURRENCY_METHOD_CODECS = {
  Lock: {
    Lock: { decode: decodeLockRequest, encode: encodeLockResponse },
    Unlock: { decode: decodeUnlockRequest, encode: encodeHeaderOnlyResponse },
  },
  Election: {
    Campaign: { decode: decodeCampaignRequest, encode: encodeCampaignResponse },
    Proclaim: { decode: decodeProclaimRequest, encode: encodeHeaderOnlyResponse },
    Leader: { decode: decodeLeaderRequest, encode: encodeLeaderResponse },
    Observe: { decode: decodeLeaderRequest, encode: encodeLeaderResponse },
    Resign: { decode: decodeResignRequest, encode: encodeHeaderOnlyResponse },
  },
} as const;
