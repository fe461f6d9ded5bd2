// The store as bytes, so a node restarts from a snapshot instead of replaying the whole log.
// Layout (little-endian; varints are unsigned LEB128):
//   magic "SMVC" · format version u32 · body · CRC-32C of everything before it u32
//   body = revision · compactedRevision + 1 · key count · key revision count ·
//          per key, ascending: key (length-prefixed) · revision count · revisions, oldest first
//   revision = main · sub · kind (0 delete, 1 put) · for a put: createRevision · version ·
//              lease i64 · value (length-prefixed)

import { crc32c } from '@synod/core/hashing';
import { compareBytes, type RangeBound } from './bytes.js';
import { ByteReader, ByteWriter, TruncatedInputError } from './encoding.js';
import { KEY_REVISION_PUT, KEY_REVISION_TOMBSTONE, writeKeyRevision } from './hash.js';
import { KeyHistory, type KeyRevision } from './key-history.js';
import type { KeyIndex } from './key-index.js';

const MAGIC = new Uint8Array([0x53, 0x4d, 0x56, 0x43]); // "SMVC"
/** Bump on any layout change; restore refuses versions it does not know. */
export const MVCC_SNAPSHOT_FORMAT_VERSION = 1;
const HEADER_BYTES = MAGIC.length + 4;
const TRAILER_BYTES = 4;
const VARINT_BYTES_MAX = 8;
/** Smallest encoded key revision (main, sub, kind): bounds counts read from untrusted input. */
const KEY_REVISION_BYTES_MIN = 3;

export type MvccSnapshotErrorCode = 'corrupt' | 'unsupportedVersion';

/** Snapshot bytes that cannot be restored; the message names what is wrong and where. */
export class MvccSnapshotError extends Error {
  readonly code: MvccSnapshotErrorCode;

  constructor(code: MvccSnapshotErrorCode, detail: string) {
    super(
      `MVCC snapshot cannot be restored: ${detail}. ` +
        'Restore this member from an intact snapshot (another member has one) or replay its log.',
    );
    this.name = 'MvccSnapshotError';
    this.code = code;
  }
}

export interface DecodedSnapshot {
  readonly revision: number;
  readonly compactedRevision: number;
  /** Ascending by key, each with at least one revision. */
  readonly histories: KeyHistory[];
}

/** Bytes a snapshot step encodes before it stops (one step is one bounded pause of the caller). */
export const SNAPSHOT_STEP_BYTES_DEFAULT = 256 * 1024;
/** Room beyond a step's budget for the key revision that crosses it. */
const STEP_OVERSHOOT_BYTES = 64 * 1024;

/** What the store tells an encoder when it starts. */
export interface SnapshotSource {
  readonly index: KeyIndex;
  readonly revision: number;
  readonly compactedRevision: number;
  /** Keys and key revisions now: every one is at or below `revision`, so all are encoded. */
  readonly keyCount: number;
  readonly keyRevisionCount: number;
  /** False once a compaction ran: it drops history the snapshot still has to encode. */
  readonly unchanged: () => boolean;
}

/**
 * Encodes the store as it was at one revision, a bounded piece per {@link step}, while writes go
 * on between the pieces: history is kept by revision, so later writes only add key revisions
 * above the snapshot's revision (skipped here) and keys created after it (skipped too). A
 * compaction is the one write that removes history; it makes the encoder {@link stale}, and the
 * caller starts again. The bytes equal what a one-go encoding at the start would have given.
 */
export class MvccSnapshotEncoder {
  private readonly source: SnapshotSource;
  private readonly chunks: Uint8Array[] = [];
  private byteLength = 0;
  /** CRC-32C of every byte encoded so far (the trailer is the CRC of all of them). */
  private crc = 0;
  /** The last key encoded (perhaps only in part): the next step starts at or after it. */
  private lastKey: Uint8Array | undefined;
  /**
   * Revisions of `lastKey` encoded so far when a step stopped inside its history, else 0. A key
   * with a long history (a hot key never compacted) spans steps like any other bytes, so no step
   * is bounded by the longest history instead of the budget.
   */
  private lastKeyRevisionsEncoded = 0;
  private keysEncoded = 0;
  private keyRevisionsEncoded = 0;
  private complete = false;

  constructor(source: SnapshotSource) {
    this.source = source;
    const header = new ByteWriter(HEADER_BYTES + 4 * VARINT_BYTES_MAX);
    header.raw(MAGIC);
    header.uint32(MVCC_SNAPSHOT_FORMAT_VERSION);
    header.uvarint(source.revision);
    header.uvarint(source.compactedRevision + 1);
    header.uvarint(source.keyCount);
    header.uvarint(source.keyRevisionCount);
    this.push(header.bytes().slice());
  }

