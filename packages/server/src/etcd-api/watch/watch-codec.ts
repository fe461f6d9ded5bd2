// Wire codecs for etcdserverpb.Watch (watch.proto beside this file): WatchRequest in, WatchResponse
// out, and etcd's splitting of a big response into fragments. Encoders leave proto3 defaults out,
// as Go does; decoders give absent fields their defaults and skip unknown fields.
import type { KvEvent, ResponseHeader } from '@synod/state';
import { slabBytes } from '../../util/slab-bytes.js';
import { decodeEvent, decodeResponseHeader, encodeEvent, encodeResponseHeader } from '../proto/messages.js';
import { fieldTag, ProtoReader, ProtoWriter, WireType } from '../proto/wire.js';
import type { WatchCreateRequest, WatchFilter } from './watch-hub.js';

/** A WatchRequest: one of create, cancel or progress; `none` when the client set none (etcd ignores it). */
export type WatchRequest =
  | { readonly kind: 'create'; readonly request: WatchCreateRequest }
  | { readonly kind: 'cancel'; readonly watchId: number }
  | { readonly kind: 'progress' }
  | { readonly kind: 'none' };

export interface WatchResponseMessage {
  readonly header: ResponseHeader | undefined;
  readonly watchId: number;
  readonly created: boolean;
  readonly canceled: boolean;
  readonly compactRevision: number;
  readonly cancelReason: string;
  /** More responses follow with the rest of these events. */
  readonly fragment: boolean;
  readonly events: readonly KvEvent[];
}

const VARINT = WireType.VARINT;
const LENGTH_DELIMITED = WireType.LENGTH_DELIMITED;

const WATCH_REQUEST = {
  create: fieldTag(1, LENGTH_DELIMITED),
  cancel: fieldTag(2, LENGTH_DELIMITED),
  progress: fieldTag(3, LENGTH_DELIMITED),
} as const;

const WATCH_CREATE_REQUEST = {
  key: fieldTag(1, LENGTH_DELIMITED),
  rangeEnd: fieldTag(2, LENGTH_DELIMITED),
  startRevision: fieldTag(3, VARINT),
  progressNotify: fieldTag(4, VARINT),
  filtersPacked: fieldTag(5, LENGTH_DELIMITED),
  filter: fieldTag(5, VARINT),
  prevKv: fieldTag(6, VARINT),
  watchId: fieldTag(7, VARINT),
  fragment: fieldTag(8, VARINT),
} as const;

const WATCH_RESPONSE = {
  header: fieldTag(1, LENGTH_DELIMITED),
  watchId: fieldTag(2, VARINT),
  created: fieldTag(3, VARINT),
  canceled: fieldTag(4, VARINT),
  compactRevision: fieldTag(5, VARINT),
  cancelReason: fieldTag(6, LENGTH_DELIMITED),
  fragment: fieldTag(7, VARINT),
  events: fieldTag(11, LENGTH_DELIMITED),
} as const;

/** FilterType by wire number; etcd ignores numbers it does not know (proto3 enums are open). */
const FILTERS: readonly WatchFilter[] = ['NOPUT', 'NODELETE'];
const EMPTY_BYTES = new Uint8Array(0);

export function decodeWatchRequest(bytes: Uint8Array): WatchRequest {
  const reader = new ProtoReader(bytes);
  let request: WatchRequest = { kind: 'none' };
  // A oneof: the last member on the wire wins, as in protobuf's own parsers.
  while (!reader.done()) {
    const tag = reader.tag();
    if (tag === WATCH_REQUEST.create)
      request = { kind: 'create', request: readCreateRequest(reader.message()) };
    else if (tag === WATCH_REQUEST.cancel)
      request = { kind: 'cancel', watchId: readCancelWatchId(reader.message()) };
    else if (tag === WATCH_REQUEST.progress) {
      reader.message();
      request = { kind: 'progress' };
    } else reader.skip(tag);
  }
  return request;
}

