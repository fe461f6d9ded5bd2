// How a replicated command is stored in a log entry. Puts — nearly every entry under load — have
// a compact binary form of their own (encoded once by the proposer, decoded by every member on
// apply); everything else is msgpack. The first byte says which.
import type { AuthRequester, ClusterCommand, PutRequest } from '@synod/state';
import { Packr } from 'msgpackr';
import { slabBytes } from '../util/slab-bytes.js';

/** A command as stored in a log entry: who proposed it (to answer the client) and what it does. */
export interface LoggedCommand {
  readonly origin: string;
  readonly sequence: number;
  readonly command: ClusterCommand;
  /** Who asked, when auth was on at the edge: the requirement is checked again on apply. */
  readonly requester?: AuthRequester;
  /** The proposer's trace context (observability/tracing.ts), so every member's apply joins the trace. */
  readonly trace?: Uint8Array;
}

const FORMAT_MSGPACK = 0x00;
const FORMAT_PUT = 0x01;
const PUT_PREV_KV = 1;
const PUT_IGNORE_VALUE = 2;
const PUT_IGNORE_LEASE = 4;
const PUT_HAS_LEASE = 8;
/** Varint bytes for any safe integer (7 bits each). */
const VARINT_BYTES_MAX = 8;

const packr = new Packr({ useRecords: false, int64AsType: 'bigint', mapsAsObjects: true });
const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder();

export class CommandDecodeError extends Error {
  override readonly name = 'CommandDecodeError';
}

export function encodeCommand(logged: LoggedCommand): Uint8Array {
  if (logged.command.kind === 'put' && logged.requester === undefined && logged.trace === undefined)
    return encodePut(logged.origin, logged.sequence, logged.command.request);
  const body = packr.pack(logged);
  const bytes = new Uint8Array(1 + body.byteLength);
  bytes[0] = FORMAT_MSGPACK;
  bytes.set(body, 1);
  return bytes;
}

export function decodeCommand(data: Uint8Array): LoggedCommand {
  if (data[0] === FORMAT_PUT) return decodePut(data);
  if (data[0] !== FORMAT_MSGPACK) throw new CommandDecodeError(`unknown command format ${data[0]}`);
  const logged = packr.unpack(data.subarray(1)) as LoggedCommand;
  if (
    typeof logged?.origin !== 'string' ||
    typeof logged.sequence !== 'number' ||
    typeof logged.command?.kind !== 'string'
  ) {
    throw new CommandDecodeError('log entry does not hold a cluster command');
  }
  return logged;
}

/**
 * The sequence of a put command `origin` proposed, read from the entry's first bytes without
 * decoding the rest; -1 for any other entry. Lets the proposer apply the command it still holds
 * instead of decoding (and copying) it again.
 */
export function ownPutSequence(data: Uint8Array, origin: string): number {
  if (data[0] !== FORMAT_PUT) return -1;
  const originBytes = originBytesOf(origin);
  const reader = { offset: 1 };
  try {
    if (readVarint(data, reader) !== originBytes.byteLength) return -1;
    const start = reader.offset;
    if (start + originBytes.byteLength > data.byteLength) return -1;
    for (let i = 0; i < originBytes.byteLength; i++) if (data[start + i] !== originBytes[i]) return -1;
    reader.offset += originBytes.byteLength;
    return readVarint(data, reader);
  } catch (error) {
    if (error instanceof CommandDecodeError) return -1;
    throw error;
  }
}

// [FORMAT_PUT][origin length, origin][sequence][flags][key length, key][value length, value][lease i64 if flagged]
/** The proposer's origin is the same for every command it makes: encode it once. */
let cachedOrigin = '';
let cachedOriginBytes = new Uint8Array(0);

function originBytesOf(origin: string): Uint8Array {
  if (origin !== cachedOrigin) {
    cachedOrigin = origin;
    cachedOriginBytes = utf8.encode(origin);
  }
  return cachedOriginBytes;
}

