// WAL records and their framing. A frame is
//   u32 payloadLength | u8 type | u32 crc32c | payload
// (little-endian), where the CRC covers the first five header bytes and the payload, so a damaged
// length or type is caught like damaged data. Payloads use the varint codec of byte-codec.ts.

import { crc32c } from '@synod/core/hashing';
import type { Entry, EntryKind, HardState } from '@synod/raft';
import { ByteReader, ByteWriter, DecodeError } from './byte-codec.js';

export const FRAME_HEADER_BYTES = 9;
/** Largest payload a frame may carry; a length above it is damage, not a big record. */
export const RECORD_PAYLOAD_BYTES_MAX = 64 * 1024 * 1024;
/** Entries are split into records of about this size, so one bad sector costs one record, not a batch. */
export const RECORD_ENTRIES_BYTES_TARGET = 1024 * 1024;
/** Written in every segment header; bump when the record layout changes. */
export const WAL_FORMAT_VERSION = 1;

/** Type byte of each record; 0 is never used, so a zeroed region never parses as a record. */
export const RECORD_TYPE = {
  entries: 1,
  hardState: 2,
  snapshotMarker: 3,
  segmentHeader: 4,
} as const;

/**
 * What the WAL holds. `entries` appends a contiguous batch, replacing any suffix it conflicts
 * with (Raft may overwrite uncommitted entries: on replay the later record for an index wins);
 * `snapshotMarker` says a snapshot at (index, term) is durable in snap/; `segmentHeader` opens
 * every segment so a renamed or misplaced file is recognised.
 */
export type WalRecord =
  | { readonly type: 'entries'; readonly entries: readonly Entry[] }
  | { readonly type: 'hardState'; readonly hardState: HardState }
  | { readonly type: 'snapshotMarker'; readonly index: number; readonly term: number }
  | {
      readonly type: 'segmentHeader';
      readonly formatVersion: number;
      readonly sequence: number;
      readonly firstIndex: number;
    };

const ENTRY_KIND_CODE: Record<EntryKind, number> = { normal: 0, config: 1 };
const ENTRY_KINDS: readonly EntryKind[] = ['normal', 'config'];

/** Frames `records` into one buffer, ready for a single write. */
export function encodeRecords(records: readonly WalRecord[]): Buffer {
  const writer = new ByteWriter();
  for (const record of records) {
    if (record.type === 'entries') encodeEntryRecords(writer, record.entries);
    else writeFrame(writer, RECORD_TYPE[record.type], (payload) => encodePayload(payload, record));
  }
  return writer.finish();
}

/** How many frames encodeRecords writes for `records` (entries may split). */
export function countFrames(records: readonly WalRecord[]): number {
  let frames = 0;
  for (const record of records) frames += record.type === 'entries' ? entryChunks(record.entries).length : 1;
  return frames;
}

function encodeEntryRecords(writer: ByteWriter, entries: readonly Entry[]): void {
  for (const chunk of entryChunks(entries)) {
    writeFrame(writer, RECORD_TYPE.entries, (payload) => encodeEntries(payload, chunk));
  }
}