function readCreateRequest(reader: ProtoReader): WatchCreateRequest {
  let key: Uint8Array = EMPTY_BYTES;
  let rangeEnd: Uint8Array = EMPTY_BYTES;
  let startRevision = 0;
  let progressNotify = false;
  const filters: WatchFilter[] = [];
  let prevKv = false;
  let watchId = 0;
  let fragment = false;
  const addFilter = (number: number): void => {
    const filter = FILTERS[number];
    if (filter !== undefined) filters.push(filter);
  };
  while (!reader.done()) {
    const tag = reader.tag();
    if (tag === WATCH_CREATE_REQUEST.key) key = reader.bytes();
    else if (tag === WATCH_CREATE_REQUEST.rangeEnd) rangeEnd = reader.bytes();
    else if (tag === WATCH_CREATE_REQUEST.startRevision) startRevision = reader.int64();
    else if (tag === WATCH_CREATE_REQUEST.progressNotify) progressNotify = reader.bool();
    else if (tag === WATCH_CREATE_REQUEST.filter) addFilter(reader.enumValue());
    else if (tag === WATCH_CREATE_REQUEST.filtersPacked) {
      const packed = reader.message();
      while (!packed.done()) addFilter(packed.enumValue());
    } else if (tag === WATCH_CREATE_REQUEST.prevKv) prevKv = reader.bool();
    else if (tag === WATCH_CREATE_REQUEST.watchId) watchId = reader.int64();
    else if (tag === WATCH_CREATE_REQUEST.fragment) fragment = reader.bool();
    else reader.skip(tag);
  }
  return { key, rangeEnd, startRevision, progressNotify, filters, prevKv, watchId, fragment };
}

function readCancelWatchId(reader: ProtoReader): number {
  let watchId = 0;
  while (!reader.done()) {
    const tag = reader.tag();
    if (tag === fieldTag(1, VARINT)) watchId = reader.int64();
    else reader.skip(tag);
  }
  return watchId;
}

/** The client side's encoder (tests, tools). Filters are packed, as Go sends them. */
export function encodeWatchRequest(request: WatchRequest): Uint8Array {
  const writer = new ProtoWriter();
  if (request.kind === 'create') {
    const create = request.request;
    const start = writer.beginMessage(1);
    writer.bytesField(1, create.key);
    writer.bytesField(2, create.rangeEnd);
    writer.int64Field(3, create.startRevision);
    writer.boolField(4, create.progressNotify);
    if (create.filters.length > 0) writer.bytesFieldAlways(5, packedFilters(create.filters));
    writer.boolField(6, create.prevKv);
    writer.int64Field(7, create.watchId);
    writer.boolField(8, create.fragment);
    writer.endMessage(start);
  } else if (request.kind === 'cancel') {
    const start = writer.beginMessage(2);
    writer.int64Field(1, request.watchId);
    writer.endMessage(start);
  } else if (request.kind === 'progress') {
    writer.endMessage(writer.beginMessage(3));
  }
  return writer.finish();
}

/** A packed repeated enum is its varints back to back; each filter's number fits in one byte. */
function packedFilters(filters: readonly WatchFilter[]): Uint8Array {
  return Uint8Array.from(filters.map((filter) => FILTERS.indexOf(filter)));
}

export function decodeWatchResponse(bytes: Uint8Array): WatchResponseMessage {
  const reader = new ProtoReader(bytes);
  let header: ResponseHeader | undefined;
  let watchId = 0;
  let created = false;
  let canceled = false;
  let compactRevision = 0;
  let cancelReason = '';
  let fragment = false;
  const events: KvEvent[] = [];
  while (!reader.done()) {
    const tag = reader.tag();
    if (tag === WATCH_RESPONSE.header) header = decodeResponseHeader(reader.bytes());
    else if (tag === WATCH_RESPONSE.watchId) watchId = reader.int64();
    else if (tag === WATCH_RESPONSE.created) created = reader.bool();
    else if (tag === WATCH_RESPONSE.canceled) canceled = reader.bool();
    else if (tag === WATCH_RESPONSE.compactRevision) compactRevision = reader.int64();
    else if (tag === WATCH_RESPONSE.cancelReason) cancelReason = reader.string();
    else if (tag === WATCH_RESPONSE.fragment) fragment = reader.bool();
    else if (tag === WATCH_RESPONSE.events) events.push(decodeEvent(reader.bytes()));
    else reader.skip(tag);
  }
  return { header, watchId, created, canceled, compactRevision, cancelReason, fragment, events };
}

