// Raft snapshots on disk, one file each, named <index>-<term>.snap (16 decimal digits each, so
// names sort by index). A file is magic, format version, metadata, data and a trailing CRC-32C of
// everything before it; it is written to a temp file, fdatasynced, renamed into place and the
// directory fsynced, so a crash leaves the old set or the new file, never half a snapshot.
import { readdir, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32c, crc32cCombine } from '@synod/core/hashing';
import type { ConfState, Snapshot } from '@synod/raft';
import { nextTurn } from '../util/next-turn.js';
import { ByteReader, ByteWriter, DecodeError } from './byte-codec.js';
import { ensureDirectory, fsyncDirectory, TEMP_SUFFIX, writeFileAtomically } from './durable-file.js';
import type { StorageLogger } from './wal.js';

/** Snapshots kept on disk: the newest plus one to fall back to if it turns out damaged. */
export const DEFAULT_SNAPSHOTS_KEPT = 2;
export const SNAPSHOT_SUFFIX = '.snap';
/** Suffix given to damaged snapshots after a fallback: kept for inspection, never loaded again. */
export const BROKEN_SUFFIX = '.broken';
const SNAPSHOT_FORMAT_VERSION = 1;
const MAGIC = Buffer.from('synodsnp', 'ascii');
const CRC_BYTES = 4;
/** Bytes of snapshot data checksummed per event-loop turn while a snapshot is saved. */
const CRC_STEP_BYTES = 1024 * 1024;
const NAME_DIGITS = 16;
const SNAPSHOT_NAME_PATTERN = /^(\d{16})-(\d{16})\.snap$/;

export interface SnapshotFileName {
  readonly name: string;
  readonly index: number;
  readonly term: number;
}

export interface SnapshotStoreOptions {
  readonly logger: StorageLogger;
  /** How many snapshots to keep (≥ 1). Default 2. */
  readonly keep?: number;
}

/** A snapshot that failed to load: its file and why. */
export interface DamagedSnapshot {
  readonly name: string;
  readonly reason: string;
}

export interface LoadedSnapshot {
  /** The newest snapshot that decoded and passed its CRC; undefined when there is none at all. */
  readonly snapshot: Snapshot | undefined;
  /** Newer snapshots that were damaged and skipped (newest first). */
  readonly damaged: readonly DamagedSnapshot[];
}

export function snapshotFileName(index: number, term: number): string {
  const pad = (value: number) => String(value).padStart(NAME_DIGITS, '0');
  return `${pad(index)}-${pad(term)}${SNAPSHOT_SUFFIX}`;
}

/**
 * The snapshot directory (`<data-dir>/snap`).
 *
 * @example
 * const store = await SnapshotStore.open(join(dataDir, 'snap'), { logger });
 * await store.save(snapshot);
 * const { snapshot: newest } = await store.loadNewest();
 */
export class SnapshotStore {
  readonly directory: string;
  private readonly keep: number;
  /** Saves and prunes run one at a time, so pruning never races a rename. */
  private serial: Promise<unknown> = Promise.resolve();

  private constructor(directory: string, keep: number) {
    this.directory = directory;
    this.keep = keep;
  }

  static async open(directory: string, options: SnapshotStoreOptions): Promise<SnapshotStore> {
    const keep = options.keep ?? DEFAULT_SNAPSHOTS_KEPT;
    if (!Number.isSafeInteger(keep) || keep < 1) throw new RangeError(`keep must be ≥ 1, got ${keep}`);
    await ensureDirectory(directory);
    const temps = (await readdir(directory)).filter((name) => name.endsWith(TEMP_SUFFIX));
    for (const name of temps) await unlink(join(directory, name));
    if (temps.length > 0) {
      await fsyncDirectory(directory);
      options.logger.warn({ directory, files: temps }, 'removed unfinished snapshot files left by a crash');
    }
    return new SnapshotStore(directory, keep);
  }

  /**
   * Writes `snapshot` durably and atomically, then deletes all but the newest `keep`. Pass the
   * data's CRC-32C when it is known, and the data is not read again to checksum the file.
   */
  save(snapshot: Snapshot, dataCrc32c?: number): Promise<void> {
    return this.exclusive(async () => {
      const { index, term } = snapshot.metadata;
      await writeFileAtomically(
        join(this.directory, snapshotFileName(index, term)),
        await encodeSnapshotInSteps(snapshot, dataCrc32c),
      );
      await this.prune();
    });
  }

  /** Snapshot files, newest (highest index) first. */
  async list(): Promise<SnapshotFileName[]> {
    const files: SnapshotFileName[] = [];
    for (const name of await readdir(this.directory)) {
      const match = SNAPSHOT_NAME_PATTERN.exec(name);
      if (match) files.push({ name, index: Number(match[1]), term: Number(match[2]) });
    }
    return files.sort((a, b) => b.index - a.index || b.term - a.term);
  }

  /** The newest snapshot that passes its checks, and the newer ones that did not. */
  async loadNewest(): Promise<LoadedSnapshot> {
    const damaged: DamagedSnapshot[] = [];
    for (const file of await this.list()) {
      try {
        const snapshot = decodeSnapshot(await readFile(join(this.directory, file.name)));
        const { index, term } = snapshot.metadata;
        if (index !== file.index || term !== file.term)
          throw new DecodeError(`contents are snapshot ${snapshotFileName(index, term)}`);
        return { snapshot, damaged };
      } catch (error) {
        if (!(error instanceof DecodeError)) throw error;
        damaged.push({ name: file.name, reason: error.message });
      }
    }
    return { snapshot: undefined, damaged };
  }