/** Splits a batch into runs of about RECORD_ENTRIES_BYTES_TARGET payload bytes each. */
function entryChunks(entries: readonly Entry[]): (readonly Entry[])[] {
  const chunks: Entry[][] = [];
  let current: Entry[] = [];
  let bytes = 0;
  for (const entry of entries) {
    if (current.length > 0 && bytes + entry.data.byteLength > RECORD_ENTRIES_BYTES_TARGET) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(entry);
    bytes += entry.data.byteLength;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

function writeFrame(writer: ByteWriter, type: number, encode: (payload: ByteWriter) => void): void {
  const start = writer.byteLength;
  writer.u32(0); // payload length, patched below
  writer.u8(type);
  writer.u32(0); // CRC, patched below
  encode(writer);
  const payloadLength = writer.byteLength - start - FRAME_HEADER_BYTES;
  if (payloadLength > RECORD_PAYLOAD_BYTES_MAX)
    throw new RangeError(`WAL record of ${payloadLength} bytes exceeds ${RECORD_PAYLOAD_BYTES_MAX}`);
  writer.patchU32(start, payloadLength);
  const bytes = writer.finish();
  const crc = crc32c(bytes, crc32c(bytes, 0, start, start + 5), start + FRAME_HEADER_BYTES, bytes.length);
  writer.patchU32(start + 5, crc);
}

function encodePayload(writer: ByteWriter, record: Exclude<WalRecord, { type: 'entries' }>): void {
  switch (record.type) {
    case 'hardState':
      writer.uvarint(record.hardState.term);
      writer.uvarint(record.hardState.commit);
      writer.string(record.hardState.vote);
      return;
    case 'snapshotMarker':
      writer.uvarint(record.index);
      writer.uvarint(record.term);
      return;
    case 'segmentHeader':
      writer.uvarint(record.formatVersion);
      writer.uvarint(record.sequence);
      writer.uvarint(record.firstIndex);
      return;
  }
}

/** Index of the first entry, then per entry: term, kind, data. Indexes are implied (contiguous). */
function encodeEntries(writer: ByteWriter, entries: readonly Entry[]): void {
  const firstIndex = entries[0]!.index;
  writer.uvarint(entries.length);
  writer.uvarint(firstIndex);
  entries.forEach((entry, i) => {
    if (entry.index !== firstIndex + i)
      throw new RangeError(`entries not contiguous: ${entry.index} after ${firstIndex + i - 1}`);
    writer.uvarint(entry.term);
    writer.u8(ENTRY_KIND_CODE[entry.kind]);
    writer.bytes(entry.data);
  });
}

export type Frame =
  | { readonly ok: true; readonly type: number; readonly payloadStart: number; readonly end: number }
  | { readonly ok: false; readonly reason: string };

/** Reads the frame at `offset` and checks its length and CRC; the payload is not decoded. */
export function readFrame(bytes: Uint8Array, offset: number): Frame {
  if (bytes.length - offset < FRAME_HEADER_BYTES) return { ok: false, reason: 'short record header' };
  const reader = new ByteReader(bytes, offset);
  const payloadLength = reader.u32();
  const type = reader.u8();
  const storedCrc = reader.u32();
  if (payloadLength > RECORD_PAYLOAD_BYTES_MAX) return { ok: false, reason: 'invalid record length' };
  const payloadStart = offset + FRAME_HEADER_BYTES;
  const end = payloadStart + payloadLength;
  if (end > bytes.length) return { ok: false, reason: 'record runs past the end of the file' };
  const crc = crc32c(bytes, crc32c(bytes, 0, offset, offset + 5), payloadStart, end);
  if (crc !== storedCrc) return { ok: false, reason: 'CRC mismatch' };
  return { ok: true, type, payloadStart, end };
}

/** Decodes a frame's payload; throws DecodeError for a type or layout this version does not know. */
export function decodeRecord(bytes: Uint8Array, frame: Extract<Frame, { ok: true }>): WalRecord {
  const reader = new ByteReader(bytes, frame.payloadStart, frame.end);
  const record = decodePayload(reader, frame.type);
  reader.expectEnd(`a record of type ${frame.type}`);
  return record;
}

function decodePayload(reader: ByteReader, type: number): WalRecord {
  switch (type) {
    case RECORD_TYPE.entries:
      return { type: 'entries', entries: decodeEntries(reader) };
    case RECORD_TYPE.hardState: {
      const term = reader.uvarint();
      const commit = reader.uvarint();
      return { type: 'hardState', hardState: { term, vote: reader.string(), commit } };
    }
    case RECORD_TYPE.snapshotMarker: {
      const index = reader.uvarint();
      return { type: 'snapshotMarker', index, term: reader.uvarint() };
    }
    case RECORD_TYPE.segmentHeader: {
      const formatVersion = reader.uvarint();
      const sequence = reader.uvarint();
      return { type: 'segmentHeader', formatVersion, sequence, firstIndex: reader.uvarint() };
    }
    default:
      throw new DecodeError(`unknown record type ${type}`);
  }
}

function decodeEntries(reader: ByteReader): Entry[] {
  const count = reader.uvarint();
  const firstIndex = reader.uvarint();
  // Each entry takes at least three bytes: a count beyond that is damage, not a reason to allocate.
  if (count === 0 || count > reader.remaining / 3) throw new DecodeError(`implausible entry count ${count}`);
  const entries: Entry[] = [];
  for (let i = 0; i < count; i++) {
    const term = reader.uvarint();
    const kind = ENTRY_KINDS[reader.u8()];
    if (kind === undefined) throw new DecodeError('unknown entry kind');
    entries.push({ term, index: firstIndex + i, kind, data: reader.bytes() });
  }
  return entries;
}
