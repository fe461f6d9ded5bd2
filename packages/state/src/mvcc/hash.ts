// hashKv: a checksum of the kept history, for comparing replicas (etcd's HashKV). Every kept
// key revision up to the hashed revision is fed, in key then revision order, to CRC-32C.
import { crc32c } from '@synod/core/hashing';
import { ByteWriter } from './encoding.js';
import type { KeyRevision } from './key-history.js';
import type { KeyIndex } from './key-index.js';

export interface HashKvResult {
  /** CRC-32C of the kept history up to `hashRevision`. */
  readonly hash: number;
  /** The store's compaction revision (-1 when never compacted): compare hashes only when equal. */
  readonly compactRevision: number;
  readonly hashRevision: number;
}

/** Bytes of the per-record scratch buffer; it grows for larger values. */
const RECORD_BUFFER_BYTES = 256;

export function computeHashKv(index: KeyIndex, revision: number, compactRevision: number): HashKvResult {
  const record = new ByteWriter(RECORD_BUFFER_BYTES);
  let hash = 0;
  index.forEach((history) => {
    for (const change of history.revisions) {
      if (change.main > revision) break;
      record.clear();
      record.lengthPrefixed(history.key);
      writeKeyRevision(record, change);
      hash = crc32c(record.bytes(), hash);
    }
  });
  return { hash, compactRevision, hashRevision: revision };
}

/** One key revision without its key: the form shared by hashKv and snapshots. */
export function writeKeyRevision(writer: ByteWriter, change: KeyRevision): void {
  writer.uvarint(change.main);
  writer.uvarint(change.sub);
  const kv = change.kv;
  if (kv === undefined) {
    writer.uint8(KEY_REVISION_TOMBSTONE);
    return;
  }
  writer.uint8(KEY_REVISION_PUT);
  writer.uvarint(kv.createRevision);
  writer.uvarint(kv.version);
  writer.int64(kv.lease);
  writer.lengthPrefixed(kv.value);
}

export const KEY_REVISION_TOMBSTONE = 0;
export const KEY_REVISION_PUT = 1;