  /** True once a compaction ran since the start: the encoding cannot finish. */
  get stale(): boolean {
    return !this.source.unchanged();
  }

  /** Encodes key revisions until about `bytesBudget` bytes are written; true once every one is. */
  step(bytesBudget = SNAPSHOT_STEP_BYTES_DEFAULT): boolean {
    if (this.complete) return true;
    if (this.stale) throw new Error('MVCC snapshot step after a compaction: start a new snapshot');
    const { index, revision } = this.source;
    // Room for the budget and the revision that crosses it: the step's buffer rarely has to grow.
    const writer = new ByteWriter(Math.min(bytesBudget, SNAPSHOT_STEP_BYTES_DEFAULT) + STEP_OVERSHOOT_BYTES);
    let finished = true;
    const after = this.lastKey;
    const resumeAt = this.lastKeyRevisionsEncoded;
    let first = true;
    index.visit(after ?? EMPTY_KEY, EVERY_KEY_FROM, (history) => {
      let from = 0;
      if (first) {
        first = false;
        // The visit starts at the last key encoded: skip it, or go on inside its history.
        if (after !== undefined && compareBytes(history.key, after) === 0) {
          if (resumeAt === 0) return true;
          from = resumeAt;
        } else if (resumeAt > 0) {
          throw new Error('MVCC snapshot step: a key encoded in part is gone without a compaction');
        }
      }
      if (from === 0 && writer.byteLength >= bytesBudget) {
        finished = false;
        return false;
      }
      const kept = revisionsAtOrBefore(history.revisions, revision);
      // A key first written after the snapshot's revision did not exist then.
      if (kept === 0) return true;
      if (from === 0) {
        writer.lengthPrefixed(history.key);
        writer.uvarint(kept);
        this.keysEncoded++;
      }
      // At least one revision per step, so every step makes progress whatever the budget.
      let next = from;
      do writeKeyRevision(writer, history.revisions[next++]!);
      while (next < kept && writer.byteLength < bytesBudget);
      this.keyRevisionsEncoded += next - from;
      this.lastKey = history.key;
      this.lastKeyRevisionsEncoded = next < kept ? next : 0;
      if (next < kept) {
        finished = false;
        return false;
      }
      return true;
    });
    // The writer is not used again: its bytes are the piece, uncopied (the assembly copies once).
    if (writer.byteLength > 0) this.push(writer.bytes());
    if (!finished) return false;
    // Every key of the start was still there (only a compaction removes keys): the header's counts hold.
    if (
      this.keysEncoded !== this.source.keyCount ||
      this.keyRevisionsEncoded !== this.source.keyRevisionCount
    ) {
      throw new Error(
        `MVCC snapshot encoded ${this.keysEncoded} keys and ${this.keyRevisionsEncoded} key revisions; the store had ${this.source.keyCount} and ${this.source.keyRevisionCount} at revision ${revision}`,
      );
    }
    const trailer = new Uint8Array(TRAILER_BYTES);
    new DataView(trailer.buffer).setUint32(0, this.crc, true);
    this.push(trailer);
    this.complete = true;
    return true;
  }

  /**
   * The encoded pieces in order (their concatenation is the snapshot) and the CRC-32C of all of
   * them, for a container that checksums the snapshot again without reading it a second time.
   */
  finish(): { readonly chunks: readonly Uint8Array[]; readonly byteLength: number; readonly crc: number } {
    if (!this.complete) throw new Error('MVCC snapshot finished before its last step');
    return { chunks: this.chunks, byteLength: this.byteLength, crc: this.crc };
  }

  private push(chunk: Uint8Array): void {
    this.chunks.push(chunk);
    this.byteLength += chunk.byteLength;
    this.crc = crc32c(chunk, this.crc);
  }
}

const EMPTY_KEY = new Uint8Array(0);
const EVERY_KEY_FROM: RangeBound = { kind: 'fromKey' };

/** How many of `revisions` (ascending) are at or below `revision`: later ones are at the end. */
function revisionsAtOrBefore(revisions: readonly KeyRevision[], revision: number): number {
  let count = revisions.length;
  while (count > 0 && revisions[count - 1]!.main > revision) count--;
  return count;
}

