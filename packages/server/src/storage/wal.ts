// Segmented write-ahead log with group commit. Appends queue up while a durable write runs; the
// next round writes everything queued in one durable write (O_DSYNC, or write + fdatasync), so N
// concurrent appends cost about two syncs, not N (TigerStyle: batch, don't react per event).
// Segments rotate at segmentBytesMax; each opens with a header and the current hard state, so
// older segments can be deleted once a snapshot covers their entries (releaseTo).
import { constants as fsConstants } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { open, readdir, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { HardState } from '@synod/raft';
import { ensureDirectory, fsyncDirectory, TEMP_SUFFIX, writeFully } from './durable-file.js';
import { STORAGE_ERROR_CODES, StorageCorruptionError, WalFailedError } from './errors.js';
import type { WalRecord } from './wal-record.js';
import { countFrames, encodeRecords, WAL_FORMAT_VERSION } from './wal-record.js';
import { LogReplay } from './wal-replay.js';
import type { SegmentName, SegmentScan } from './wal-segment.js';
import { parseSegmentFileName, scanSegment, segmentFileName } from './wal-segment.js';
import { WalStats } from './wal-stats.js';

/** Segment size at which the WAL starts a new file (etcd uses the same 64 MiB). */
export const DEFAULT_SEGMENT_BYTES_MAX = 64 * 1024 * 1024;
/** Bytes one group-commit round writes at most (a single larger append still goes alone). */
export const WRITE_BATCH_BYTES_MAX = 16 * 1024 * 1024;
/** Appends waiting for the disk; more means the caller lost its own bound (a bug). */
export const PENDING_APPENDS_MAX = 65_536;
/**
 * The current segment is zero-filled (and synced) this far ahead of the appends, one chunk at a
 * time in the background. A durable write inside a file's existing length changes no metadata,
 * so its sync writes the data alone; an append that extends the file also has to write the inode
 * every time (on ext4: twice the latency and about a third more system CPU per write). Recovery
 * reads the zeros after the last record as unused space. etcd preallocates its segments too.
 */
export const PREALLOCATION_AHEAD_BYTES = 4 * 1024 * 1024;
/** Zeros written per call while preallocating (one shared zero buffer of this size). */
const ZERO_WRITE_BYTES = 1024 * 1024;

/**
 * Segments are appended through descriptors opened with O_DSYNC where the platform has it: each
 * write returns once its data is durable, so a group-commit round is one trip to the I/O thread
 * pool instead of two (write, then fdatasync), which shortens every commit. Elsewhere (Windows)
 * the WAL writes and then calls fdatasync.
 */
const SYNCHRONOUS_WRITES = fsConstants.O_DSYNC;
/** Flags to append to an existing segment. */
const APPEND_FLAGS = SYNCHRONOUS_WRITES === undefined ? 'r+' : fsConstants.O_RDWR | SYNCHRONOUS_WRITES;
/** Flags to create a new segment (through its temp name). */
const CREATE_FLAGS =
  SYNCHRONOUS_WRITES === undefined
    ? 'w'
    : fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_TRUNC | SYNCHRONOUS_WRITES;

/** pino-style logger: structured object first, message second. */
export interface StorageLogger {
  warn(object: object, message: string): void;
  info(object: object, message: string): void;
}

export interface WalOptions {
  readonly logger: StorageLogger;
  /** Rotate to a new segment once the current one would exceed this. Default 64 MiB. */
  readonly segmentBytesMax?: number;
  /**
   * Refuse to start an empty WAL (set when other durable state exists: a WAL lost by hand would
   * silently forget the term and vote). Default false: a missing WAL is created.
   */
  readonly requireExisting?: boolean;
}

interface SegmentInfo extends SegmentName {
  readonly name: string;
  /** Highest entry or snapshot-marker index written into the segment (0 if none). */
  maxIndex: number;
}

interface PendingAppend {
  readonly bytes: Buffer;
  readonly frames: number;
  readonly maxIndex: number;
  readonly lastEntryIndex: number | undefined;
  readonly hardState: HardState | undefined;
  readonly onDurable: (() => void) | undefined;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
  /** performance.now() when append() was called (append latency = queueing + write + fsync). */
  readonly queuedAtMs: number;
}

interface OpenSegment {
  readonly info: SegmentInfo;
  readonly handle: FileHandle;
  /** Where its records end: appends go on from here. */
  readonly size: number;
  /** The file's length: beyond `size` it is zeros (preallocated). */
  readonly fileBytes: number;
}

export interface WalOpenResult {
  readonly wal: Wal;
  /** The log the WAL holds, rebuilt from its records. */
  readonly replay: LogReplay;
  /** True when the directory held no segment (a fresh node, or a WAL lost by hand). */
  readonly createdFresh: boolean;
}

/**
 * The write-ahead log in one directory. Open with {@link Wal.open}; append records with
 * {@link Wal.append}, which resolves once they are fsynced.
 *
 * @example
 * const { wal, replay } = await Wal.open(join(dataDir, 'wal'), { logger });
 * await wal.append([{ type: 'hardState', hardState: { term: 2, vote: 'a', commit: 0 } }]);
 */
export class Wal {
  readonly stats: WalStats;
  private readonly directory: string;
  private readonly segmentBytesMax: number;
  private readonly segments: SegmentInfo[];
  private readonly logger: StorageLogger;
  private handle: FileHandle;
  private writeOffset: number;
  /** End of the current segment's synced zeros; below writeOffset when appends outran them. */
  private preallocatedEnd: number;
  /** The zero fill under way, from `from` on: appends wait for it before writing past `from`. */
  private preallocation: { readonly from: number; readonly done: Promise<void> } | undefined;
  /** A zero fill failed (a full disk, say): appends simply extend the file from then on. */
  private preallocationFailed = false;
  /** No zero fill starts while the segment is switched: it would write to a closing file. */
  private rotating = false;
  /** Appends written into the current segment after its opening records (rotation needs one). */
  private appendsInSegment: number;
  private lastHardState: HardState | undefined;
  private lastEntryIndex: number;
  private pending: PendingAppend[] = [];
  private flushing: Promise<void> | undefined;
  private failure: WalFailedError | undefined;
  private closed = false;

  private constructor(init: {
    directory: string;
    logger: StorageLogger;
    segmentBytesMax: number;
    segments: SegmentInfo[];
    current: OpenSegment;
    appendsInSegment: number;
    lastHardState: HardState | undefined;
    lastEntryIndex: number;
    stats: WalStats;
  }) {
    this.directory = init.directory;
    this.logger = init.logger;
    this.segmentBytesMax = init.segmentBytesMax;
    this.segments = init.segments;
    this.handle = init.current.handle;
    this.writeOffset = init.current.size;
    this.preallocatedEnd = init.current.fileBytes;
    this.appendsInSegment = init.appendsInSegment;
    this.lastHardState = init.lastHardState;
    this.lastEntryIndex = init.lastEntryIndex;
    this.stats = init.stats;
  }

  /**
   * Opens (or creates) the WAL in `directory` and replays it. A torn last record of the last
   * segment is cut off with a warning; damage anywhere else throws {@link StorageCorruptionError}.
   */
  static async open(directory: string, options: WalOptions): Promise<WalOpenResult> {
    const segmentBytesMax = options.segmentBytesMax ?? DEFAULT_SEGMENT_BYTES_MAX;
    if (!Number.isSafeInteger(segmentBytesMax) || segmentBytesMax <= 0)
      throw new RangeError(`segmentBytesMax must be a positive integer, got ${segmentBytesMax}`);
    await ensureDirectory(directory);
    const stats = new WalStats();
    const names = await listSegments(directory, options.logger);
    if (names.length === 0 && options.requireExisting)
      throw corruption(
        directory,
        undefined,
        'no segment found although snapshots exist: the term and vote it held are lost',
      );
    const replay = new LogReplay();
    const segments: SegmentInfo[] = [];
    let tail: { info: SegmentInfo; size: number; fileBytes: number; appends: number } | undefined;
    for (const [i, name] of names.entries()) {
      const previous = segments[segments.length - 1];
      if (previous && name.sequence !== previous.sequence + 1) throw missingSegment(previous, name);
      const isLast = i === names.length - 1;
      const recovered = await recoverSegment(directory, name, isLast, replay, options.logger, stats);
      segments.push(recovered.info);
      tail = recovered;
    }
    const lastEntryIndex = replay.lastIndex() ?? 0;
    const current = tail
      ? {
          info: tail.info,
          handle: await open(join(directory, tail.info.name), APPEND_FLAGS),
          size: tail.size,
          fileBytes: tail.fileBytes,
        }
      : await createSegment(directory, 0, lastEntryIndex + 1, replay.hardState, stats);
    if (!tail) segments.push(current.info);
    const wal = new Wal({
      directory,
      logger: options.logger,
      segmentBytesMax,
      segments,
      current,
      appendsInSegment: tail?.appends ?? 0,
      lastHardState: replay.hardState,
      lastEntryIndex,
      stats,
    });
    options.logger.info(
      { directory, segments: segments.length, lastIndex: replay.lastIndex() ?? 0 },
      'WAL recovered',
    );
    wal.preallocate();
    return { wal, replay, createdFresh: tail === undefined };
  }

  /**
   * Appends `records` and resolves once they are on disk (written and fdatasynced). Concurrent
   * appends share one fsync. `onDurable` runs in append order as soon as the records are durable,
   * before the promise resolves (keeps in-memory state in the same order as the log).
   */
  append(records: readonly WalRecord[], onDurable?: () => void): Promise<void> {
    if (this.closed) throw new Error('WAL append after close');
    if (this.failure) return Promise.reject(this.failure);
    if (this.pending.length >= PENDING_APPENDS_MAX)
      throw new Error(`more than ${PENDING_APPENDS_MAX} WAL appends pending: the caller does not bound them`);
    const summary = summarize(records);
    const bytes = encodeRecords(records);
    return new Promise<void>((resolve, reject) => {
      const queuedAtMs = performance.now();
      this.pending.push({
        bytes,
        frames: countFrames(records),
        ...summary,
        onDurable,
        resolve,
        reject,
        queuedAtMs,
      });
      this.flushing ??= this.startFlush();
    });
  }

  /**
   * Deletes the oldest segments whose entries all lie at or below `index` (covered by a durable
   * snapshot). The current segment is never deleted. Returns how many segments went.
   */
  async releaseTo(index: number): Promise<number> {
    const released: SegmentInfo[] = [];
    while (this.segments.length > 1 && this.segments[0]!.maxIndex <= index)
      released.push(this.segments.shift()!);
    if (released.length === 0) return 0;
    // Oldest first: a crash midway leaves a contiguous run of segments, which recovery accepts.
    for (const segment of released) await unlink(join(this.directory, segment.name));
    await fsyncDirectory(this.directory);
    this.stats.directoryFsyncs++;
    this.stats.segmentsReleased += released.length;
    return released.length;
  }

  /** Names of the live segments, oldest first. */
  segmentNames(): string[] {
    return this.segments.map((segment) => segment.name);
  }

  /** Waits for queued appends to finish, then closes the current segment. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.flushing;
    await this.preallocation?.done;
    await this.handle.close();
  }

  /**
   * The first append of an idle WAL is written at once: the Raft driver appends once per turn, so
   * waiting for the end of the turn would gather nothing more, and under load it costs a whole
   * event-loop turn (all the requests that arrived meanwhile) before every commit. Appends made
   * while a write runs are gathered into the next one (group commit).
   */
  private startFlush(): Promise<void> {
    return this.flushLoop();
  }

  private async flushLoop(): Promise<void> {
    while (this.pending.length > 0) {
      const batch = this.takeBatch();
      try {
        await this.writeBatch(batch);
      } catch (error) {
        this.fail(error, batch);
        break;
      }
      this.completeBatch(batch);
    }
    this.flushing = undefined;
  }

  private takeBatch(): PendingAppend[] {
    let count = 0;
    let bytes = 0;
    for (const append of this.pending) {
      if (count > 0 && bytes + append.bytes.length > WRITE_BATCH_BYTES_MAX) break;
      bytes += append.bytes.length;
      count++;
    }
    return this.pending.splice(0, count);
  }

  /** One write and one fdatasync per segment the batch touches (two only when it rotates). */
  private async writeBatch(batch: readonly PendingAppend[]): Promise<void> {
    let chunk: PendingAppend[] = [];
    let chunkBytes = 0;
    for (const append of batch) {
      const wouldExceed = this.writeOffset + chunkBytes + append.bytes.length > this.segmentBytesMax;
      if (wouldExceed && this.appendsInSegment > 0) {
        await this.writeAndSync(chunk, chunkBytes);
        chunk = [];
        chunkBytes = 0;
        await this.rotate();
      }
      chunk.push(append);
      chunkBytes += append.bytes.length;
      this.noteWritten(append);
    }
    await this.writeAndSync(chunk, chunkBytes);
  }

  private async writeAndSync(chunk: readonly PendingAppend[], chunkBytes: number): Promise<void> {
    if (chunk.length === 0) return;
    const data =
      chunk.length === 1
        ? chunk[0]!.bytes
        : Buffer.concat(
            chunk.map((append) => append.bytes),
            chunkBytes,
          );
    // Never write where a zero fill still runs: it could land after the data and wipe it. (A loop:
    // the end of one fill may start the next.)
    while (this.preallocation !== undefined && this.writeOffset + chunkBytes > this.preallocation.from)
      await this.preallocation.done;
    const started = performance.now();
    await writeFully(this.handle, data, this.writeOffset);
    this.writeOffset += chunkBytes;
    this.preallocate();
    if (SYNCHRONOUS_WRITES === undefined) await this.handle.datasync();
    // With O_DSYNC the write itself is the sync: its time is what the fsync metric stands for.
    this.stats.recordFsyncLatency(performance.now() - started);
    this.stats.fsyncs++;
    this.stats.bytesWritten += chunkBytes;
    for (const append of chunk) this.stats.recordsWritten += append.frames;
  }

  /** Tracks what the next segment header needs and what releaseTo may delete. */
  private noteWritten(append: PendingAppend): void {
    const segment = this.segments[this.segments.length - 1]!;
    segment.maxIndex = Math.max(segment.maxIndex, append.maxIndex);
    if (append.lastEntryIndex !== undefined) this.lastEntryIndex = append.lastEntryIndex;
    if (append.hardState) this.lastHardState = append.hardState;
    this.appendsInSegment++;
  }

  /**
   * Starts zero-filling the next chunk of the current segment unless the zeros already reach
   * PREALLOCATION_AHEAD_BYTES past the appends (or the segment's size limit).
   */
  private preallocate(): void {
    if (this.preallocation !== undefined || this.preallocationFailed || this.closed || this.rotating) return;
    const from = Math.max(this.preallocatedEnd, this.writeOffset);
    if (from - this.writeOffset >= PREALLOCATION_AHEAD_BYTES) return;
    const to = Math.min(from + PREALLOCATION_AHEAD_BYTES, this.segmentBytesMax);
    if (to <= from) return;
    const handle = this.handle;
    const done = writeZeros(handle, from, to).then(
      () => {
        this.stats.bytesPreallocated += to - from;
        if (this.handle === handle) this.preallocatedEnd = to;
      },
      (error: unknown) => {
        this.preallocationFailed = true;
        this.logger.warn(
          { err: error, directory: this.directory },
          'preallocating WAL space failed; appends extend the segment instead (slower syncs)',
        );
      },
    );
    this.preallocation = {
      from,
      done: done.finally(() => {
        this.preallocation = undefined;
        this.preallocate();
      }),
    };
  }

  private async rotate(): Promise<void> {
    this.rotating = true;
    try {
      await this.preallocation?.done;
      const sequence = this.segments[this.segments.length - 1]!.sequence + 1;
      const next = await createSegment(
        this.directory,
        sequence,
        this.lastEntryIndex + 1,
        this.lastHardState,
        this.stats,
      );
      await this.handle.close();
      this.handle = next.handle;
      this.writeOffset = next.size;
      this.preallocatedEnd = next.fileBytes;
      this.appendsInSegment = 0;
      this.segments.push(next.info);
    } finally {
      this.rotating = false;
    }
    this.preallocate();
  }

  private completeBatch(batch: readonly PendingAppend[]): void {
    const durableAtMs = performance.now();
    for (const append of batch) {
      this.stats.appends++;
      this.stats.recordAppendLatency(durableAtMs - append.queuedAtMs);
      try {
        append.onDurable?.();
      } catch (error) {
        append.reject(error);
        continue;
      }
      append.resolve();
    }
  }

  /** After a failed write or fsync nothing is known about the disk: refuse everything from now on. */
  private fail(cause: unknown, batch: readonly PendingAppend[]): void {
    this.failure = new WalFailedError(
      `writing the WAL in ${this.directory} failed (${String(cause)}); the node must restart to recover from what reached the disk`,
      { cause },
    );
    const failed = [...batch, ...this.pending];
    this.pending = [];
    for (const append of failed) append.reject(this.failure);
  }
}

/** What a group of records changes in the WAL's bookkeeping. */
function summarize(
  records: readonly WalRecord[],
): Pick<PendingAppend, 'maxIndex' | 'lastEntryIndex' | 'hardState'> {
  let maxIndex = 0;
  let lastEntryIndex: number | undefined;
  let hardState: HardState | undefined;
  for (const record of records) {
    if (record.type === 'entries' && record.entries.length > 0) {
      lastEntryIndex = record.entries[record.entries.length - 1]!.index;
      maxIndex = Math.max(maxIndex, lastEntryIndex);
    } else if (record.type === 'snapshotMarker') {
      maxIndex = Math.max(maxIndex, record.index);
      lastEntryIndex = Math.max(lastEntryIndex ?? 0, record.index);
    } else if (record.type === 'hardState') {
      hardState = record.hardState;
    } else if (record.type === 'segmentHeader') {
      throw new Error('segment headers are written by the WAL itself');
    }
  }
  return { maxIndex, lastEntryIndex, hardState };
}

/** Segment names in sequence order; leftover temp files (never acknowledged) are removed. */
async function listSegments(directory: string, logger: StorageLogger): Promise<SegmentName[]> {
  const names = await readdir(directory);
  const temps = names.filter((name) => name.endsWith(TEMP_SUFFIX));
  for (const name of temps) await unlink(join(directory, name));
  if (temps.length > 0) {
    await fsyncDirectory(directory);
    logger.warn({ directory, files: temps }, 'removed unfinished WAL segment files left by a crash');
  }
  return names
    .map(parseSegmentFileName)
    .filter((name): name is SegmentName => name !== undefined)
    .sort((a, b) => a.sequence - b.sequence);
}

/** Reads one segment into `replay`, cutting a torn tail off the last one. */
async function recoverSegment(
  directory: string,
  name: SegmentName,
  isLast: boolean,
  replay: LogReplay,
  logger: StorageLogger,
  stats: WalStats,
): Promise<{ info: SegmentInfo; size: number; fileBytes: number; appends: number }> {
  const fileName = segmentFileName(name.sequence, name.firstIndex);
  const path = join(directory, fileName);
  const bytes = await readFile(path);
  const scan = scanSegment(bytes);
  const { damage } = scan;
  if (damage && !(isLast && damage.tornTail)) throw corruption(fileName, damage.offset, damage.reason);
  const info: SegmentInfo = { ...name, name: fileName, maxIndex: 0 };
  replaySegment(info, scan, replay);
  if (damage) {
    await truncateFile(path, scan.validEnd);
    stats.tornTailsTruncated++;
    logger.warn(
      { file: fileName, offset: damage.offset, reason: damage.reason },
      'WAL ends in a torn record (a crash during the last write, never acknowledged); truncated it',
    );
  }
  return {
    info,
    size: scan.validEnd,
    fileBytes: damage ? scan.validEnd : bytes.length,
    appends: Math.max(0, scan.records.length - 1),
  };
}

function replaySegment(info: SegmentInfo, scan: SegmentScan, replay: LogReplay): void {
  const header = scan.records[0];
  if (header?.record.type !== 'segmentHeader') throw corruption(info.name, 0, 'segment header missing');
  const { formatVersion, sequence, firstIndex } = header.record;
  if (formatVersion !== WAL_FORMAT_VERSION)
    throw corruption(
      info.name,
      0,
      `written in WAL format ${formatVersion}, this build reads ${WAL_FORMAT_VERSION}`,
    );
  if (sequence !== info.sequence || firstIndex !== info.firstIndex)
    throw corruption(info.name, 0, `header says ${segmentFileName(sequence, firstIndex)}`);
  for (const { record, offset } of scan.records.slice(1)) {
    if (record.type === 'segmentHeader')
      throw corruption(info.name, offset, 'segment header inside a segment');
    const problem = replay.apply(record);
    if (problem !== undefined) throw corruption(info.name, offset, problem);
    if (record.type === 'entries') info.maxIndex = Math.max(info.maxIndex, record.entries.at(-1)!.index);
    if (record.type === 'snapshotMarker') info.maxIndex = Math.max(info.maxIndex, record.index);
  }
}

/**
 * Creates a segment all or nothing: header (and hard state, so older segments can go) written
 * to a temp file and fdatasynced, then renamed into place and the directory fsynced.
 */
async function createSegment(
  directory: string,
  sequence: number,
  firstIndex: number,
  hardState: HardState | undefined,
  stats: WalStats,
): Promise<OpenSegment> {
  const name = segmentFileName(sequence, firstIndex);
  const records: WalRecord[] = [
    { type: 'segmentHeader', formatVersion: WAL_FORMAT_VERSION, sequence, firstIndex },
  ];
  if (hardState) records.push({ type: 'hardState', hardState });
  const bytes = encodeRecords(records);
  const temp = join(directory, name + TEMP_SUFFIX);
  const handle = await open(temp, CREATE_FLAGS);
  try {
    await writeFully(handle, bytes, 0);
    await handle.datasync();
    stats.fsyncs++;
    await rename(temp, join(directory, name));
    await fsyncDirectory(directory);
    stats.directoryFsyncs++;
  } catch (error) {
    await handle.close();
    throw error;
  }
  stats.segmentsCreated++;
  stats.bytesWritten += bytes.length;
  stats.recordsWritten += records.length;
  return {
    info: { sequence, firstIndex, name, maxIndex: 0 },
    handle,
    size: bytes.length,
    fileBytes: bytes.length,
  };
}

let zeros: Buffer | undefined;

/** Writes zeros over [from, to) of the file (durably: segment handles are O_DSYNC, or synced here). */
async function writeZeros(handle: FileHandle, from: number, to: number): Promise<void> {
  zeros ??= Buffer.alloc(ZERO_WRITE_BYTES);
  for (let offset = from; offset < to; offset += ZERO_WRITE_BYTES)
    await writeFully(handle, zeros.subarray(0, Math.min(ZERO_WRITE_BYTES, to - offset)), offset);
  if (SYNCHRONOUS_WRITES === undefined) await handle.datasync();
}

async function truncateFile(path: string, length: number): Promise<void> {
  const handle = await open(path, 'r+');
  try {
    await handle.truncate(length);
    await handle.datasync();
  } finally {
    await handle.close();
  }
}

function corruption(file: string, offset: number | undefined, reason: string): StorageCorruptionError {
  return new StorageCorruptionError({ code: STORAGE_ERROR_CODES.walCorrupt, file, offset, reason });
}

function missingSegment(previous: SegmentInfo, next: SegmentName): StorageCorruptionError {
  const missing = previous.sequence + 1;
  return corruption(
    segmentFileName(next.sequence, next.firstIndex),
    undefined,
    `segment ${missing} is missing: the sequence jumps from ${previous.sequence} to ${next.sequence}`,
  );
}
