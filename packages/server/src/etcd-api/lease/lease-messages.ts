// Encoders and decoders for etcd's Lease service messages (lease.proto beside this file), in the
// style of ../proto/messages.ts: encoders leave proto3 defaults out, as Go does (the header is
// always written); decoders give absent fields their defaults, skip unknown fields, and throw
// ProtoDecodeError on anything malformed. Lease ids are int64 across the whole range: bigint.
import type { ResponseHeader } from '@synod/state';
import { decodeResponseHeader, writeResponseHeaderField } from '../proto/messages.js';
import { encodeWith, fieldTag, ProtoReader, WireType } from '../proto/wire.js';

const VARINT = WireType.VARINT;
const LENGTH_DELIMITED = WireType.LENGTH_DELIMITED;

export interface LeaseGrantRequest {
  /** Seconds, as the client sent it (the store raises short TTLs and refuses long ones). */
  readonly ttl: number;
  /** 0n: the server picks the id. */
  readonly id: bigint;
}

export interface LeaseGrantResponse {
  readonly header: ResponseHeader | undefined;
  readonly id: bigint;
  readonly ttl: number;
  /** Always empty from etcd and from us: failures are gRPC statuses. */
  readonly error: string;
}

export interface LeaseRevokeRequest {
  readonly id: bigint;
}

export interface LeaseRevokeResponse {
  readonly header: ResponseHeader | undefined;
}

export interface LeaseKeepAliveRequest {
  readonly id: bigint;
}

export interface LeaseKeepAliveResponse {
  readonly header: ResponseHeader | undefined;
  readonly id: bigint;
  /** Renewed TTL in seconds; 0 when the lease does not exist. */
  readonly ttl: number;
}

export interface LeaseTimeToLiveRequest {
  readonly id: bigint;
  /** Also list the attached keys. */
  readonly keys: boolean;
}

export interface LeaseTimeToLiveResponse {
  readonly header: ResponseHeader | undefined;
  readonly id: bigint;
  /** Seconds left; -1 when the lease does not exist. */
  readonly ttl: number;
  readonly grantedTtl: number;
  readonly keys: readonly Uint8Array[];
}

/** LeaseLeases takes no arguments. */
export type LeaseLeasesRequest = Readonly<Record<string, never>>;

export interface LeaseLeasesResponse {
  readonly header: ResponseHeader | undefined;
  readonly leases: readonly { readonly id: bigint }[];
}

const HEADER = fieldTag(1, LENGTH_DELIMITED);
const EMPTY_BYTES: Uint8Array = new Uint8Array(0);

/**
 * A TTL as a number. The wire allows any int64; beyond ±2^53 the exact value does not matter
 * (far over etcd's maximum, or negative and raised to the minimum), so it is clamped rather than
 * refused as undecodable: the client then gets etcd's "too large lease TTL", not a decode error.
 */
function readTtl(reader: ProtoReader): number {
  const ttl = reader.int64BigInt();
  if (ttl > BigInt(Number.MAX_SAFE_INTEGER)) return Number.MAX_SAFE_INTEGER;
  if (ttl < BigInt(Number.MIN_SAFE_INTEGER)) return Number.MIN_SAFE_INTEGER;
  return Number(ttl);
}

function readHeader(reader: ProtoReader): ResponseHeader {
  return decodeResponseHeader(reader.bytes());
}

/** The header is always present on etcd's responses, even with every field zero. */
/** A decoder filling a copy of `defaults` field by field, by tag; unknown fields are skipped. */
function decodeFields<T extends object>(
  defaults: T,
  fields: Readonly<
    Record<number, (reader: ProtoReader, message: { -readonly [K in keyof T]: T[K] }) => void>
  >,
): (bytes: Uint8Array) => T {
  return (bytes) => {
    const reader = new ProtoReader(bytes);
    const message = { ...defaults };
    while (!reader.done()) {
      const tag = reader.tag();
      const read = fields[tag];
      if (read === undefined) reader.skip(tag);
      else read(reader, message);
    }
    return message;
  };
}

