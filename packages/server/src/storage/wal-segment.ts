// Segment files: naming, and reading one back record by record. A segment is named by its
// sequence number and the index of the first entry expected in it when it was created, both as
// 16 decimal digits so names sort in order: 0000000000000007-0000000000012345.wal.
import { DecodeError } from './byte-codec.js';
import type { WalRecord } from './wal-record.js';
import {
  decodeRecord,
  FRAME_HEADER_BYTES,
  RECORD_PAYLOAD_BYTES_MAX,
  RECORD_TYPE,
  readFrame,
} from './wal-record.js';

export const SEGMENT_SUFFIX = '.wal';
const NAME_DIGITS = 16;
const SEGMENT_NAME_PATTERN = /^(\d{16})-(\d{16})\.wal$/;
const RECORD_TYPE_MAX = Math.max(...Object.values(RECORD_TYPE));

export interface SegmentName {
  readonly sequence: number;
  readonly firstIndex: number;
}

export function segmentFileName(sequence: number, firstIndex: number): string {
  const pad = (value: number) => String(value).padStart(NAME_DIGITS, '0');
  return `${pad(sequence)}-${pad(firstIndex)}${SEGMENT_SUFFIX}`;
}

export function parseSegmentFileName(name: string): SegmentName | undefined {
  const match = SEGMENT_NAME_PATTERN.exec(name);
  if (!match) return undefined;
  return { sequence: Number(match[1]), firstIndex: Number(match[2]) };
}

export interface ScannedRecord {
  readonly record: WalRecord;
  readonly offset: number;
}

export interface SegmentDamage {
  readonly offset: number;
  readonly reason: string;
  /**
   * Nothing valid follows the damage: what a crash during the last write leaves (a short or
   * half-written record, garbage). Damage followed by valid records is never a torn write.
   */
  readonly tornTail: boolean;
}

export interface SegmentScan {
  readonly records: readonly ScannedRecord[];
  /**
   * End of the last good record: where appending continues. Zeros from there to the end of the
   * file are space preallocated for appends, not damage.
   */
  readonly validEnd: number;
  readonly damage: SegmentDamage | undefined;
}

/** Reads every record of a segment, stopping at the first damaged one. */
export function scanSegment(bytes: Uint8Array): SegmentScan {
  const records: ScannedRecord[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    const frame = readFrame(bytes, offset);
    if (!frame.ok) {
      if (zerosFrom(bytes, offset)) return { records, validEnd: offset, damage: undefined };
      const tornTail = !hasValidFrameAfter(bytes, offset);
      return { records, validEnd: offset, damage: { offset, reason: frame.reason, tornTail } };
    }
    try {
      records.push({ record: decodeRecord(bytes, frame), offset });
    } catch (error) {
      if (!(error instanceof DecodeError)) throw error;
      // A checksum-valid record this code cannot read was written that way: never a torn write.
      return { records, validEnd: offset, damage: { offset, reason: error.message, tornTail: false } };
    }
    offset = frame.end;
  }
  return { records, validEnd: offset, damage: undefined };
}

/** True when every byte from `from` to the end is zero (a record never starts with a zero type). */
function zerosFrom(bytes: Uint8Array, from: number): boolean {
  for (let offset = from; offset < bytes.length; offset++) if (bytes[offset] !== 0) return false;
  return true;
}

/**
 * Looks for any checksum-valid frame starting after `from`. Cheap checks first (type byte,
 * length fits), so scanning zeros or garbage costs little; the scan only runs on damage.
 */
function hasValidFrameAfter(bytes: Uint8Array, from: number): boolean {
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let offset = from + 1; offset + FRAME_HEADER_BYTES <= bytes.length; offset++) {
    const type = bytes[offset + 4]!;
    if (type === 0 || type > RECORD_TYPE_MAX) continue;
    const payloadLength = view.readUInt32LE(offset);
    if (payloadLength > RECORD_PAYLOAD_BYTES_MAX) continue;
    if (offset + FRAME_HEADER_BYTES + payloadLength > bytes.length) continue;
    if (readFrame(bytes, offset).ok) return true;
  }
  return false;
}