export function encodeWatchResponse(message: WatchResponseMessage): Uint8Array {
  return (
    encodePlainEventsResponse(message) ??
    encodeWithEncodedEvents(message, message.events.map(encodeEventOnce))
  );
}

/** The header and events of a response, encoded once for every watcher that is sent them. */
interface SharedBody {
  readonly header: ResponseHeader;
  readonly events: readonly KvEvent[];
  readonly bytes: Uint8Array;
}

const sharedBodies = new WeakMap<KvEvent, SharedBody>();
/** Tag of WatchResponse.watch_id (field 2, varint). */
const WATCH_ID_TAG = 0x10;

/**
 * A plain events response as its two parts: the encoding shared by every watcher of the same
 * events, and the watcher's id, appended as field 2 (protobuf fields may come in any order).
 */
export interface WatchResponseParts {
  readonly body: Uint8Array;
  readonly watchId: number;
}

/**
 * The common response — events for a watch, nothing else — is the same bytes for every watcher
 * but for its watch id. The rest is encoded once per batch of events, so a put seen by 1,000
 * watchers costs one encoding; undefined for any other response.
 */
export function plainEventsResponseParts(message: WatchResponseMessage): WatchResponseParts | undefined {
  return message.header === undefined ? undefined : plainEventsResponsePartsWith(message, message.header);
}

/** plainEventsResponseParts for a response whose header is given apart (no copy of it is made). */
export function plainEventsResponsePartsWith(
  response: Omit<WatchResponseMessage, 'header'>,
  header: ResponseHeader,
): WatchResponseParts | undefined {
  if (
    response.events.length === 0 ||
    response.created ||
    response.canceled ||
    response.compactRevision !== 0 ||
    response.cancelReason !== '' ||
    response.fragment ||
    response.watchId < 0
  ) {
    return undefined;
  }
  return eventsResponseParts(header, response.watchId, response.events);
}

/**
 * The parts of a response that holds `events` (at least one) for watch `watchId` (not negative)
 * and nothing else.
 */
function eventsResponseParts(
  header: ResponseHeader,
  watchId: number,
  events: readonly KvEvent[],
): WatchResponseParts {
  const first = events[0]!;
  let body = sharedBodies.get(first);
  // The same events, by identity (watchers of different ranges may share a first event only).
  if (body === undefined || !sameEvents(body.events, events) || !sameHeader(body.header, header)) {
    const message: WatchResponseMessage = {
      header,
      watchId: 0,
      created: false,
      canceled: false,
      compactRevision: 0,
      cancelReason: '',
      fragment: false,
      events,
    };
    const bytes = encodeWithEncodedEvents(message, events.map(encodeEventOnce));
    body = { header, events, bytes };
    sharedBodies.set(first, body);
  }
  return { body: body.bytes, watchId };
}

/** The length of a response given as parts. */
export function watchResponsePartsLength(parts: WatchResponseParts): number {
  return parts.watchId === 0 ? parts.body.length : parts.body.length + 1 + varintBytes(parts.watchId);
}

/** Writes a response given as parts into `target` at `offset`; returns the end. */
export function writeWatchResponseParts(
  parts: WatchResponseParts,
  target: Uint8Array,
  offset: number,
): number {
  target.set(parts.body, offset);
  let end = offset + parts.body.length;
  if (parts.watchId === 0) return end;
  target[end++] = WATCH_ID_TAG;
  let rest = parts.watchId;
  while (rest >= 0x80) {
    target[end++] = (rest % 0x80) | 0x80;
    rest = Math.floor(rest / 0x80);
  }
  target[end++] = rest;
  return end;
}

function encodePlainEventsResponse(message: WatchResponseMessage): Uint8Array | undefined {
  const parts = plainEventsResponseParts(message);
  if (parts === undefined) return undefined;
  if (parts.watchId === 0) return parts.body;
  const bytes = slabBytes(watchResponsePartsLength(parts));
  writeWatchResponseParts(parts, bytes, 0);
  return bytes;
}