// ---- LeaseGrant ----

export const decodeLeaseGrantRequest = decodeFields<LeaseGrantRequest>(
  { ttl: 0, id: 0n },
  {
    [fieldTag(1, VARINT)]: (reader, message) => {
      message.ttl = readTtl(reader);
    },
    [fieldTag(2, VARINT)]: (reader, message) => {
      message.id = reader.int64BigInt();
    },
  },
);

export const encodeLeaseGrantRequest = encodeWith<LeaseGrantRequest>((writer, request) => {
  writer.int64Field(1, request.ttl);
  writer.int64BigIntField(2, request.id);
});

export const decodeLeaseGrantResponse = decodeFields<LeaseGrantResponse>(
  { header: undefined, id: 0n, ttl: 0, error: '' },
  {
    [HEADER]: (reader, message) => {
      message.header = readHeader(reader);
    },
    [fieldTag(2, VARINT)]: (reader, message) => {
      message.id = reader.int64BigInt();
    },
    [fieldTag(3, VARINT)]: (reader, message) => {
      message.ttl = readTtl(reader);
    },
    [fieldTag(4, LENGTH_DELIMITED)]: (reader, message) => {
      message.error = reader.string();
    },
  },
);

export const encodeLeaseGrantResponse = encodeWith<LeaseGrantResponse>((writer, response) => {
  writeResponseHeaderField(writer, response.header);
  writer.int64BigIntField(2, response.id);
  writer.int64Field(3, response.ttl);
  writer.stringField(4, response.error);
});

// ---- LeaseRevoke ----

const idOnly = {
  [fieldTag(1, VARINT)]: (reader: ProtoReader, message: { id: bigint }) => {
    message.id = reader.int64BigInt();
  },
};

export const decodeLeaseRevokeRequest = decodeFields<LeaseRevokeRequest>({ id: 0n }, idOnly);
export const encodeLeaseRevokeRequest = encodeWith<LeaseRevokeRequest>((writer, request) =>
  writer.int64BigIntField(1, request.id),
);

const headerOnly = {
  [HEADER]: (reader: ProtoReader, message: { header: ResponseHeader | undefined }) => {
    message.header = readHeader(reader);
  },
};

export const decodeLeaseRevokeResponse = decodeFields<LeaseRevokeResponse>({ header: undefined }, headerOnly);
export const encodeLeaseRevokeResponse = encodeWith<LeaseRevokeResponse>((writer, response) =>
  writeResponseHeaderField(writer, response.header),
);

// ---- LeaseKeepAlive ----

export const decodeLeaseKeepAliveRequest = decodeFields<LeaseKeepAliveRequest>({ id: 0n }, idOnly);
export const encodeLeaseKeepAliveRequest = encodeWith<LeaseKeepAliveRequest>((writer, request) =>
  writer.int64BigIntField(1, request.id),
);

export const decodeLeaseKeepAliveResponse = decodeFields<LeaseKeepAliveResponse>(
  { header: undefined, id: 0n, ttl: 0 },
  {
    ...headerOnly,
    [fieldTag(2, VARINT)]: (reader, message) => {
      message.id = reader.int64BigInt();
    },
    [fieldTag(3, VARINT)]: (reader, message) => {
      message.ttl = readTtl(reader);
    },
  },
);

export const encodeLeaseKeepAliveResponse = encodeWith<LeaseKeepAliveResponse>((writer, response) => {
  writeResponseHeaderField(writer, response.header);
  writer.int64BigIntField(2, response.id);
  writer.int64Field(3, response.ttl);
});

// ---- LeaseTimeToLive ----

export const decodeLeaseTimeToLiveRequest = decodeFields<LeaseTimeToLiveRequest>(
  { id: 0n, keys: false },
  {
    ...idOnly,
    [fieldTag(2, VARINT)]: (reader, message) => {
      message.keys = reader.bool();
    },
  },
);