  /** Renames damaged snapshots to *.broken, so they are neither loaded nor counted again. */
  quarantine(damaged: readonly DamagedSnapshot[]): Promise<void> {
    return this.exclusive(async () => {
      if (damaged.length === 0) return;
      for (const { name } of damaged)
        await rename(join(this.directory, name), join(this.directory, name + BROKEN_SUFFIX));
      await fsyncDirectory(this.directory);
    });
  }

  /** Index of the oldest snapshot kept: WAL entries above it are still needed to fall back to it. */
  async oldestKeptIndex(): Promise<number | undefined> {
    return (await this.list()).at(-1)?.index;
  }

  private async prune(): Promise<void> {
    const doomed = (await this.list()).slice(this.keep);
    if (doomed.length === 0) return;
    for (const file of doomed) await unlink(join(this.directory, file.name));
    await fsyncDirectory(this.directory);
  }

  private exclusive<T>(action: () => Promise<T>): Promise<T> {
    const result = this.serial.then(action);
    this.serial = result.catch(() => undefined);
    return result;
  }
}

/** magic | version | index | term | confState | data | crc32c(all before). */
export function encodeSnapshot(snapshot: Snapshot): Buffer {
  const head = encodeSnapshotHead(snapshot);
  const crc = crc32c(snapshot.data, crc32c(head));
  return Buffer.concat([head, snapshot.data, crcTrailer(crc)]);
}

/**
 * The same file as {@link encodeSnapshot}, as parts to write one after the other: the data is not
 * copied, and its checksum is computed a bounded piece per event-loop turn, so saving a large
 * snapshot never stalls the member for the whole of it.
 */
async function encodeSnapshotInSteps(snapshot: Snapshot, dataCrc32c?: number): Promise<Uint8Array[]> {
  const head = encodeSnapshotHead(snapshot);
  let crc = crc32c(head);
  const { data } = snapshot;
  if (dataCrc32c !== undefined)
    return [head, data, crcTrailer(crc32cCombine(crc, dataCrc32c, data.byteLength))];
  for (let start = 0; start < data.byteLength; start += CRC_STEP_BYTES) {
    if (start > 0) await nextTurn();
    crc = crc32c(data, crc, start, Math.min(data.byteLength, start + CRC_STEP_BYTES));
  }
  return [head, data, crcTrailer(crc)];
}

/** Everything before the data's bytes, ending with their length. */
function encodeSnapshotHead(snapshot: Snapshot): Buffer {
  const { index, term, confState } = snapshot.metadata;
  const writer = new ByteWriter(256);
  writer.raw(MAGIC);
  writer.uvarint(SNAPSHOT_FORMAT_VERSION);
  writer.uvarint(index);
  writer.uvarint(term);
  for (const list of [
    confState.voters,
    confState.votersOutgoing,
    confState.learners,
    confState.learnersNext,
  ]) {
    writer.uvarint(list.length);
    for (const node of list) writer.string(node);
  }
  writer.u8(confState.autoLeave ? 1 : 0);
  writer.uvarint(snapshot.data.byteLength);
  return writer.finish();
}

function crcTrailer(crc: number): Buffer {
  const writer = new ByteWriter(CRC_BYTES);
  writer.u32(crc);
  return writer.finish();
}

/** Checks magic, CRC and layout; throws DecodeError on any mismatch. */
export function decodeSnapshot(bytes: Uint8Array): Snapshot {
  if (bytes.length < MAGIC.length + CRC_BYTES)
    throw new DecodeError(`file of ${bytes.length} bytes is too short`);
  if (!MAGIC.equals(bytes.subarray(0, MAGIC.length)))
    throw new DecodeError('not a snapshot file (bad magic)');
  const bodyEnd = bytes.length - CRC_BYTES;
  if (new ByteReader(bytes, bodyEnd).u32() !== crc32c(bytes, 0, 0, bodyEnd))
    throw new DecodeError('CRC mismatch');
  const reader = new ByteReader(bytes, MAGIC.length, bodyEnd);
  const version = reader.uvarint();
  if (version !== SNAPSHOT_FORMAT_VERSION)
    throw new DecodeError(
      `written in snapshot format ${version}, this build reads ${SNAPSHOT_FORMAT_VERSION}`,
    );
  const index = reader.uvarint();
  const term = reader.uvarint();
  const [voters, votersOutgoing, learners, learnersNext] = [0, 1, 2, 3].map(() => readNodeList(reader));
  const confState: ConfState = {
    voters: voters!,
    votersOutgoing: votersOutgoing!,
    learners: learners!,
    learnersNext: learnersNext!,
    autoLeave: reader.u8() === 1,
  };
  const data = reader.bytes();
  reader.expectEnd('a snapshot file');
  return { metadata: { index, term, confState }, data };
}

function readNodeList(reader: ByteReader): string[] {
  const count = reader.uvarint();
  if (count > reader.remaining) throw new DecodeError(`implausible member count ${count}`);
  return Array.from({ length: count }, () => reader.string());
}