function sameEvents(a: readonly KvEvent[], b: readonly KvEvent[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function sameHeader(a: ResponseHeader, b: ResponseHeader): boolean {
  return (
    a === b ||
    (a.revision === b.revision &&
      a.raftTerm === b.raftTerm &&
      a.memberId === b.memberId &&
      a.clusterId === b.clusterId)
  );
}

/**
 * Every watcher of a key is sent the same event objects: each is encoded once, not once per
 * watcher (a put seen by 1,000 watchers would otherwise be encoded 1,000 times).
 */
const encodedEvents = new WeakMap<KvEvent, Uint8Array>();

/** The responses of one batch share a header object: encode it once. */
const encodedHeaders = new WeakMap<ResponseHeader, Uint8Array>();

function encodeHeaderOnce(header: ResponseHeader): Uint8Array {
  let encoded = encodedHeaders.get(header);
  if (encoded === undefined) {
    encoded = encodeResponseHeader(header);
    encodedHeaders.set(header, encoded);
  }
  return encoded;
}

function encodeEventOnce(event: KvEvent): Uint8Array {
  let encoded = encodedEvents.get(event);
  if (encoded === undefined) {
    encoded = encodeEvent(event);
    encodedEvents.set(event, encoded);
  }
  return encoded;
}

/**
 * A response as the messages to send: one, or when `fragmentOverBytes` is given and the response
 * is at least that big with two events or more, pieces as etcd's sendFragments cuts them (each
 * under the limit unless it holds a single event; `fragment` on all but the last).
 */
export function encodeWatchResponseFragments(
  message: WatchResponseMessage,
  fragmentOverBytes: number | undefined,
): Uint8Array[] {
  const plain = fragmentOverBytes === undefined ? encodePlainEventsResponse(message) : undefined;
  if (plain !== undefined) return [plain];
  const events = message.events.map(encodeEventOnce);
  const whole = (): Uint8Array[] => [encodeWithEncodedEvents(message, events)];
  if (fragmentOverBytes === undefined || events.length < 2) return whole();
  const pieceBase = encodeWithEncodedEvents({ ...message, fragment: true, events: [] }, []).length;
  const fieldBytes = events.map((event) => 1 + varintBytes(event.length) + event.length);
  const total = pieceBase - FRAGMENT_FIELD_BYTES + fieldBytes.reduce((sum, bytes) => sum + bytes, 0);
  if (total < fragmentOverBytes) return whole();
  const pieces: Uint8Array[] = [];
  let first = 0;
  while (first < events.length) {
    let end = first + 1;
    let size = pieceBase + fieldBytes[first]!;
    while (end < events.length && size + fieldBytes[end]! < fragmentOverBytes) size += fieldBytes[end++]!;
    const last = end === events.length;
    const piece = { ...message, fragment: !last, events: message.events.slice(first, end) };
    pieces.push(encodeWithEncodedEvents(piece, events.slice(first, end)));
    first = end;
  }
  return pieces;
}

/** `fragment: true` on the wire: a one-byte tag and a one-byte value. */
const FRAGMENT_FIELD_BYTES = 2;

function encodeWithEncodedEvents(message: WatchResponseMessage, events: readonly Uint8Array[]): Uint8Array {
  const writer = new ProtoWriter();
  if (message.header !== undefined) writer.bytesFieldAlways(1, encodeHeaderOnce(message.header));
  writer.int64Field(2, message.watchId);
  writer.boolField(3, message.created);
  writer.boolField(4, message.canceled);
  writer.int64Field(5, message.compactRevision);
  writer.stringField(6, message.cancelReason);
  writer.boolField(7, message.fragment);
  for (const event of events) writer.bytesFieldAlways(11, event);
  return writer.finish();
}

function varintBytes(value: number): number {
  let bytes = 1;
  for (let rest = value; rest >= 0x80; rest = Math.floor(rest / 0x80)) bytes++;
  return bytes;
}