/** Joins pieces into one array (the snapshot's bytes). */
export function concatChunks(chunks: readonly Uint8Array[], byteLength: number): Uint8Array {
  const bytes = new Uint8Array(byteLength);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

/** @throws MvccSnapshotError on anything but an intact snapshot of a known format. */
export function decodeSnapshot(bytes: Uint8Array): DecodedSnapshot {
  if (bytes.length < HEADER_BYTES + TRAILER_BYTES) {
    throw new MvccSnapshotError('corrupt', `${bytes.length} bytes is shorter than any snapshot`);
  }
  for (let i = 0; i < MAGIC.length; i++) {
    if (bytes[i] !== MAGIC[i])
      throw new MvccSnapshotError('corrupt', 'it does not start with the MVCC snapshot magic "SMVC"');
  }
  const header = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = header.getUint32(MAGIC.length, true);
  if (version !== MVCC_SNAPSHOT_FORMAT_VERSION) {
    throw new MvccSnapshotError(
      'unsupportedVersion',
      `format version ${version} is not the supported version ${MVCC_SNAPSHOT_FORMAT_VERSION}`,
    );
  }
  const bodyEnd = bytes.length - TRAILER_BYTES;
  const stored = header.getUint32(bodyEnd, true);
  const computed = crc32c(bytes.subarray(0, bodyEnd));
  if (stored !== computed) {
    throw new MvccSnapshotError(
      'corrupt',
      `checksum mismatch (stored 0x${stored.toString(16)}, computed 0x${computed.toString(16)})`,
    );
  }
  const body = new ByteReader(bytes.subarray(HEADER_BYTES, bodyEnd));
  try {
    return decodeBody(body);
  } catch (error) {
    if (error instanceof TruncatedInputError) {
      throw new MvccSnapshotError('corrupt', `${error.message} (body offset ${body.offset})`);
    }
    throw error;
  }
}

function decodeBody(reader: ByteReader): DecodedSnapshot {
  const revision = reader.uvarint();
  const compactedRevision = reader.uvarint() - 1;
  if (revision < 1 || compactedRevision > revision) {
    throw new MvccSnapshotError(
      'corrupt',
      `revision ${revision} with compaction at ${compactedRevision} is impossible`,
    );
  }
  const keyCount = boundedCount(reader, 'key count');
  const keyRevisionCount = boundedCount(reader, 'key revision count');
  const histories: KeyHistory[] = [];
  let seenKeyRevisions = 0;
  for (let i = 0; i < keyCount; i++) {
    const history = new KeyHistory(reader.lengthPrefixed());
    const previous = histories.at(-1);
    if (
      history.key.length === 0 ||
      (previous !== undefined && compareBytes(previous.key, history.key) >= 0)
    ) {
      throw new MvccSnapshotError(
        'corrupt',
        `key ${i} is empty or out of order (body offset ${reader.offset})`,
      );
    }
    const count = boundedCount(reader, 'revision count');
    if (count === 0) throw new MvccSnapshotError('corrupt', `key ${i} has no revisions`);
    for (let r = 0; r < count; r++) appendChecked(history, readKeyRevision(reader, history.key, revision));
    seenKeyRevisions += count;
    histories.push(history);
  }
  if (seenKeyRevisions !== keyRevisionCount || reader.remaining !== 0) {
    throw new MvccSnapshotError(
      'corrupt',
      `body holds ${seenKeyRevisions} key revisions and ${reader.remaining} extra bytes; header said ${keyRevisionCount} and 0`,
    );
  }
  return { revision, compactedRevision, histories };
}

/** A count that the remaining bytes could hold: never allocate for a count the input cannot back. */
function boundedCount(reader: ByteReader, what: string): number {
  const count = reader.uvarint();
  if (count > reader.remaining / KEY_REVISION_BYTES_MIN + 1) {
    throw new MvccSnapshotError(
      'corrupt',
      `${what} ${count} exceeds what ${reader.remaining} bytes can hold`,
    );
  }
  return count;
}

function readKeyRevision(reader: ByteReader, key: Uint8Array, storeRevision: number): KeyRevision {
  const main = reader.uvarint();
  const sub = reader.uvarint();
  const kind = reader.uint8();
  if (main < 1 || main > storeRevision) {
    throw new MvccSnapshotError('corrupt', `key revision ${main} is outside 1..${storeRevision}`);
  }
  if (kind === KEY_REVISION_TOMBSTONE) return { main, sub, kv: undefined };
  if (kind !== KEY_REVISION_PUT) throw new MvccSnapshotError('corrupt', `unknown key revision kind ${kind}`);
  const createRevision = reader.uvarint();
  const version = reader.uvarint();
  const lease = reader.int64();
  const value = reader.lengthPrefixed();
  if (createRevision < 1 || createRevision > main || version < 1) {
    throw new MvccSnapshotError(
      'corrupt',
      `put at ${main} has createRevision ${createRevision}, version ${version}`,
    );
  }
  return { main, sub, kv: { key, createRevision, modRevision: main, version, value, lease } };
}

function appendChecked(history: KeyHistory, change: KeyRevision): void {
  const last = history.revisions.at(-1);
  if (
    last !== undefined &&
    (change.main < last.main || (change.main === last.main && change.sub <= last.sub))
  ) {
    throw new MvccSnapshotError('corrupt', `key revisions out of order at ${change.main}.${change.sub}`);
  }
  history.revisions.push(change);
}
