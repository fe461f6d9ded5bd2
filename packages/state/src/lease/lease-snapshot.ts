// The lease store as bytes, taken at the same applied index as the MVCC snapshot.
// Layout (little-endian; varints are unsigned LEB128):
//   magic "SLSE" · format version u32 · body · CRC-32C of everything before it u32
//   body = lease count · attached key count ·
//          per lease, ascending by id: id i64 · grantedTtl · remainingTtl · key count ·
//                                      keys (length-prefixed), ascending

import { crc32c } from '@synod/core/hashing';
import { compareBytes } from '../mvcc/bytes.js';
import { ByteReader, ByteWriter, TruncatedInputError } from '../mvcc/encoding.js';
import { LEASE_TTL_SECONDS_MAX, NO_LEASE } from './lease-types.js';

const MAGIC = new Uint8Array([0x53, 0x4c, 0x53, 0x45]); // "SLSE"
/** Bump on any layout change; restore refuses versions it does not know. */
export const LEASE_SNAPSHOT_FORMAT_VERSION = 1;
const HEADER_BYTES = MAGIC.length + 4;
const TRAILER_BYTES = 4;
/** Smallest encoded key (a length and one byte): bounds counts read from untrusted input. */
const KEY_BYTES_MIN = 2;
/** Smallest encoded lease (id, two TTLs, key count). */
const LEASE_BYTES_MIN = 8 + 3;

export type LeaseSnapshotErrorCode = 'corrupt' | 'unsupportedVersion';

/** Snapshot bytes that cannot be restored; the message names what is wrong and where. */
export class LeaseSnapshotError extends Error {
  readonly code: LeaseSnapshotErrorCode;

  constructor(code: LeaseSnapshotErrorCode, detail: string) {
    super(
      `Lease snapshot cannot be restored: ${detail}. ` +
        'Restore this member from an intact snapshot (another member has one) or replay its log.',
    );
    this.name = 'LeaseSnapshotError';
    this.code = code;
  }
}

/** One lease as the snapshot carries it. */
export interface SnapshotLease {
  readonly id: bigint;
  readonly grantedTtl: number;
  readonly remainingTtl: number;
  /** Ascending, non-empty, each attached to this lease only. */
  readonly keys: readonly Uint8Array[];
}

/** Encodes leases given ascending by id, each with its keys ascending. */
export function encodeLeaseSnapshot(leases: readonly SnapshotLease[], attachedKeys: number): Uint8Array {
  const writer = new ByteWriter();
  writer.raw(MAGIC);
  writer.uint32(LEASE_SNAPSHOT_FORMAT_VERSION);
  writer.uvarint(leases.length);
  writer.uvarint(attachedKeys);
  for (const lease of leases) {
    writer.int64(lease.id);
    writer.uvarint(lease.grantedTtl);
    writer.uvarint(lease.remainingTtl);
    writer.uvarint(lease.keys.length);
    for (const key of lease.keys) writer.lengthPrefixed(key);
  }
  writer.uint32(crc32c(writer.bytes()));
  return writer.bytes().slice();
}

/** @throws LeaseSnapshotError on anything but an intact snapshot of a known format. */
export function decodeLeaseSnapshot(bytes: Uint8Array): SnapshotLease[] {
  checkEnvelope(bytes);
  const reader = new ByteReader(bytes.subarray(HEADER_BYTES, bytes.length - TRAILER_BYTES));
  try {
    return decodeBody(reader);
  } catch (error) {
    if (error instanceof TruncatedInputError) {
      throw new LeaseSnapshotError('corrupt', `${error.message} (body offset ${reader.offset})`);
    }
    throw error;
  }
}

function checkEnvelope(bytes: Uint8Array): void {
  if (bytes.length < HEADER_BYTES + TRAILER_BYTES) {
    throw new LeaseSnapshotError('corrupt', `${bytes.length} bytes is shorter than any lease snapshot`);
  }
  for (let i = 0; i < MAGIC.length; i++) {
    if (bytes[i] !== MAGIC[i]) {
      throw new LeaseSnapshotError('corrupt', 'it does not start with the lease snapshot magic "SLSE"');
    }
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(MAGIC.length, true);
  if (version !== LEASE_SNAPSHOT_FORMAT_VERSION) {
    throw new LeaseSnapshotError(
      'unsupportedVersion',
      `format version ${version} is not the supported version ${LEASE_SNAPSHOT_FORMAT_VERSION}`,
    );
  }
  const bodyEnd = bytes.length - TRAILER_BYTES;
  const stored = view.getUint32(bodyEnd, true);
  const computed = crc32c(bytes.subarray(0, bodyEnd));
  if (stored !== computed) {
    throw new LeaseSnapshotError(
      'corrupt',
      `checksum mismatch (stored 0x${stored.toString(16)}, computed 0x${computed.toString(16)})`,
    );
  }
}

function decodeBody(reader: ByteReader): SnapshotLease[] {
  const leaseCount = boundedCount(reader, 'lease count', LEASE_BYTES_MIN);
  const attachedKeys = boundedCount(reader, 'attached key count', KEY_BYTES_MIN);
  const leases: SnapshotLease[] = [];
  let seenKeys = 0;
  for (let i = 0; i < leaseCount; i++) {
    const lease = readLease(reader);
    const previous = leases.at(-1);
    if (previous !== undefined && previous.id >= lease.id) {
      throw new LeaseSnapshotError('corrupt', `lease ${lease.id} is out of order or repeated`);
    }
    seenKeys += lease.keys.length;
    leases.push(lease);
  }
  if (seenKeys !== attachedKeys || reader.remaining !== 0) {
    throw new LeaseSnapshotError(
      'corrupt',
      `body holds ${seenKeys} keys and ${reader.remaining} extra bytes; header said ${attachedKeys} and 0`,
    );
  }
  return leases;
}

function readLease(reader: ByteReader): SnapshotLease {
  const id = reader.int64();
  const grantedTtl = reader.uvarint();
  const remainingTtl = reader.uvarint();
  if (id === NO_LEASE || grantedTtl < 1 || grantedTtl > LEASE_TTL_SECONDS_MAX) {
    throw new LeaseSnapshotError('corrupt', `lease ${id} with TTL ${grantedTtl} is impossible`);
  }
  if (remainingTtl > LEASE_TTL_SECONDS_MAX) {
    throw new LeaseSnapshotError('corrupt', `lease ${id} has remaining TTL ${remainingTtl}`);
  }
  const keyCount = boundedCount(reader, `key count of lease ${id}`, KEY_BYTES_MIN);
  const keys: Uint8Array[] = [];
  for (let k = 0; k < keyCount; k++) {
    const key = reader.lengthPrefixed();
    const previous = keys.at(-1);
    if (key.length === 0 || (previous !== undefined && compareBytes(previous, key) >= 0)) {
      throw new LeaseSnapshotError('corrupt', `key ${k} of lease ${id} is empty or out of order`);
    }
    keys.push(key);
  }
  return { id, grantedTtl, remainingTtl, keys };
}

/** A count that the remaining bytes could hold: never allocate for a count the input cannot back. */
function boundedCount(reader: ByteReader, what: string, itemBytesMin: number): number {
  const count = reader.uvarint();
  if (count > reader.remaining / itemBytesMin) {
    throw new LeaseSnapshotError(
      'corrupt',
      `${what} ${count} exceeds what ${reader.remaining} bytes can hold`,
    );
  }
  return count;
}