export const encodeLeaseTimeToLiveRequest = encodeWith<LeaseTimeToLiveRequest>((writer, request) => {
  writer.int64BigIntField(1, request.id);
  writer.boolField(2, request.keys);
});

export function decodeLeaseTimeToLiveResponse(bytes: Uint8Array): LeaseTimeToLiveResponse {
  const reader = new ProtoReader(bytes);
  let header: ResponseHeader | undefined;
  let id = 0n;
  let ttl = 0;
  let grantedTtl = 0;
  const keys: Uint8Array[] = [];
  while (!reader.done()) {
    const tag = reader.tag();
    if (tag === HEADER) header = readHeader(reader);
    else if (tag === fieldTag(2, VARINT)) id = reader.int64BigInt();
    else if (tag === fieldTag(3, VARINT)) ttl = readTtl(reader);
    else if (tag === fieldTag(4, VARINT)) grantedTtl = readTtl(reader);
    else if (tag === fieldTag(5, LENGTH_DELIMITED)) keys.push(reader.bytes());
    else reader.skip(tag);
  }
  return { header, id, ttl, grantedTtl, keys };
}

export const encodeLeaseTimeToLiveResponse = encodeWith<LeaseTimeToLiveResponse>((writer, response) => {
  writeResponseHeaderField(writer, response.header);
  writer.int64BigIntField(2, response.id);
  writer.int64Field(3, response.ttl);
  writer.int64Field(4, response.grantedTtl);
  // Repeated elements are written even when empty: each one is present.
  for (const key of response.keys) writer.bytesFieldAlways(5, key);
});

// ---- LeaseLeases ----

export function decodeLeaseLeasesRequest(bytes: Uint8Array): LeaseLeasesRequest {
  const reader = new ProtoReader(bytes);
  while (!reader.done()) reader.skip(reader.tag());
  return {};
}

export const encodeLeaseLeasesRequest = (_request: LeaseLeasesRequest): Uint8Array => EMPTY_BYTES;

export function decodeLeaseLeasesResponse(bytes: Uint8Array): LeaseLeasesResponse {
  const reader = new ProtoReader(bytes);
  let header: ResponseHeader | undefined;
  const leases: { id: bigint }[] = [];
  while (!reader.done()) {
    const tag = reader.tag();
    if (tag === HEADER) header = readHeader(reader);
    else if (tag === fieldTag(2, LENGTH_DELIMITED)) leases.push(readLeaseStatus(reader.message()));
    else reader.skip(tag);
  }
  return { header, leases };
}

function readLeaseStatus(reader: ProtoReader): { id: bigint } {
  const status = { id: 0n };
  while (!reader.done()) {
    const tag = reader.tag();
    if (tag === fieldTag(1, VARINT)) status.id = reader.int64BigInt();
    else reader.skip(tag);
  }
  return status;
}

export const encodeLeaseLeasesResponse = encodeWith<LeaseLeasesResponse>((writer, response) => {
  writeResponseHeaderField(writer, response.header);
  for (const lease of response.leases) {
    // A LeaseStatus is written even for id 0 (an element of a repeated field is always present).
    const start = writer.beginMessage(2);
    writer.int64BigIntField(1, lease.id);
    writer.endMessage(start);
  }
});

/** The codecs of etcdserverpb.Lease, in the shape `unary()` and `bidiStreaming()` take. */
export const LEASE_METHOD_CODECS = {
  LeaseGrant: { decode: decodeLeaseGrantRequest, encode: encodeLeaseGrantResponse },
  LeaseRevoke: { decode: decodeLeaseRevokeRequest, encode: encodeLeaseRevokeResponse },
  LeaseKeepAlive: { decode: decodeLeaseKeepAliveRequest, encode: encodeLeaseKeepAliveResponse },
  LeaseTimeToLive: { decode: decodeLeaseTimeToLiveRequest, encode: encodeLeaseTimeToLiveResponse },
  LeaseLeases: { decode: decodeLeaseLeasesRequest, encode: encodeLeaseLeasesResponse },
} as const;