function encodePut(origin: string, sequence: number, request: PutRequest): Uint8Array {
  const originBytes = originBytesOf(origin);
  const size =
    1 +
    VARINT_BYTES_MAX * 4 +
    1 +
    originBytes.byteLength +
    request.key.byteLength +
    request.value.byteLength +
    8;
  // From the shared slab: a log entry lives only until the in-memory log packs it (entry-archive).
  const bytes = slabBytes(size);
  let offset = 0;
  bytes[offset++] = FORMAT_PUT;
  offset = writeVarint(bytes, offset, originBytes.byteLength);
  bytes.set(originBytes, offset);
  offset += originBytes.byteLength;
  offset = writeVarint(bytes, offset, sequence);
  const hasLease = request.lease !== 0n;
  bytes[offset++] =
    (request.prevKv ? PUT_PREV_KV : 0) |
    (request.ignoreValue ? PUT_IGNORE_VALUE : 0) |
    (request.ignoreLease ? PUT_IGNORE_LEASE : 0) |
    (hasLease ? PUT_HAS_LEASE : 0);
  offset = writeVarint(bytes, offset, request.key.byteLength);
  bytes.set(request.key, offset);
  offset += request.key.byteLength;
  offset = writeVarint(bytes, offset, request.value.byteLength);
  bytes.set(request.value, offset);
  offset += request.value.byteLength;
  if (hasLease) {
    new DataView(bytes.buffer, bytes.byteOffset).setBigInt64(offset, request.lease);
    offset += 8;
  }
  return bytes.subarray(0, offset);
}

function decodePut(data: Uint8Array): LoggedCommand {
  const reader = { offset: 1 };
  const originLength = readVarint(data, reader);
  const origin = originOf(take(data, reader, originLength));
  const sequence = readVarint(data, reader);
  const flags = data[reader.offset++];
  if (flags === undefined) throw new CommandDecodeError('put command is truncated');
  // Copies: the store keeps key and value, and must not pin the whole received buffer. One
  // allocation for both (they are kept and dropped together), each ArrayBuffer costing the GC.
  const keyBytes = take(data, reader, readVarint(data, reader));
  const valueBytes = take(data, reader, readVarint(data, reader));
  const owned = new Uint8Array(keyBytes.length + valueBytes.length);
  owned.set(keyBytes, 0);
  owned.set(valueBytes, keyBytes.length);
  const key = owned.subarray(0, keyBytes.length);
  const value = owned.subarray(keyBytes.length);
  let lease = 0n;
  if (flags & PUT_HAS_LEASE) {
    if (reader.offset + 8 > data.byteLength) throw new CommandDecodeError('put command is truncated');
    lease = new DataView(data.buffer, data.byteOffset + reader.offset, 8).getBigInt64(0);
    reader.offset += 8;
  }
  if (reader.offset !== data.byteLength) throw new CommandDecodeError('put command has trailing bytes');
  const request: PutRequest = {
    key,
    value,
    lease,
    prevKv: (flags & PUT_PREV_KV) !== 0,
    ignoreValue: (flags & PUT_IGNORE_VALUE) !== 0,
    ignoreLease: (flags & PUT_IGNORE_LEASE) !== 0,
  };
  return { origin, sequence, command: { kind: 'put', request } };
}

/** Most entries come from a few proposers: decode each one's origin once, not per entry. */
let lastOriginBytes: Uint8Array = new Uint8Array(0);
let lastOrigin = '';

function originOf(bytes: Uint8Array): string {
  if (!sameBytes(bytes, lastOriginBytes)) {
    lastOrigin = utf8Decoder.decode(bytes);
    lastOriginBytes = bytes.slice();
  }
  return lastOrigin;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function writeVarint(bytes: Uint8Array, offset: number, value: number): number {
  let rest = value;
  while (rest >= 0x80) {
    bytes[offset++] = (rest % 0x80) | 0x80;
    rest = Math.floor(rest / 0x80);
  }
  bytes[offset++] = rest;
  return offset;
}

function readVarint(data: Uint8Array, reader: { offset: number }): number {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < VARINT_BYTES_MAX; i++) {
    const byte = data[reader.offset++];
    if (byte === undefined) throw new CommandDecodeError('put command is truncated');
    value += (byte & 0x7f) * scale;
    if (byte < 0x80) return value;
    scale *= 0x80;
  }
  throw new CommandDecodeError('varint too long in a put command');
}

function take(data: Uint8Array, reader: { offset: number }, length: number): Uint8Array {
  if (reader.offset + length > data.byteLength) throw new CommandDecodeError('put command is truncated');
  const slice = data.subarray(reader.offset, reader.offset + length);
  reader.offset += length;
  return slice;
}
